// The eHDSI eDispensation CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.2, LOINC 60593-1) for a dispensing
// in a Norwegian pharmacy of an EU prescription, built from the enriched MedicationDispense and the stored EU
// prescription, following mappings/m10-to-ehdsi-dispensation-cda.csv. One document = one dispensed product.
// The prescription id appears twice, as the NCP expects: inFulfillmentOf/order/id and the REFR
// substanceAdministration/id. Pure; every text and attribute is escaped by the writer.
import type { CodeableConcept, Coding, Identifier, Medication, MedicationDispense, Organization, Patient, Practitioner, Quantity } from '@medplum/fhirtypes';
import { CODE_SYSTEM, OID } from '../../fhir/identifiers.ts';
import { VARENUMMER_SYSTEM } from '../codes.ts';
import { EXT } from '../fhir-dispense.ts';
import type { IdentifierValue } from '../model.ts';
import { FEST_ID_SYSTEM } from './enrich.ts';
import { x, xmlDocument, type XmlNode } from './xml-build.ts';

export const ED_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.2';
const LOINC = '2.16.840.1.113883.6.1';
const EDQM = '0.4.0.127.0.16.1.1.2.1';
const ATC = '2.16.840.1.113883.6.73';
const UCUM_OID = '2.16.840.1.113883.6.8';

/** OIDs of the code systems the eHDSI documents use, by FHIR system url. */
const OID_OF_SYSTEM: Record<string, string> = {
  'http://standardterms.edqm.eu': EDQM,
  [CODE_SYSTEM.atc]: ATC,
  'http://unitsofmeasure.org': UCUM_OID,
  [CODE_SYSTEM.loinc]: LOINC,
  [CODE_SYSTEM.snomed]: '2.16.840.1.113883.6.96',
};

/** Helsebro's OID arc (HELSEBRO_OID): .2 dispensations, .3 documents, .4 varenummer, .5 identifiers without an OID, .6 FEST ids. */
export interface OidArc {
  base: string;
}

export interface EdCdaInput {
  resource: MedicationDispense;
  /** The EU prescription id the dispensing fulfils. */
  prescriptionId: IdentifierValue;
  /** The prescribed product (from the stored EU prescription), copied into the REFR entry. */
  prescribed?: Medication;
  prescribedPackages?: number;
  /**
   * The dispensing pharmacist closed the prescription (M10 Avsluttet 1): the related prescription's
   * statusCode says `completed` instead of `active`, so country A knows nothing more is to be dispensed.
   */
  prescriptionCompleted?: boolean;
  /** The patient as the EU prescription named them. */
  patient: Patient;
  /** ISCO-08 function code of the pharmacist (2262 Pharmacists), from HPR through the 9060 map. */
  functionCode?: Coding;
  documentId: string;
  now: Date;
  oids: OidArc;
  custodian: { name: string; orgnr: string };
  language?: string;
}

