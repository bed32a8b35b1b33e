// Norway as country B: the NCP delivers an EU citizen's ePrescription (FHIR Bundle or eHDSI CDA); Helsebro
// stores it as it came (origin EU, never converted to M1) for the Norwegian pharmacy, which reads it as FHIR
// (GET /MedicationRequest/{id}, medication-request.ts) or on the counter page of the clinician view (src/view/).
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { buildAuditEvent } from '../../audit/build.ts';
import { recordAudit } from '../../audit/repository.ts';
import type { Result } from '../../fhir/outcomes.ts';
import { parseEuPrescriptionBundle } from '../../edispensation/eu/parse-prescription-bundle.ts';
import { parseEuPrescriptionCda } from '../../edispensation/eu/parse-prescription-cda.ts';
import { storeEuPrescriptions, type EuPrescriptionDelivery } from '../../edispensation/eu/prescription-store.ts';
import { locator, patientOfNumber } from '../locate.ts';
import { route, type Decided, type FhirRequest, type HandlerResult, type PatientLocator, type RouteContext, type RouteDef } from '../types.ts';

const CREATE = { resourceType: 'MedicationRequest', interaction: 'c' } as const;

/** The deliveries in the body and their patient, when they name one (an EU patient may have no Norwegian number). */
function deliveryBody(via: string, parse: (req: FhirRequest, ctx: RouteContext) => Result<EuPrescriptionDelivery[]>): PatientLocator<EuPrescriptionDelivery[]> {
  return locator('message-body', via, async (req, ctx) => {
    const parsed = parse(req, ctx);
    if (!parsed.ok) return parsed.problem;
    const fnrs = [...new Set(parsed.value.map((d) => d.prescription.patientFnr).filter((f): f is string => !!f))];
    return { patient: fnrs.length === 1 ? await patientOfNumber(ctx.db, fnrs[0]) : undefined, loaded: parsed.value };
  });
}

export const euPrescriptionRoutes: RouteDef[] = [
  route({
    method: 'POST',
    path: '/Bundle',
    resourceType: 'Bundle',
    interaction: 'create',
    accepts: ['json'],
    access: {
      admits: ['ncp'],
      scope: CREATE,
      audit: 'C',
      source: 'eprescription',
      patient: deliveryBody('eu-prescription-bundle', (req) => {
        const parsed = parseEuPrescriptionBundle(req.body);
        return parsed.ok ? { ok: true, value: parsed.value.map((prescription) => ({ prescription, sourceJson: req.body })), warnings: [] } : parsed;
      }),
    },
    documentation:
      'The NCP delivers an EU ePrescription as a Bundle of HL7 Europe MPD resources (MedicationRequest-eu-mpd with its Medication, Patient and prescriber). ' +
      'Each MedicationRequest is stored as one EU prescription (never converted to M1). Answer: a batch-response Bundle, 201 when something was stored, ' +
      '200 when all were stored before; 409 when a prescription id is already stored with other content (nothing is stored then).',
    handler: (req, ctx, decided) => store(req, ctx, decided, 'create'),
  }),
  route({
    method: 'POST',
    path: '/MedicationRequest/$import-ehdsi-cda',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'import-ehdsi-cda', level: 'type' },
    accepts: ['xml'],
    access: {
      admits: ['ncp'],
      scope: CREATE,
      audit: 'C',
      source: 'eprescription',
      patient: deliveryBody('eu-prescription-cda', (req, ctx) => {
        const xml = String(req.body);
        const parsed = parseEuPrescriptionCda(xml, { maxBytes: ctx.config.maxBodyBytes.xml });
        return parsed.ok ? { ok: true, value: [{ prescription: parsed.value, cdaXml: xml }], warnings: [] } : parsed;
      }),
    },
    documentation:
      'The NCP delivers an EU ePrescription as an eHDSI ePrescription CDA (LOINC 57833-6, one prescription item). Stored as an EU prescription; answers as POST /Bundle.',
    handler: (req, ctx, decided) => store(req, ctx, decided, 'operation'),
  }),
];

async function store(req: FhirRequest, ctx: RouteContext, decided: Decided<EuPrescriptionDelivery[]>, interaction: 'create' | 'operation'): Promise<HandlerResult> {
  const deliveries = decided.loaded;
  const result = await storeEuPrescriptions(ctx.db, deliveries, async (q, created) => {
    for (const c of created) {
      await recordAudit(
        q,
        buildAuditEvent({
          principal: decided.principal,
          patient: c.patientFnr ? { fnr: c.patientFnr } : undefined,
          action: 'C',
          event: 'import',
          interaction,
          operation: interaction === 'operation' ? { name: 'import-ehdsi-cda' } : undefined,
          resourceType: 'MedicationRequest',
          resourceId: c.id,
          outcome: '0',
          requestId: req.requestId,
          at: new Date(),
          observer: { name: ctx.config.operator.name, orgnr: ctx.config.operator.orgnr },
        }),
      );
    }
  });
  if (!result.ok) return result.problem;
  const stored = result.stored;
  if (stored.length === 1) ctx.audit.resourceId = stored[0]!.id;
  const anyCreated = stored.some((s) => s.created);
  if (anyCreated) ctx.audit.recorded = true;
  const entry: BundleEntry[] = stored.map((s) => ({
    fullUrl: `${req.baseUrl}/MedicationRequest/${s.id}`,
    resource: { ...s.request, id: s.id },
    response: { status: s.created ? '201 Created' : '200 OK', location: `MedicationRequest/${s.id}` },
  }));
  const bundle: Bundle = { resourceType: 'Bundle', type: 'batch-response', entry };
  const headers: Record<string, string> = stored.length === 1 ? { Location: `${req.baseUrl}/MedicationRequest/${stored[0]!.id}` } : {};
  return { status: anyCreated ? 201 : 200, resource: bundle, headers };
}
