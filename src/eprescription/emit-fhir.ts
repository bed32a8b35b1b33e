// The EU ePrescription as FHIR R4 per HL7 Europe MPD: one Bundle (type collection) per prescription item
// with MedicationRequest-eu-mpd, Medication-eu-mpd, Patient, Practitioner, PractitionerRole and Organization.
// Every field comes from the m1-to-mpd-fhir mapping table through `Mapped`; this module only knows where
// each mapped target sits in the resources. Pure.
import type {
  Bundle,
  CodeableConcept,
  Coding,
  Dosage,
  Extension,
  HumanName,
  Identifier,
  Medication,
  MedicationIngredient,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Quantity,
  Resource,
  Timing,
} from '@medplum/fhirtypes';
import { CONCEPT_MAP, toEuConcept } from '../terminology/index.ts';
import type { Mapped } from './map/apply.ts';
import { byPeriod, doseLines, periodKey } from './dosage-text.ts';
import type { DoseInfo, EuQuantity, PersonName } from './map/values.ts';
import type { M1Message } from './m1/model.ts';
import type { FestProduct } from '../registries/fest/types.ts';
import { packageLevels, sizeFactors } from '../registries/fest/package-size.ts';
import { sizeTextOf } from './package-levels.ts';
import { MPD_EXTENSION } from '../fhir/mpd.ts';

export const MPD_PROFILE = {
  medicationRequest: 'http://hl7.eu/fhir/mpd/StructureDefinition/MedicationRequest-eu-mpd',
  medication: 'http://hl7.eu/fhir/mpd/StructureDefinition/Medication-eu-mpd',
  patient: 'http://hl7.eu/fhir/base/StructureDefinition/patient-eu-core',
} as const;

export { MPD_EXTENSION };

const UCUM = 'http://unitsofmeasure.org';
const EDQM = 'http://standardterms.edqm.eu';

export interface ResourceIds {
  bundle: string;
  medicationRequest: string;
  medication: string;
  patient: string;
  practitioner: string;
  practitionerRole: string;
  organization: string;
}

export interface EmitFhirInput {
  mapped: Mapped;
  ids: ResourceIds;
  m1: M1Message;
  product?: FestProduct | undefined;
  now: Date;
  /** Address protection in the population register: the Patient carries no address or contact details. */
  withholdPatientAddress?: boolean | undefined;
}

const ref = (id: string): { reference: string } => ({ reference: `urn:uuid:${id}` });

/** An EU quantity as FHIR: UCUM when the unit is UCUM, else the EDQM unit of presentation, else the text. */
export function fhirQuantity(q: EuQuantity): Quantity {
  if (q.ucum && q.ucum !== '1') return { value: q.value, unit: q.unitDisplay ?? q.ucum, system: UCUM, code: q.ucum };
  if (q.presentation?.code) return { value: q.value, unit: q.presentation.display ?? q.presentation.code, system: EDQM, code: q.presentation.code };
  if (q.ucum === '1') return { value: q.value, unit: q.original ?? '1', system: UCUM, code: '1' };
  return q.original ? { value: q.value, unit: q.original } : { value: q.value };
}

const packages = (value: number): Quantity => ({ value, unit: 'package', system: UCUM, code: '{package}' });

function humanName(n: PersonName | undefined): HumanName[] | undefined {
  if (!n) return undefined;
  const name: HumanName = {};
  if (n.family) name.family = n.family;
  if (n.given.length) name.given = n.given;
  return [name];
}

/** The object without its undefined members and empty arrays (the emitters' own objects: keys written here, not upstream). */
function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    const v: unknown = o[k];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  }
  return out as T;
}

// --- MedicationRequest --------------------------------------------------------------------------------

