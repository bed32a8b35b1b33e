// Norway as country B, wired for the HTTP layer: which registries enrich a Norwegian pharmacy's dispensation,
// and the message the NCP receives for it. The NCP message is one FHIR Bundle (collection) per dispensing
// or withdrawal: the MPD MedicationDispense (status entered-in-error for a withdrawal) and the eHDSI
// eDispensation CDA as a Binary, tagged with its XDS class and format (60593-1 / urn:epSOS:ep:dis:2010, or
// DISCARD-60593-1 / urn:eHDSI:ed:discard:2020). Bundle.identifier carries the message id the NCP deduplicates by.
import type { Binary, Bundle, Coding, Medication, MedicationDispense, Patient, Practitioner } from '@medplum/fhirtypes';
import type { Config } from '../../config.ts';
import { HELSEBRO_NS } from '../../fhir/identifiers.ts';
import { festDrugRegistry } from '../../registries/drugs.ts';
import { demoHprRegistry } from '../../registries/hpr.ts';
import type { Db } from '../../store/db.ts';
import type { Dispensation } from '../model.ts';
import type { EuMessageBuilder } from '../receive.ts';
import { euPatient } from '../prescription-facts.ts';
import { findPrescription, medicationRequestOf } from '../store/prescriptions.ts';
import { buildEhdsiDispensationCda } from './cda-dispensation.ts';
import { isRetraction } from '../model.ts';
import { assessEuDispense, type EuDispenseAssessment } from './dispense-rules.ts';
import { enrichNorwegianDispensation, isNorwegianDispensation, type Enriched } from './enrich.ts';
import { prescribedCounting, prescribedMedication } from './prescribed-pack.ts';

export const EU_MESSAGE_KIND_SYSTEM = `${HELSEBRO_NS}/CodeSystem/eu-message-kind`;
export const XDS_CLASS_SYSTEM = 'urn:oid:1.3.6.1.4.1.12559.11.10.1.3.1.42.32';
export const XDS_FORMAT_SYSTEM = `${HELSEBRO_NS}/CodeSystem/ehdsi-format-code`;
const ISCO = 'urn:oid:2.16.840.1.113883.2.9.6.2.7';

/** Registry enrichment before the dispensing transaction (FEST from the store, HPR from the demo register in demo mode). */
export async function enrichmentFor(db: Db, config: Pick<Config, 'mode'>, d: Dispensation): Promise<Enriched> {
  if (!isNorwegianDispensation(d)) return { warnings: [] };
  // Read ahead without a lock: the prescribed product does not change, and the dispensing transaction
  // checks everything that does.
  const request = medicationRequestOf((await findPrescription(db, d.prescription))?.fhir);
  const ref = request?.medicationReference?.reference;
  const prescribed = request?.contained?.find((r): r is Medication => r.resourceType === 'Medication' && `#${r.id}` === ref);
  return enrichNorwegianDispensation(d, { drugs: festDrugRegistry(db), ...(config.mode === 'demo' ? { hpr: demoHprRegistry() } : {}) }, prescribed);
}

/**
 * The Norwegian dispensing rules applied to a pharmacy's dispensing of an EU prescription (dispense-rules.ts):
 * product, substitution, reseptgruppe and the quantity in the prescription's unit. Read ahead without a lock
 * like the enrichment (the prescribed product and how the prescription counts never change); what remains is
 * checked inside the dispensing transaction. Undefined for withdrawals and for prescriptions not from the EU
 * (those are answered by the direction check).
 */
export async function euDispenseAssessment(db: Db, d: Dispensation, enriched: Enriched): Promise<EuDispenseAssessment | undefined> {
  if (isRetraction(d)) return undefined;
  const row = await findPrescription(db, d.prescription);
  if (row?.origin !== 'EU') return undefined;
  const request = medicationRequestOf(row.fhir);
  const substitution = request?.substitution;
  const notAllowed = substitution?.allowedBoolean === false || substitution?.allowedCodeableConcept?.coding?.some((c) => c.code === 'N') === true;
  return assessEuDispense({
    dispensation: d,
    prescribed: prescribedMedication(row),
    substitutionAllowed: !notAllowed,
    fest: enriched.fest,
    dispensedMedication: enriched.enrichment?.medication,
    counting: prescribedCounting(row),
  });
}

