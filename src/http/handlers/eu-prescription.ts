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
import type { FhirRequest, HandlerResult, RouteContext, RouteDef } from '../types.ts';

const CREATE = { scope: { resourceType: 'MedicationRequest', interaction: 'c' }, audit: 'C' } as const;

export const euPrescriptionRoutes: RouteDef[] = [
  {
    method: 'POST',
    path: '/Bundle',
    resourceType: 'Bundle',
    interaction: 'create',
    accepts: ['json'],
    access: CREATE,
    documentation:
      'The NCP delivers an EU ePrescription as a Bundle of HL7 Europe MPD resources (MedicationRequest-eu-mpd with its Medication, Patient and prescriber). ' +
      'Each MedicationRequest is stored as one EU prescription (never converted to M1). Answer: a batch-response Bundle, 201 when something was stored, ' +
      '200 when all were stored before; 409 when a prescription id is already stored with other content (nothing is stored then).',
    async handler(req, ctx) {
      const parsed = parseEuPrescriptionBundle(req.body);
      return store(req, ctx, parsed.ok ? { ok: true, value: parsed.value.map((prescription) => ({ prescription, sourceJson: req.body })), warnings: [] } : parsed, 'create');
    },
  },
  {
    method: 'POST',
    path: '/MedicationRequest/$import-ehdsi-cda',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'import-ehdsi-cda', level: 'type' },
    accepts: ['xml'],
    access: CREATE,
    documentation:
      'The NCP delivers an EU ePrescription as an eHDSI ePrescription CDA (LOINC 57833-6, one prescription item). Stored as an EU prescription; answers as POST /Bundle.',
    async handler(req, ctx) {
      const xml = String(req.body);
      const parsed = parseEuPrescriptionCda(xml, { maxBytes: ctx.config.maxBodyBytes.xml });
      return store(req, ctx, parsed.ok ? { ok: true, value: [{ prescription: parsed.value, cdaXml: xml }], warnings: [] } : parsed, 'operation');
    },
  },
];

async function store(req: FhirRequest, ctx: RouteContext, parsed: Result<EuPrescriptionDelivery[]>, interaction: 'create' | 'operation'): Promise<HandlerResult> {
  if (!parsed.ok) return parsed.problem;
  const deliveries = parsed.value;
  const fnrs = deliveries.map((d) => d.prescription.patientFnr).filter((f): f is string => !!f);
  const result = await storeEuPrescriptions(ctx.db, deliveries, async (q, created) => {
    for (const c of created) {
      await recordAudit(
        q,
        buildAuditEvent({
          principal: ctx.principal,
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
  if (fnrs.length === 1) ctx.audit.patient = { fnr: fnrs[0] };
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