function timingOf(d: DoseInfo): Timing | undefined {
  const repeat: NonNullable<Timing['repeat']> = {};
  const e = d.every;
  if (d.daysOfWeek?.length && (!e || (e.value === 1 && e.unit === 'd') || e.unit === 'wk')) {
    // Fixed weekdays: so many times a week (every n weeks), on those days. Said as a weekly frequency, not
    // "once a day" restricted by dayOfWeek, so that a reader who skips dayOfWeek still does not read daily.
    repeat.frequency = d.daysOfWeek.length;
    repeat.period = e?.unit === 'wk' ? e.value : 1;
    repeat.periodUnit = 'wk';
  } else if (d.every) {
    repeat.frequency = 1;
    repeat.period = d.every.value;
    repeat.periodUnit = d.every.unit;
  } else if (d.when || d.timeOfDay) {
    // A time of day with no interval is once daily at that time.
    repeat.frequency = 1;
    repeat.period = 1;
    repeat.periodUnit = 'd';
  }
  if (d.daysOfWeek?.length) repeat.dayOfWeek = d.daysOfWeek.map((w) => w.code);
  if (d.when) repeat.when = [d.when.code as 'MORN'];
  if (d.timeOfDay) repeat.timeOfDay = [d.timeOfDay];
  if (d.start || d.end) repeat.boundsPeriod = compact({ start: d.start, end: d.end });
  return Object.keys(repeat).length ? { repeat } : undefined;
}

/**
 * FHIR Dosage.sequence: the same number means "at the same time", a higher one "then". Doses of one period
 * share one; dated periods count up in the M1's order. Undated doses are taken beside everything: all of
 * them 1 when nothing is dated; beside dated steps no single number says "during every step", so they carry
 * none, and their missing bounds say they hold throughout (audit 2, F14: "2 + 2, and 1 as needed in
 * addition" was sequence 1 then 2).
 */
function sequences(doses: readonly DoseInfo[]): (dose: DoseInfo | undefined) => number | undefined {
  const dated = byPeriod(doses).dated.map((group) => periodKey(group[0]!));
  return (dose) => {
    const key = dose ? periodKey(dose) : '';
    if (key) return dated.indexOf(key) + 1;
    return dated.length ? undefined : 1;
  };
}

function dosages(m: Mapped, route: CodeableConcept | undefined): Dosage[] {
  const text = m.one('MedicationRequest.dosageInstruction.text', 'text');
  const timings = m.all('MedicationRequest.dosageInstruction.timing', 'dosage');
  const quantities = m.all('MedicationRequest.dosageInstruction.doseAndRate.doseQuantity', 'quantity');
  const asNeeded = m.all('MedicationRequest.dosageInstruction.asNeededBoolean', 'as-needed');
  const maxima = m.all('MedicationRequest.dosageInstruction.maxDosePerPeriod', 'dosage');
  const indexes = [...new Set([...timings, ...quantities, ...asNeeded, ...maxima].map((v) => v.index ?? 0))].sort((a, b) => a - b);
  if (!indexes.length) indexes.push(0);
  const sequenceOf = sequences(timings.map((t) => t.value));
  return indexes.map((index, i) => {
    const dose = timings.find((t) => t.index === index)?.value;
    // A dose from a Kortdose pattern carries its amount itself.
    const quantity = quantities.find((q) => q.index === index)?.value ?? dose?.quantity;
    const max = maxima.find((x) => x.index === index)?.value.maxPerDay;
    const dosage: Dosage = compact({
      sequence: indexes.length > 1 ? sequenceOf(dose) : undefined,
      // A dose on fixed weekdays or days on/off: its timing is stated in words, never as a daily schedule.
      text: dose?.scheduleInNotes ? [i === 0 ? text : undefined, doseLines([dose], 'nb')[0]].filter(Boolean).join('\n') : i === 0 ? text : undefined,
      timing: dose && !dose.scheduleInNotes ? timingOf(dose) : dose?.start || dose?.end ? { repeat: { boundsPeriod: compact({ start: dose.start, end: dose.end }) } } : undefined,
      // Without a position (Bruk 3 Ved behov) as needed holds for every dose.
      asNeededBoolean: asNeeded.some((a) => a.index === undefined || a.index === index) ? true : undefined,
      route,
      doseAndRate: quantity ? [{ doseQuantity: fhirQuantity(quantity) }] : undefined,
      maxDosePerPeriod: max ? { numerator: fhirQuantity(max), denominator: { value: 1, unit: 'day', system: UCUM, code: 'd' } } : undefined,
    });
    return dosage;
  });
}

