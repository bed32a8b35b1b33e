// The Provenance of one conversion: what was made (the MedicationRequest and the CDA document), from what
// (the M1 by prescription id and SHA-256, the export decision, the enrichment sources), by whom (Helsebro,
// on behalf of the prescriber), and under which rules (the export-rule catalogue and the mapping tables).
import type { OperationOutcomeIssue, Provenance, ProvenanceEntity } from '@medplum/fhirtypes';
import { FEST_ID_SYSTEM, HELSEBRO_NS, HELSEBRO_OID_ARC, OID, PRESCRIPTION_ID_SYSTEM, VARENUMMER_SYSTEM } from '../fhir/identifiers.ts';
import { describeReference, REGISTRY_ISSUE_SYSTEM } from '../registries/drugs.ts';
import type { Enrichment } from './enrich.ts';
import type { M1Message } from './m1/model.ts';
import { EXPORT_RULE_SYSTEM, type ExportDecision } from './rules.ts';

export const MAPPING_TABLE_BASE = `${HELSEBRO_NS}/mappings/`;

/** On a Provenance entity: a warning of the enrichment about this source (FEST-UNKNOWN-PRODUCT ...). */
export const CONVERSION_WARNING_EXTENSION = `${HELSEBRO_NS}/StructureDefinition/conversion-warning`;

const warningExtension = (w: OperationOutcomeIssue) => {
  const coding = w.details?.coding?.find((c) => c.system === REGISTRY_ISSUE_SYSTEM);
  return { url: CONVERSION_WARNING_EXTENSION, valueCoding: { system: REGISTRY_ISSUE_SYSTEM, code: coding?.code ?? w.code, display: w.diagnostics } };
};

const registryWarnings = (warnings: readonly OperationOutcomeIssue[], prefix: string): OperationOutcomeIssue[] =>
  warnings.filter((w) => w.details?.coding?.some((c) => c.system === REGISTRY_ISSUE_SYSTEM && c.code?.startsWith(prefix)));

export interface ProvenanceInput {
  id: string;
  medicationRequestId: string;
  documentId: string;
  helsebroOid: string;
  m1: M1Message;
  sourceHash: string;
  decision: ExportDecision;
  enrichment: Enrichment;
  tables: string[];
  now: Date;
  version: string;
}

export function buildProvenance(p: ProvenanceInput): Provenance {
  const entity: ProvenanceEntity[] = [
    {
      role: 'source',
      what: {
        identifier: { system: PRESCRIPTION_ID_SYSTEM, value: p.m1.prescriptionId },
        display: `M1 Resept (eResept 2.5), sha256 ${p.sourceHash}`,
      },
    },
    {
      role: 'source',
      what: {
        identifier: { system: EXPORT_RULE_SYSTEM, value: `decision:${p.decision.decidedFor}` },
        display: `Export decision for ${p.decision.decidedFor}: exportable, ${p.decision.remainingDispensings} of ${p.decision.totalDispensings} dispensings remaining`,
      },
    },
  ];
  const product = p.enrichment.product;
  const festWarnings = registryWarnings(p.enrichment.warnings, 'FEST-').map(warningExtension);
  const festExtension = festWarnings.length ? { extension: festWarnings } : {};
  if (product) {
    entity.push({ ...festExtension, role: 'source', what: { identifier: { system: FEST_ID_SYSTEM, value: product.festId }, display: `FEST ${product.kind} (matched by ${p.enrichment.matchedBy ?? 'id'})` } });
  } else if (p.enrichment.missingProduct) {
    // The record the M1 names and FEST does not have: nothing of FEST is in the outputs, and the reader is told.
    const sought = p.enrichment.missingProduct;
    const identifier = sought.varenr ? { system: VARENUMMER_SYSTEM, value: sought.varenr } : sought.festId ? { system: FEST_ID_SYSTEM, value: sought.festId } : undefined;
    entity.push({
      ...festExtension,
      role: 'source',
      what: { ...(identifier ? { identifier } : {}), display: `FEST ${describeReference(sought)}: not in FEST; the outputs carry only what the M1 states` },
    });
  }
  if (p.enrichment.prescriber) entity.push({ role: 'source', what: { identifier: { system: OID.hpr, value: p.enrichment.prescriber.hpr }, display: 'Health Personnel Register (HPR)' } });
  if (p.enrichment.patient) entity.push({ role: 'source', what: { display: 'Population registry' } });
  return {
    resourceType: 'Provenance',
    id: p.id,
    target: [
      { reference: `MedicationRequest/${p.medicationRequestId}` },
      { identifier: { system: `urn:oid:${p.helsebroOid}.${HELSEBRO_OID_ARC.document}`, value: p.documentId }, display: 'eHDSI ePrescription CDA' },
    ],
    recorded: p.now.toISOString(),
    policy: [EXPORT_RULE_SYSTEM, ...p.tables.map((t) => `${MAPPING_TABLE_BASE}${t}`)],
    activity: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'transform', display: 'Transform/Translate Record Lifecycle Event' }],
    },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler', display: 'Assembler' }] },
        who: { display: `Helsebro ${p.version}` },
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author', display: 'Author' }] },
        who: { identifier: { system: OID.hpr, value: p.m1.prescriber.hpr } },
      },
    ],
    entity,
  };
}