export function buildEhdsiDispensationCda(input: EdCdaInput): string {
  const r = input.resource;
  const contained = r.contained ?? [];
  const medication = contained.find((c): c is Medication => c.resourceType === 'Medication');
  const pharmacist = contained.find((c): c is Practitioner => c.resourceType === 'Practitioner');
  const pharmacy = contained.find((c): c is Organization => c.resourceType === 'Organization');
  if (!medication) throw new Error('buildEhdsiDispensationCda: the MedicationDispense has no contained Medication');
  const handedOver = ts(r.whenHandedOver ?? input.now.toISOString());
  const prescriptionIi = ii(identifierOf(input.prescriptionId), input.oids);
  const dispenseId = r.identifier?.[0];

  const person = (p: Practitioner | undefined) => x('assignedPerson', {}, personName(p?.name?.[0]) ?? x('name', { nullFlavor: 'NI' }));
  const pharmacistIds = (pharmacist?.identifier ?? []).map((i) => x('id', ii(i, input.oids)));
  const organization = (name: string) =>
    x(
      name,
      {},
      (pharmacy?.identifier ?? []).filter((i) => i.system === OID.her || i.system === OID.orgnr).map((i) => x('id', ii(i, input.oids))),
      x('name', {}, pharmacy?.name ?? 'Apotek'),
      x('telecom', { nullFlavor: 'NI' }),
      address(pharmacy?.address?.[0], 'NO'),
    );
  const assigned = (name: string) =>
    x(name, name === 'assignedAuthor' ? { classCode: 'ASSIGNED' } : {}, pharmacistIds.length ? pharmacistIds : x('id', { nullFlavor: 'NI' }), address(pharmacy?.address?.[0], 'NO'), x('telecom', { nullFlavor: 'NI' }), person(pharmacist), organization('representedOrganization'));

  const doc = x(
    'ClinicalDocument',
    { xmlns: 'urn:hl7-org:v3', 'xmlns:pharm': 'urn:hl7-org:pharm', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', classCode: 'DOCCLIN', moodCode: 'EVN' },
    x('typeId', { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' }),
    x('templateId', { root: ED_TEMPLATE }),
    x('id', { root: `${input.oids.base}.3`, extension: input.documentId }),
    x('code', { code: '60593-1', codeSystem: LOINC, codeSystemName: 'LOINC', displayName: 'Medication dispensed.extended Document' }),
    x('title', {}, 'eDispensation'),
    x('effectiveTime', { value: ts(input.now.toISOString()) }),
    x('confidentialityCode', { code: 'N', codeSystem: '2.16.840.1.113883.5.25', displayName: 'normal' }),
    x('languageCode', { code: input.language ?? 'nb-NO' }),
    recordTarget(input.patient, input.oids),
    x('author', { typeCode: 'AUT' }, input.functionCode ? x('functionCode', cd(input.functionCode)) : undefined, x('time', { value: handedOver }), assigned('assignedAuthor')),
    x(
      'custodian',
      { typeCode: 'CST' },
      x(
        'assignedCustodian',
        { classCode: 'ASSIGNED' },
        x(
          'representedCustodianOrganization',
          { classCode: 'ORG', determinerCode: 'INSTANCE' },
          x('id', { root: OID.orgnr.slice(8), extension: input.custodian.orgnr }),
          x('name', {}, input.custodian.name),
          x('telecom', { nullFlavor: 'NI' }),
          x('addr', {}, x('country', {}, 'NO')),
        ),
      ),
    ),
    x('legalAuthenticator', { contextControlCode: 'OP', typeCode: 'LA' }, x('time', { value: handedOver }), x('signatureCode', { code: 'S' }), assigned('assignedEntity')),
    x('inFulfillmentOf', {}, x('order', { moodCode: 'RQO' }, x('id', prescriptionIi))),
    x(
      'component',
      {},
      x(
        'structuredBody',
        {},
        x(
          'component',
          {},
          x(
            'section',
            {},
            x('templateId', { root: '2.16.840.1.113883.10.20.1.8' }),
            x('templateId', { root: '1.3.6.1.4.1.12559.11.10.1.3.1.2.2' }),
            x('id', { root: `${input.oids.base}.3`, extension: `${input.documentId}.1` }),
            x('code', { code: '60590-7', codeSystem: LOINC, codeSystemName: 'LOINC', displayName: 'Medication dispensed.brief Document' }),
            x('title', {}, 'Dispensed medicine'),
            x('text', {}, ...narrative(r, medication, pharmacy)),
            x(
              'entry',
              { typeCode: 'COMP' },
              x(
                'supply',
                { classCode: 'SPLY', moodCode: 'EVN' },
                x('templateId', { root: '2.16.840.1.113883.10.20.1.34' }),
                x('templateId', { root: '1.3.6.1.4.1.19376.1.5.3.1.4.7.3' }),
                x('templateId', { root: '1.3.6.1.4.1.12559.11.10.1.3.1.3.3' }),
                dispenseId?.value ? x('id', { root: `${input.oids.base}.2`, extension: dispenseId.value }) : x('id', { root: `${input.oids.base}.2`, extension: input.documentId }),
                packagesQuantity('quantity', r.quantity),
                x('product', {}, manufacturedProduct(medication, input.oids)),
                x('performer', { typeCode: 'PRF' }, x('time', { value: handedOver }), assigned('assignedEntity')),
                x(
                  'entryRelationship',
                  { typeCode: 'REFR' },
                  x(
                    'substanceAdministration',
                    { classCode: 'SBADM', moodCode: 'INT' },
                    x('id', prescriptionIi),
                    x('statusCode', { code: input.prescriptionCompleted ? 'completed' : 'active' }),
                    x('consumable', { typeCode: 'CSM' }, manufacturedProduct(input.prescribed ?? medication, input.oids)),
                    input.prescribedPackages
                      ? x(
                          'entryRelationship',
                          { typeCode: 'COMP' },
                          x('supply', { classCode: 'SPLY', moodCode: 'RQO' }, x('independentInd', { value: 'false' }), x('quantity', { unit: '1', value: decimal(input.prescribedPackages) })),
                        )
                      : undefined,
                  ),
                ),
                r.substitution?.wasSubstituted
                  ? x('entryRelationship', { typeCode: 'COMP' }, x('act', { classCode: 'ACT', moodCode: 'EVN' }, x('code', { code: 'SUBST', codeSystem: '2.16.840.1.113883.5.6', displayName: 'Substitution' })))
                  : undefined,
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return xmlDocument(doc);
}

// ---- header parts ----

function recordTarget(p: Patient, oids: OidArc): XmlNode {
  const gender = p.gender === 'male' ? 'M' : p.gender === 'female' ? 'F' : 'UN';
  const ids = (p.identifier ?? []).map((i) => x('id', ii(i, oids)));
  return x(
    'recordTarget',
    { contextControlCode: 'OP', typeCode: 'RCT' },
    x(
      'patientRole',
      { classCode: 'PAT' },
      ids.length ? ids : x('id', { nullFlavor: 'NI' }),
      address(p.address?.[0]),
      x('telecom', { nullFlavor: 'NI' }),
      x(
        'patient',
        { classCode: 'PSN', determinerCode: 'INSTANCE' },
        personName(p.name?.[0]) ?? x('name', { nullFlavor: 'NI' }),
        x('administrativeGenderCode', { code: gender, codeSystem: '2.16.840.1.113883.5.1', codeSystemName: 'AdministrativeGender' }),
        p.birthDate ? x('birthTime', { value: p.birthDate.replace(/-/g, '') }) : x('birthTime', { nullFlavor: 'UNK' }),
      ),
    ),
  );
}

function personName(n: { family?: string; given?: string[] } | undefined): XmlNode | undefined {
  if (!n || (!n.family && !n.given?.length)) return undefined;
  return x('name', {}, n.family ? x('family', {}, n.family) : x('family', { nullFlavor: 'NI' }), (n.given ?? []).map((g) => x('given', {}, g)));
}

function address(a: { line?: string[]; city?: string; postalCode?: string; country?: string } | undefined, country?: string): XmlNode {
  const c = a?.country ?? country;
  if (!a && !c) return x('addr', { nullFlavor: 'NI' });
  return x(
    'addr',
    {},
    (a?.line ?? []).map((l) => x('streetAddressLine', {}, l)),
    a?.city ? x('city', {}, a.city) : undefined,
    a?.postalCode ? x('postalCode', {}, a.postalCode) : undefined,
    c ? x('country', {}, c) : undefined,
  );
}

// ---- the product (template 3.3.29 / 3.3.30) ----

function manufacturedProduct(m: Medication, oids: OidArc): XmlNode {
  const name = m.extension?.find((e) => e.url === EXT.productName)?.valueString ?? m.code?.text ?? 'Medicinal product';
  const atc = m.extension?.find((e) => e.url === EXT.classification)?.valueCodeableConcept?.coding?.find((c) => c.system === CODE_SYSTEM.atc);
  const productCode = m.code?.coding?.find((c) => c.system && c.system !== VARENUMMER_SYSTEM && c.system !== FEST_ID_SYSTEM && oidOf(c.system));
  const varenr = m.identifier?.find((i) => i.system === VARENUMMER_SYSTEM)?.value;
  const strength = strengthText(m);
  // A multipack (MPD sizeOfItem): the item's content inside a container holding `amount` of them.
  const item = m.extension?.find((e) => e.url === EXT.sizeOfItem)?.valueQuantity;
  const content = item ?? m.amount?.numerator;
  const outerCount = item ? m.amount?.numerator?.value : undefined;
  return x(
    'manufacturedProduct',
    { classCode: 'MANU' },
    x('templateId', { root: '1.3.6.1.4.1.12559.11.10.1.3.1.3.29' }),
    x(
      'manufacturedMaterial',
      { classCode: 'MMAT', determinerCode: 'KIND' },
      x('templateId', { root: '1.3.6.1.4.1.12559.11.10.1.3.1.3.30' }),
      productCode ? x('code', cd(productCode)) : undefined,
      x('name', {}, name),
      strength ? x('pharm:desc', {}, strength) : undefined,
      concept('pharm:formCode', m.form),
      m.batch?.lotNumber ? x('lotNumberText', {}, m.batch.lotNumber) : undefined,
      x(
        'pharm:asContent',
        { classCode: 'CONT' },
        content?.value !== undefined ? pq('pharm:quantity', content) : x('pharm:quantity', { nullFlavor: 'UNK' }),
        outerCount === undefined
          ? soldPackage(varenr, name, oids)
          : x(
              'pharm:containerPackagedProduct',
              { classCode: 'CONT', determinerCode: 'KIND' },
              x('pharm:formCode', { nullFlavor: 'UNK' }),
              x('pharm:asContent', { classCode: 'CONT' }, x('pharm:quantity', { value: String(outerCount), unit: '1' }), soldPackage(varenr, name, oids)),
            ),
      ),
      atc ? x('pharm:asSpecializedKind', { classCode: 'GRIC' }, x('pharm:generalizedMaterialKind', { classCode: 'MMAT', determinerCode: 'KIND' }, x('pharm:code', cd(atc)))) : undefined,
      (m.ingredient ?? []).map((ing) =>
        x(
          'pharm:ingredient',
          { classCode: 'ACTI' },
          ing.strength?.numerator
            ? x('pharm:quantity', {}, pq('numerator', ing.strength.numerator, true), pq('denominator', ing.strength.denominator ?? { value: 1 }, true))
            : x('pharm:quantity', { nullFlavor: 'UNK' }),
          x(
            'pharm:ingredientSubstance',
            { classCode: 'MMAT', determinerCode: 'KIND' },
            ing.itemCodeableConcept?.coding?.some((c) => c.system && oidOf(c.system)) ? concept('pharm:code', ing.itemCodeableConcept) : undefined,
            ing.itemCodeableConcept?.text ? x('pharm:name', {}, ing.itemCodeableConcept.text) : undefined,
          ),
        ),
      ),
    ),
  );
}

/** The package sold, named by its varenummer: the outermost container. */
function soldPackage(varenr: string | undefined, name: string, oids: OidArc): XmlNode {
  return x(
    'pharm:containerPackagedProduct',
    { classCode: 'CONT', determinerCode: 'KIND' },
    varenr ? x('pharm:code', { code: varenr, codeSystem: `${oids.base}.4`, codeSystemName: 'Varenummer (NO)' }) : undefined,
    x('pharm:name', {}, name),
    x('pharm:formCode', { nullFlavor: 'UNK' }),
  );
}

function strengthText(m: Medication): string | undefined {
  const parts = (m.ingredient ?? [])
    .map((i) => i.strength)
    .filter((s): s is NonNullable<typeof s> => !!s?.numerator?.value)
    .map((s) => {
      const n = `${s.numerator!.value} ${s.numerator!.code ?? s.numerator!.unit ?? ''}`.trim();
      const d = s.denominator;
      return d && !(d.value === 1 && !d.unit && !d.code) ? `${n}/${d.value === 1 ? '' : `${d.value} `}${d.code ?? d.unit ?? ''}` : n;
    });
  return parts.length ? parts.join(' + ') : undefined;
}

// ---- data types ----

function oidOf(system: string): string | undefined {
  if (OID_OF_SYSTEM[system]) return OID_OF_SYSTEM[system];
  if (system.startsWith('urn:oid:')) return system.slice(8);
  return undefined;
}

/** A coding as CD attributes; systems without an OID are not sent as codes. */
function cd(c: Coding): Record<string, string | undefined> {
  return { code: c.code, codeSystem: oidOf(c.system ?? ''), displayName: c.display };
}

/** A CodeableConcept as one CD: the first coding with an OID at top level, the rest as translations. */
function concept(name: string, cc: CodeableConcept | undefined): XmlNode {
  const codings = (cc?.coding ?? []).filter((c) => c.code && c.system && oidOf(c.system));
  const [first, ...rest] = codings;
  if (!first) return x(name, { nullFlavor: 'UNK' }, cc?.text ? x('originalText', {}, cc.text) : undefined);
  // A pharm: coded element is a v3 CE: its translations are v3 elements too (CDA_Pharma.xsd).
  return x(name, cd(first), rest.map((c) => x('translation', cd(c))));
}

const decimal = (n: number): string => (Number.isInteger(n) ? n.toFixed(0) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, ''));

/** A PQ: UCUM units as they are; anything else as unit "1" with the unit kept as original text. */
function pq(name: string, q: Quantity, typed = false): XmlNode {
  const type = typed ? { 'xsi:type': 'PQ' } : {};
  if (q.value === undefined) return x(name, { ...type, nullFlavor: 'UNK' });
  if (q.system === 'http://unitsofmeasure.org' && q.code) return x(name, { ...type, value: decimal(q.value), unit: q.code });
  if (q.system === 'http://standardterms.edqm.eu' && q.code) {
    return x(name, { ...type, value: decimal(q.value), unit: `{${q.unit ?? q.code}}`.replace(/\s+/g, '') });
  }
  if (!q.unit) return x(name, { ...type, value: decimal(q.value), unit: '1' });
  return x(name, { ...type, value: decimal(q.value), unit: '1' }, x('translation', {}, x('originalText', {}, q.unit)));
}

/** The dispensed number of packages (unit "1"). */
function packagesQuantity(name: string, q: MedicationDispense['quantity']): XmlNode {
  return x(name, { unit: '1', value: decimal(q?.value ?? 1) });
}

function identifierOf(i: IdentifierValue): Identifier {
  return i.system ? { system: i.system, value: i.value } : { value: i.value };
}

/** Identifier -> II: urn:oid systems as root + extension; others under Helsebro's arc (.5), the value kept. */
export function ii(i: Identifier, oids: OidArc): Record<string, string | undefined> {
  const value = i.value ?? '';
  if (i.system === 'urn:ietf:rfc:3986' && value.startsWith('urn:oid:')) return { root: value.slice(8) };
  if (i.system === VARENUMMER_SYSTEM) return { root: `${oids.base}.4`, extension: value };
  if (i.system === FEST_ID_SYSTEM) return { root: `${oids.base}.6`, extension: value };
  if (i.system?.startsWith('urn:oid:')) return { root: i.system.slice(8), extension: value };
  return { root: `${oids.base}.5`, extension: value };
}

/** CDA TS with time zone (TS.EPSOS.TZ) from an ISO date or dateTime; a date stays a date. */
export function ts(iso: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso.replace(/-/g, '');
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

function narrative(r: MedicationDispense, m: Medication, pharmacy: Organization | undefined): XmlNode[] {
  const name = m.extension?.find((e) => e.url === EXT.productName)?.valueString ?? m.code?.text ?? '';
  const lines = [
    `${name}: ${decimal(r.quantity?.value ?? 1)} ${(r.quantity?.value ?? 1) === 1 ? 'package' : 'packages'}`,
    `Dispensed ${r.whenHandedOver ?? ''}${pharmacy?.name ? ` at ${pharmacy.name}, Norway` : ''}`,
  ];
  if (r.substitution?.wasSubstituted) lines.push('The dispensed product differs from the prescribed one (substitution).');
  if (r.dosageInstruction?.[0]?.text) lines.push(r.dosageInstruction[0].text);
  const lot = m.batch?.lotNumber;
  if (lot) lines.push(`Batch (lot) number: ${lot}`);
  for (const note of r.note ?? []) if (note.text) lines.push(note.text);
  return lines.map((l) => x('paragraph', {}, l));
}