function medicationRequest(input: EmitFhirInput): MedicationRequest {
  const { mapped: m, ids } = input;
  const route = m.one('MedicationRequest.dosageInstruction.route', 'code-map')?.concept;
  const counts = m.one('MedicationRequest.dispenseRequest.numberOfRepeatsAllowed', 'dispensings-remaining');
  const perDispense = m.all('MedicationRequest.dispenseRequest.quantity', 'package-count', 'quantity')[0];
  // An amount in pieces ("100 stk") in its unit of presentation (100 Tablet, EDQM), as the CDA supply says
  // it: UCUM 1 alone does not say what is counted.
  const quantity: Quantity | undefined =
    perDispense === undefined
      ? undefined
      : typeof perDispense.value === 'number'
        ? packages(perDispense.value)
        : fhirQuantity(countedInPieces(perDispense.value, formsOf(input)));
  const antall = m.one('MedicationRequest.dispenseRequest.extension[prescribedQuantity].valueQuantity', 'package-count');
  const extension: Extension[] = [];
  const rendered = m.one('MedicationRequest.extension[renderedDosageInstruction].valueMarkdown', 'text');
  if (rendered) extension.push({ url: MPD_EXTENSION.renderedDosageInstruction, valueMarkdown: rendered });
  const dispenseExtension: Extension[] = [];
  // Total packages over every dispensing the prescription allows.
  if (antall !== undefined && counts) dispenseExtension.push({ url: MPD_EXTENSION.prescribedQuantity, valueQuantity: packages(antall * counts.total) });
  const start = m.one('MedicationRequest.dispenseRequest.validityPeriod.start', 'date');
  const end = m.one('MedicationRequest.dispenseRequest.validityPeriod.end', 'date');
  const reason = m.one('MedicationRequest.reasonCode.text', 'text');
  const note = m.one('MedicationRequest.note.text', 'text');
  const groupIdentifier = m.one('MedicationRequest.groupIdentifier', 'prescription-id');
  const identifier = m.all('MedicationRequest.identifier', 'prescription-id').map((v) => v.value);
  // Every Bundle has its Patient; reading the row confirms that the table maps the subject.
  m.one('MedicationRequest.subject', 'reference');
  return compact({
    resourceType: 'MedicationRequest',
    id: ids.medicationRequest,
    meta: { profile: [MPD_PROFILE.medicationRequest] },
    extension: extension.length ? extension : undefined,
    identifier,
    status: (m.one('MedicationRequest.status', 'constant') ?? 'active') as MedicationRequest['status'],
    intent: (m.one('MedicationRequest.intent', 'constant') ?? 'order') as MedicationRequest['intent'],
    medicationReference: m.one('MedicationRequest.medicationReference', 'reference') ? ref(ids.medication) : undefined,
    subject: ref(ids.patient),
    authoredOn: m.one('MedicationRequest.authoredOn', 'date'),
    requester: m.one('MedicationRequest.requester', 'reference') ? ref(ids.practitionerRole) : undefined,
    reasonCode: reason ? [{ text: reason }] : undefined,
    groupIdentifier,
    note: note ? [{ text: note }] : undefined,
    dosageInstruction: dosages(m, route),
    dispenseRequest: compact({
      extension: dispenseExtension.length ? dispenseExtension : undefined,
      validityPeriod: start || end ? compact({ start, end }) : undefined,
      // FHIR counts repeats after the first dispense; Norway states what remains, this dispensing included.
      numberOfRepeatsAllowed: counts ? Math.max(0, counts.remaining - 1) : undefined,
      quantity,
    }),
    substitution: { allowedBoolean: m.one('MedicationRequest.substitution.allowedBoolean', 'substitution') ?? true },
  } satisfies MedicationRequest) as MedicationRequest;
}

// --- Medication ---------------------------------------------------------------------------------------

/** "100", "2 x 150", "10 x 1" -> total pieces; undefined when the text is not a product of numbers. */
export function packageSize(text: string): number | undefined {
  return sizeFactors(text)?.reduce((a, b) => a * b, 1);
}

