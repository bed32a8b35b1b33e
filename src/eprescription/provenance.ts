// The Provenance of one conversion: what was made (the MedicationRequest and the CDA document), from what
// (the M1 by prescription id and SHA-256, the export decision, the enrichment sources), by whom (Helsebro,
// on behalf of the prescriber), and under which rules (the export-rule catalogue and the mapping tables).
import type { Provenance, ProvenanceEntity } from '@medplum/fhirtypes';
import { HELSEBRO_NS, HELSEBRO_OID_ARC, OID, PRESCRIPTION_ID_SYSTEM } from '../fhir/identifiers.ts';
import type { Enrichment } from './enrich.ts';
import type { M1Message } from './m1/model.ts';
import { EXPORT_RULE_SYSTEM, type ExportDecision } from './rules.ts';

export const MAPPING_TABLE_BASE = `${HELSEBRO_NS}/mappings/`;

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
  if (product) entity.push({ role: 'source', what: { identifier: { system: 'http://ehelse.no/fhir/CodeSystem/FEST', value: product.festId }, display: `FEST ${product.kind} (matched by ${p.enrichment.matchedBy ?? 'id'})` } });
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
