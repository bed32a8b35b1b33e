// The IHE MHD DocumentReference of a document Helsebro offers the NCP (a patient summary or an
// ePrescription, eHDSI CDA Level 3 or Level 1): the XCA metadata OpenNCP's national connector returns
// (class and type code, format code, size, hash, creation time, author, custodian), with the document at
// Binary/{id}. Pure.
import { createHash } from 'node:crypto';
import type { DocumentReference } from '@medplum/fhirtypes';
import { HELSEBRO_NS, OID } from './identifiers.ts';

export type OfferedKind = 'ps' | 'ep';

export interface OfferedDocument {
  /** The Binary id (also the DocumentReference id). */
  id: string;
  kind: OfferedKind;
  level: 1 | 3;
  patient: { id: string; fnr?: string | undefined };
  /** When the document was made (ISO instant). */
  created: string;
  contentType: string;
  size: number;
  /** Base64 SHA-1 of the bytes. */
  sha1: string;
  title: string;
  language: string;
  /** Absolute URL of the Binary. */
  url: string;
  author: string;
  custodian: { name: string; orgnr: string };
  /** For ePrescriptions: the product (ATC first, as OpenNCP's document list wants it). */
  description?: string | undefined;
  /** The Level 3 document a Level 1 document renders. */
  transforms?: string | undefined;
}

const LOINC = 'http://loinc.org';
const TYPE = {
  ps: { system: LOINC, code: '60591-5', display: 'Patient summary Document' },
  ep: { system: LOINC, code: '57833-6', display: 'Prescription for medication' },
} as const;

/** XDS formatCodes of the eHDSI documents (OpenNCP's XCA constants); Level 1 is an XDS-SD PDF wrapper. */
export const EHDSI_FORMAT_SYSTEM = `${HELSEBRO_NS}/CodeSystem/ehdsi-format-code`;
export const IHE_FORMAT_SYSTEM = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
const FORMAT = {
  ps: { system: EHDSI_FORMAT_SYSTEM, code: 'urn:epSOS:ps:ps:2010', display: 'eHDSI Patient Summary (Level 3)' },
  ep: { system: EHDSI_FORMAT_SYSTEM, code: 'urn:epSOS:ep:pre:2010', display: 'eHDSI ePrescription (Level 3)' },
  l1: { system: IHE_FORMAT_SYSTEM, code: 'urn:ihe:iti:xds-sd:pdf:2008', display: 'PDF embedded in CDA per XDS-SD profile' },
} as const;

export function documentReference(d: OfferedDocument): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    id: d.id,
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${uuidOf(d.id)}` },
    status: 'current',
    type: { coding: [TYPE[d.kind]] },
    category: [{ coding: [TYPE[d.kind]] }],
    subject: {
      reference: `Patient/${d.patient.id}`,
      ...(d.patient.fnr ? { identifier: { system: /^[4-7]/.test(d.patient.fnr) ? OID.dnr : OID.fnr, value: d.patient.fnr } } : {}),
    },
    date: d.created,
    author: [{ display: d.author }],
    custodian: { display: d.custodian.name, identifier: { system: OID.orgnr, value: d.custodian.orgnr } },
    ...(d.description ? { description: d.description } : {}),
    securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N', display: 'normal' }] }],
    ...(d.transforms ? { relatesTo: [{ code: 'transforms', target: { reference: `DocumentReference/${d.transforms}` } }] } : {}),
    content: [
      {
        attachment: {
          contentType: d.contentType,
          language: d.language,
          url: d.url,
          size: d.size,
          hash: d.sha1,
          title: d.title,
          creation: d.created,
        },
        format: d.level === 1 ? FORMAT.l1 : FORMAT[d.kind],
      },
    ],
  };
}

/** A stable name-based UUID of an id, so the master identifier stays the same for the same document. */
function uuidOf(id: string): string {
  const hex = createHash('sha1').update(`helsebro-document:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