function medication(input: EmitFhirInput): Medication {
  const { mapped: m, ids, m1, product } = input;
  const extension: Extension[] = [];
  const pack = packaging(input);
  const productName = m.one('Medication.extension[productName].valueString', 'copy');
  if (productName !== undefined) extension.push({ url: MPD_EXTENSION.productName, valueString: String(productName) });
  const atc = m.all('Medication.extension[classification].valueCodeableConcept', 'coding').map((v) => v.value);
  if (atc.length) extension.push({ url: MPD_EXTENSION.classification, valueCodeableConcept: { coding: atc } });
  const packageType = m.one('Medication.extension[packageType].valueCodeableConcept', 'code-map');
  if (packageType) extension.push({ url: MPD_EXTENSION.packageType, valueCodeableConcept: packageType.concept });
  extension.push(...pack.extension);

  const festCodings = m.all('Medication.code.coding', 'coding').map((v) => v.value);
  const codeText = m.one('Medication.code.text', 'text');
  const code: CodeableConcept = compact({ coding: festCodings, text: codeText });

  const names = m.all('Medication.ingredient.itemCodeableConcept.text', 'text');
  const substanceAtc = m.one('Medication.ingredient.itemCodeableConcept.coding', 'coding');
  const strengths = m.all('Medication.ingredient.strength', 'strength');
  const active = m.one('Medication.ingredient.isActive', 'constant');
  const ingredientIndexes = [...new Set([...names, ...strengths].map((v) => v.index ?? 0))].sort((a, b) => a - b);
  const ingredient: MedicationIngredient[] = ingredientIndexes.map((i) => {
    // FEST's English substance name when it has one, else the Norwegian one (the table's note).
    const name = names.find((n) => n.index === i)?.value ?? product?.ingredients[i]?.substance ?? 'unknown substance';
    const strength = strengths.find((s) => s.index === i)?.value;
    // One active substance: the product's 7-character ATC names it (eHDSIActiveIngredient is ATC-coded).
    const coded = substanceAtc && ingredientIndexes.length === 1 && substanceAtc.code?.length === 7 ? [substanceAtc] : undefined;
    return compact({
      itemCodeableConcept: compact({ coding: coded, text: name }),
      isActive: active === undefined ? undefined : active === 'true',
      strength: strength
        ? compact({ numerator: fhirQuantity(strength.numerator), denominator: strength.denominator ? fhirQuantity(strength.denominator) : { value: 1 } })
        : undefined,
    });
  });

  return compact({
    resourceType: 'Medication',
    id: ids.medication,
    meta: { profile: [MPD_PROFILE.medication] },
    extension: extension.length ? extension : undefined,
    identifier: m.all('Medication.identifier', 'identifier').map((v) => v.value),
    code,
    manufacturer: (() => {
      const name = m.one('Medication.manufacturer.display', 'copy');
      return name === undefined ? undefined : { display: String(name) };
    })(),
    form: m.one('Medication.form', 'code-map')?.concept,
    amount: pack.amount,
    ingredient,
  } satisfies Medication) as Medication;
}

/** What one package holds: FEST's amount, else the prescribed package size (PakningsinfoResept). */
function packageContent(input: EmitFhirInput): { q: EuQuantity; fromFest: boolean } | undefined {
  const { mapped: m } = input;
  const fromFest = m.one('Medication.amount.numerator', 'quantity');
  if (fromFest) return { q: countedInPieces(fromFest, formsOf(input)), fromFest: true };
  const unit = m.one('Medication.amount.numerator.unit', 'code-map');
  const prescribed = prescribedPackage(input.m1);
  if (!prescribed || !unit) return undefined;
  const eu = unit.eu;
  const q: EuQuantity = { value: prescribed.size, original: prescribed.unit.code };
  if (unit.concept.text) q.original = unit.concept.text;
  if (eu?.system === UCUM && eu.code) q.ucum = eu.code;
  else if (eu?.system === EDQM) q.presentation = eu;
  if (eu?.display) q.unitDisplay = eu.display;
  return { q: countedInPieces(q, formsOf(input)), fromFest: false };
}

/**
 * Medication.amount, and for a multipack the MPD way of nesting it: amount counts the inner items (in the
 * container's unit of presentation when the package type has one), sizeOfItem says what one item holds.
 * FHIR has one level of nesting; a three-level package ("2 x 7 x 1") counts all its inner items.
 */
