// Dispensation -> HL7 Europe MPD MedicationDispense (MedicationDispense-eu-mpd), with the dispensed
// Medication, the pharmacist, the pharmacy and (when the reader cannot resolve it) the patient contained.
// Used for the MedicationDispense Helsebro serves at /fhir/MedicationDispense/{id} (both directions) and
// for the EU eDispensation it sends to the NCP (Norway as country B). Pure.
import type {
  CodeableConcept,
  Coding,
  Extension,
  Identifier,
  Medication,
  MedicationDispense,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../fhir/identifiers.ts';
import { escapeXml, xhtmlDiv } from '../fhir/xhtml.ts';
import type { Coded, Dispensation, DispensedProduct, IdentifierValue, Organisation, Person, Quantity } from './model.ts';
import { MPD_EXTENSION } from '../fhir/mpd.ts';

export const MPD = {
  dispense: 'http://hl7.eu/fhir/mpd/StructureDefinition/MedicationDispense-eu-mpd',
  medication: 'http://hl7.eu/fhir/mpd/StructureDefinition/Medication-eu-mpd',
  request: 'http://hl7.eu/fhir/mpd/StructureDefinition/MedicationRequest-eu-mpd',
} as const;

export const EXT = {
  recorded: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationDispense.recorded',
  productName: MPD_EXTENSION.productName,
  classification: MPD_EXTENSION.classification,
  sizeOfItem: MPD_EXTENSION.sizeOfItem,
} as const;

export interface DispenseResourceInput {
  id?: string;
  dispensation: Dispensation;
  status: 'completed' | 'entered-in-error';
  /** authorizingPrescription: a reference the reader can resolve and/or the prescription identifier. */
  prescription: { reference?: string; identifier?: IdentifierValue; display?: string };
  /** A resolvable Patient reference, or a Patient to contain. */
  subject: { reference: string; identifier?: IdentifierValue } | { patient: Patient };
  /** Replaces the Medication built from the dispensation's product (an enriched one, for the EU). */
  medication?: Medication;
  /** Replace the pharmacy and pharmacist built from the dispensation (enriched from the registries). */
  pharmacy?: Organization;
  pharmacist?: Practitioner;
  /** Replaces the substitution the dispensation states (country B: compared with the prescribed product). */
  substitution?: { wasSubstituted: boolean; reason?: string };
}

export function medicationDispenseResource(input: DispenseResourceInput): MedicationDispense {
  const d = input.dispensation;
  const contained: Resource[] = [];
  const medication: Medication = { ...(input.medication ?? medicationOf(d.product)), id: 'med' };
  if (d.lotNumber) medication.batch = { ...medication.batch, lotNumber: d.lotNumber };
  contained.push(medication);

  const pharmacy = input.pharmacy ? { ...input.pharmacy, id: 'pharmacy' } : organizationOf(d.pharmacy);
  const pharmacist = input.pharmacist ? { ...input.pharmacist, id: 'pharmacist' } : d.pharmacist && practitionerOf(d.pharmacist);
  let actor: Reference<PractitionerRole | Organization>;
  if (pharmacist) {
    const role: PractitionerRole = { resourceType: 'PractitionerRole', id: 'role', practitioner: { reference: '#pharmacist' } };
    if (pharmacy) role.organization = { reference: '#pharmacy' };
    contained.push(pharmacist, ...(pharmacy ? [pharmacy] : []), role);
    actor = { reference: '#role' };
  } else if (pharmacy) {
    contained.push(pharmacy);
    actor = { reference: '#pharmacy' };
  } else {
    actor = { display: 'Unknown pharmacy' };
  }

  let subject: Reference<Patient>;
  if ('patient' in input.subject) {
    contained.push({ ...input.subject.patient, id: 'patient' });
    subject = { reference: '#patient' };
  } else {
    subject = { reference: input.subject.reference, ...(input.subject.identifier ? { identifier: identifierOf(input.subject.identifier) } : {}) };
  }

  const prescription: Reference<MedicationRequest> = {};
  if (input.prescription.reference) prescription.reference = input.prescription.reference;
  if (input.prescription.identifier) prescription.identifier = identifierOf(input.prescription.identifier);
  if (input.prescription.display) prescription.display = input.prescription.display;

  const resource: MedicationDispense = {
    resourceType: 'MedicationDispense',
    ...(input.id ? { id: input.id } : {}),
    meta: { profile: [MPD.dispense] },
    text: { status: 'generated', div: narrative(d, input.status, medication) },
    contained,
    extension: [{ url: EXT.recorded, valueDateTime: d.recorded ?? d.whenHandedOver }],
    identifier: [identifierOf(d.identifier)],
    status: input.status,
    medicationReference: { reference: '#med', display: medicationName(medication) ?? d.product.name },
    subject,
    performer: [{ actor }],
    authorizingPrescription: [prescription],
    quantity: quantityOf(d.quantity),
    ...(d.daysSupply ? { daysSupply: quantityOf(d.daysSupply) } : {}),
    whenHandedOver: d.whenHandedOver,
  };
  if (d.dosageText) resource.dosageInstruction = [{ text: d.dosageText }];
  const notes = dispensingNotes(d);
  if (notes.length) resource.note = notes.map((text) => ({ text }));
  const substitution = input.substitution ?? { wasSubstituted: d.substitution.substituted, ...(d.substitution.reason ? { reason: d.substitution.reason } : {}) };
  resource.substitution = { wasSubstituted: substitution.wasSubstituted };
  if (substitution.reason) resource.substitution.reason = [{ text: substitution.reason }];
  return resource;
}

/**
 * What the Norwegian pharmacy said beyond product, amount and dosage that the EU documents carry as notes
 * (MedicationDispense.note, and the eDispensation CDA's narrative): the patient's reservation against generic
 * substitution, interventions such as a dosage change agreed with the prescriber, and that the pharmacist
 * closed the prescription. Norwegian and English, for the pharmacist and the prescriber in country A.
 */
export function dispensingNotes(d: Dispensation): string[] {
  const notes: string[] = [];
  if (d.customerSubstitutionReservation) {
    notes.push('The patient declined generic substitution (ByttereservasjonKunde). / Pasienten reserverte seg mot generisk bytte.');
  }
  for (const i of d.interventions ?? []) notes.push(i);
  if (d.prescriptionFinished) {
    notes.push('The dispensing pharmacist closed the prescription: nothing more is to be dispensed on it (M10 Avsluttet). / Resepten er avsluttet av apoteket.');
  }
  return notes;
}

// ---- parts ----

export const identifierOf = (i: IdentifierValue): Identifier => (i.system ? { system: i.system, value: i.value } : { value: i.value });

export const codingOf = (c: Coded): Coding => (c.display ? { system: c.system, code: c.code, display: c.display } : { system: c.system, code: c.code });

export function quantityOf(q: Quantity): MedicationDispense['quantity'] {
  const out: NonNullable<MedicationDispense['quantity']> = { value: q.value };
  if (q.unit) out.unit = q.unit;
  if (q.system) out.system = q.system;
  if (q.code) out.code = q.code;
  return out;
}

/** The Medication the dispensation itself describes (no registry lookups). */
export function medicationOf(p: DispensedProduct): Medication {
  const extension: Extension[] = [{ url: EXT.productName, valueString: p.name }];
  if (p.atc) extension.push({ url: EXT.classification, valueCodeableConcept: { coding: [codingOf(p.atc)] } });
  const m: Medication = { resourceType: 'Medication', meta: { profile: [MPD.medication] }, extension };
  const ids = p.codes.filter((c) => c.system !== CODE_SYSTEM.atc);
  if (ids.length) m.identifier = ids.map((c) => ({ system: c.system, value: c.code }));
  const code: CodeableConcept = { text: [p.name, p.strength].filter(Boolean).join(' ') };
  if (ids.length) code.coding = ids.map(codingOf);
  m.code = code;
  if (p.form) m.form = { coding: [codingOf(p.form)], ...(p.form.display ? { text: p.form.display } : {}) };
  if (p.package?.size) {
    const n = quantityOf(p.package.size)!;
    m.amount = { numerator: n, denominator: { value: 1 } };
  }
  return m;
}

function organizationOf(o: Organisation): Organization | undefined {
  if (!o.name && !o.identifiers.length) return undefined;
  const org: Organization = { resourceType: 'Organization', id: 'pharmacy' };
  if (o.identifiers.length) org.identifier = o.identifiers.map(identifierOf);
  if (o.name) org.name = o.name;
  if (o.country) org.address = [{ country: o.country }];
  return org;
}

function practitionerOf(p: Person): Practitioner {
  const pr: Practitioner = { resourceType: 'Practitioner', id: 'pharmacist' };
  if (p.identifiers.length) pr.identifier = p.identifiers.map(identifierOf);
  if (p.family || p.given.length) pr.name = [{ ...(p.family ? { family: p.family } : {}), ...(p.given.length ? { given: p.given } : {}) }];
  return pr;
}

const medicationName = (m: Medication): string | undefined =>
  m.extension?.find((e) => e.url === EXT.productName)?.valueString ?? m.code?.text ?? m.code?.coding?.[0]?.display;

function narrative(d: Dispensation, status: string, m: Medication): string {
  const where = [d.pharmacy.name, d.pharmacy.country].filter(Boolean).join(', ');
  const unit = d.quantity.unit && d.quantity.unit !== '1' ? ` ${d.quantity.unit}` : '';
  const parts = [
    `<p><b>${escapeXml(medicationName(m) ?? d.product.name)}</b>: ${escapeXml(String(d.quantity.value))}${escapeXml(unit)}</p>`,
    `<p>${escapeXml(d.whenHandedOver)}${where ? ` &#8212; ${escapeXml(where)}` : ''}</p>`,
  ];
  if (d.substitution.substituted) parts.push(`<p>Substituted${d.substitution.reason ? `: ${escapeXml(d.substitution.reason)}` : ''}</p>`);
  if (status === 'entered-in-error') parts.push('<p>Withdrawn (discarded)</p>');
  return xhtmlDiv(parts.join(''));
}