export function euMessageBuilder(config: Pick<Config, 'helsebroOid' | 'operator'>): EuMessageBuilder {
  return ({ prescription, dispensation, resource, withdraws, msgId, now }) => {
    const request = medicationRequestOf(prescription.fhir);
    const identifier = request?.identifier?.find((i) => i.value === prescription.prescriptionId) ?? { value: prescription.prescriptionId };
    const ncpResource: MedicationDispense = {
      ...resource,
      // Helsebro's own MedicationRequest id means nothing to the NCP: the prescription is named by its EU id.
      authorizingPrescription: [{ identifier }],
    };
    let cda: string;
    if (withdraws) {
      cda = cdaOf(withdraws.payload) ?? '';
    } else {
      const medRef = request?.medicationReference?.reference;
      const prescribed = request?.contained?.find((r): r is Medication => r.resourceType === 'Medication' && `#${r.id}` === medRef);
      const pharmacist = resource.contained?.find((r): r is Practitioner => r.resourceType === 'Practitioner');
      const functionCode = pharmacist?.qualification?.[0]?.code.coding?.find((c): c is Coding => c.system === ISCO);
      const patient = euPatient(prescription) ?? resource.contained?.find((r): r is Patient => r.resourceType === 'Patient') ?? { resourceType: 'Patient' };
      const packages = request?.dispenseRequest?.quantity?.code === '1' ? request.dispenseRequest.quantity.value : undefined;
      cda = buildEhdsiDispensationCda({
        resource: { ...resource, status: 'completed' },
        prescriptionId: { ...(identifier.system ? { system: identifier.system } : {}), value: identifier.value! },
        ...(prescribed ? { prescribed } : {}),
        ...(packages ? { prescribedPackages: packages } : {}),
        ...(dispensation.prescriptionFinished ? { prescriptionCompleted: true } : {}),
        patient,
        ...(functionCode ? { functionCode } : {}),
        documentId: msgId,
        now,
        oids: { base: config.helsebroOid },
        custodian: { name: config.operator.name, orgnr: config.operator.orgnr },
      });
    }
    const discard = withdraws !== undefined;
    const binary: Binary = {
      resourceType: 'Binary',
      meta: {
        tag: [
          { system: XDS_CLASS_SYSTEM, code: discard ? 'DISCARD-60593-1' : '60593-1' },
          { system: XDS_FORMAT_SYSTEM, code: discard ? 'urn:eHDSI:ed:discard:2020' : 'urn:epSOS:ep:dis:2010' },
        ],
      },
      contentType: 'application/hl7-v3+xml',
      data: Buffer.from(cda, 'utf8').toString('base64'),
    };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${msgId}` },
      meta: { tag: [{ system: EU_MESSAGE_KIND_SYSTEM, code: discard ? 'discard' : 'dispensation' }] },
      type: 'collection',
      timestamp: now.toISOString(),
      entry: [
        { fullUrl: `urn:uuid:${msgId}-dispense`, resource: ncpResource },
        { fullUrl: `urn:uuid:${msgId}-cda`, resource: binary },
      ],
    };
    return { contentType: 'application/fhir+json', payload: JSON.stringify(bundle) };
  };
}

/** The eDispensation CDA inside an NCP message (to send it again, flagged as a discard). */
export function cdaOf(payload: string): string | undefined {
  try {
    const bundle = JSON.parse(payload) as Bundle;
    const binary = bundle.entry?.map((e) => e.resource).find((r): r is Binary => r?.resourceType === 'Binary');
    return binary?.data ? Buffer.from(binary.data, 'base64').toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}