function packaging(input: EmitFhirInput): { amount?: Medication['amount']; extension: Extension[] } {
  const denominatorValue = Number(input.mapped.one('Medication.amount.denominator.value', 'constant') ?? '1');
  const denominator = { value: Number.isFinite(denominatorValue) ? denominatorValue : 1 };
  const content = packageContent(input);
  if (!content) return { extension: [] };
  const levels = packageLevels(sizeTextOf(input, content.fromFest), content.q.value);
  if (!levels) return { amount: { numerator: fhirQuantity(content.q), denominator }, extension: [] };
  const items = levels.counts.reduce((a, b) => a * b, 1);
  const container = containerPresentation(formsOf(input));
  const extension: Extension[] = [{ url: MPD_EXTENSION.sizeOfItem, valueQuantity: fhirQuantity({ ...content.q, value: levels.item }) }];
  if (container) extension.push({ url: MPD_EXTENSION.unitOfPresentation, valueCodeableConcept: { coding: [container] } });
  // Never a bare number: "2" alone reads as the package's content. Without the container's unit of
  // presentation the items are a count, UCUM 1, as the CDA's pharm:quantity unit="1" of each level says.
  const numerator: Quantity = container?.code
    ? { value: items, unit: container.display ?? container.code, system: EDQM, code: container.code }
    : { value: items, unit: '1', system: UCUM, code: '1' };
  return { amount: { numerator, denominator }, extension };
}

/** The EDQM unit of presentation of the package type (Ampoule for Ampulle), when its ConceptMap has one. */
export function containerPresentation(forms: PackageForms): Coding | undefined {
  const type = forms.packageType;
  if (!type?.system) return undefined;
  const concept = toEuConcept(CONCEPT_MAP.containerUnitOfPresentation, { system: `urn:oid:${type.system.replace(/^urn:oid:/, '')}`, code: type.code });
  return concept.eu?.system === EDQM ? concept.eu : undefined;
}

/** The package a Legemiddelpakning prescription names: its size as a number and its unit (7452). */
export function prescribedPackage(m1: M1Message): { size: number; unit: { code: string; system?: string }; path: string } | undefined {
  const dok = m1.resept.reseptDok;
  const drug = dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.legemiddel : undefined;
  const info = drug?.kind === 'Legemiddelpakning' ? drug.pakningsinfoResept[0] : undefined;
  const size = info ? packageSize(info.pakningsstr) : undefined;
  if (!info || size === undefined || !drug) return undefined;
  const unit = info.enhetPakning.oid ? { code: info.enhetPakning.code, system: `urn:oid:${info.enhetPakning.oid}` } : { code: info.enhetPakning.code };
  return { size, unit, path: drug.path };
}

export interface PackageForms {
  /** Legemiddelform (7448) of the product: FEST's, else the prescription's. */
  doseForm?: { code: string; system?: string | undefined } | undefined;
  /** Pakningstype (7449) from FEST. */
  packageType?: { code: string; system?: string | undefined } | undefined;
}

export function formsOf(input: { m1: M1Message; product?: FestProduct | undefined }): PackageForms {
  const dok = input.m1.resept.reseptDok;
  const drug = dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.legemiddel : undefined;
  const m1Form = drug && drug.kind !== 'Legemiddelblanding' ? drug.legemiddelformKort : undefined;
  const doseForm = input.product?.doseForm ?? (m1Form ? { code: m1Form.code, system: m1Form.oid } : undefined);
  return { doseForm, packageType: input.product?.package?.packageType };
}

/** EDQM unit of presentation Actuation: one metered dose of a spray or an inhaler. */
const ACTUATION = '15001000';

/** Whether the dose form delivers metered doses (sprays, inhalers), by its EDQM dose form. */
function isMetered(forms: PackageForms): boolean {
  const form = forms.doseForm;
  if (!form?.system) return false;
  const concept = toEuConcept(CONCEPT_MAP.doseForm, { system: `urn:oid:${form.system.replace(/^urn:oid:/, '')}`, code: form.code });
  return /spray|inhalation|pressurised|nebuliser/i.test(concept.eu?.display ?? '');
}

/**
 * A package counted in pieces ("stk", UCUM 1) is stated in its unit of presentation (Tablet, Vial), from the
 * dose form (or else the container) through their unit-of-presentation ConceptMaps, as the table's note says.
 */
export function countedInPieces(q: EuQuantity, forms: PackageForms): EuQuantity {
  if (q.presentation?.code === ACTUATION && !isMetered(forms)) {
    // "doser" of a form that is not metered (a multi-dose powder, drops ...) are no actuations: no EDQM unit.
    const out: EuQuantity = { ...q };
    delete out.presentation;
    delete out.unitDisplay;
    return out;
  }
  if (q.ucum !== '1') return q;
  const candidates: [string, PackageForms['doseForm']][] = [
    [CONCEPT_MAP.unitOfPresentation, forms.doseForm],
    [CONCEPT_MAP.containerUnitOfPresentation, forms.packageType],
  ];
  for (const [map, code] of candidates) {
    if (!code?.system) continue;
    const system = `urn:oid:${code.system.replace(/^urn:oid:/, '')}`;
    const concept = toEuConcept(map, { system, code: code.code });
    if (concept.eu?.system === EDQM) {
      const out: EuQuantity = { ...q, presentation: concept.eu };
      delete out.ucum;
      if (concept.eu.display) out.unitDisplay = concept.eu.display;
      return out;
    }
  }
  return q;
}

// --- parties --------------------------------------------------------------------------------------------

function patient(input: EmitFhirInput): Patient {
  const { mapped: m, ids } = input;
  // Identifier, birth date and sex: the table's rows in their order (the number, the register, the M1;
  // identity.ts says why), so FHIR, CDA and the PDF state the same.
  const identifier = m.all('Patient.identifier', 'identifier').map((v) => v.value);
  const birthDate = m.one('Patient.birthDate', 'date', 'copy');
  const gender = m.one('Patient.gender', 'gender', 'copy');
  // Read even when withheld, so the mapping's coverage still accounts for the row.
  const address = input.withholdPatientAddress ? (m.all('Patient.address', 'address'), []) : m.all('Patient.address', 'address').map((v) => v.value);
  return compact({
    resourceType: 'Patient',
    id: ids.patient,
    meta: { profile: [MPD_PROFILE.patient] },
    identifier,
    name: humanName(m.one('Patient.name', 'person-name')) ?? [
      { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] },
    ],
    gender: gender === undefined ? undefined : (String(gender) as Patient['gender']),
    birthDate: birthDate === undefined ? undefined : String(birthDate),
    address,
  } satisfies Patient) as Patient;
}

function practitioner(input: EmitFhirInput): Practitioner {
  const { mapped: m, ids } = input;
  const name = humanName(m.one('Practitioner.name', 'person-name'));
  return compact({
    resourceType: 'Practitioner',
    id: ids.practitioner,
    identifier: m.all('Practitioner.identifier', 'identifier').map((v) => v.value),
    name,
  } satisfies Practitioner) as Practitioner;
}

function practitionerRole(input: EmitFhirInput): PractitionerRole {
  const { mapped: m, ids } = input;
  const role = m.one('PractitionerRole.code', 'code-map');
  const specialty = m.all('PractitionerRole.specialty', 'coding').map((v) => ({ coding: [v.value] }));
  return compact({
    resourceType: 'PractitionerRole',
    id: ids.practitionerRole,
    practitioner: m.one('PractitionerRole.practitioner', 'reference') ? ref(ids.practitioner) : undefined,
    organization: m.one('PractitionerRole.organization', 'reference') ? ref(ids.organization) : undefined,
    code: role ? [role.concept] : undefined,
    specialty,
  } satisfies PractitionerRole) as PractitionerRole;
}

function organization(input: EmitFhirInput): Organization {
  const { mapped: m, ids } = input;
  return compact({
    resourceType: 'Organization',
    id: ids.organization,
    identifier: m.all('Organization.identifier', 'identifier').map((v) => v.value) as Identifier[],
    name: m.one('Organization.name', 'text'),
    telecom: m.all('Organization.telecom', 'telecom').map((v) => v.value),
    address: m.all('Organization.address', 'address').map((v) => v.value),
  } satisfies Organization) as Organization;
}

/** The MPD Bundle for one prescription item. */
export function emitMpdBundle(input: EmitFhirInput): Bundle {
  const resources: Resource[] = [
    medicationRequest(input),
    medication(input),
    patient(input),
    practitionerRole(input),
    practitioner(input),
    organization(input),
  ];
  return {
    resourceType: 'Bundle',
    id: input.ids.bundle,
    meta: { lastUpdated: input.now.toISOString() },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${input.ids.bundle}` },
    type: 'collection',
    timestamp: input.now.toISOString(),
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
  };
}

