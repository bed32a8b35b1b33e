// Enrichment of a Norwegian pharmacy's dispensation (Norway as country B) for the EU: the dispensed product
// from FEST by varenummer (name, ATC, strength, dose form, package), the pharmacist from HPR, the pharmacy
// from what the M10 says plus the HPR workplace with its HER-id. Coded values go through the ConceptMaps the
// mapping table m10-to-mpd-dispense names: the EU code first, the Norwegian code kept, an unmapped code
// sent as its Norwegian coding with a warning. Nothing here changes the dispensation itself (its content
// fingerprint must not depend on registry data); the results go into the MedicationDispense and the CDA.
import type { CodeableConcept, Coding, Extension, Identifier, Medication, MedicationIngredient, OperationOutcomeIssue, Organization, Practitioner, Quantity } from '@medplum/fhirtypes';
import { CODE_SYSTEM, OID } from '../../fhir/identifiers.ts';
import { findProduct, type DrugRegistry } from '../../registries/drugs.ts';
import { packageLevels } from '../../registries/fest/package-size.ts';
import type { CodedValue, FestProduct } from '../../registries/fest/types.ts';
import { normaliseHpr, type HprPerson, type PrescriberRegistry } from '../../registries/hpr.ts';
import { display, toEuConcept, type MapSelector } from '../../terminology/index.ts';
import { VARENUMMER_SYSTEM } from '../codes.ts';
import { EXT, MPD } from '../fhir-dispense.ts';
import type { Dispensation, Person } from '../model.ts';
import { codeMapFor } from './mapping.ts';

export const FEST_ID_SYSTEM = 'http://ehelse.no/fhir/CodeSystem/FEST';
const UCUM = 'http://unitsofmeasure.org';

export interface EnrichRegistries {
  drugs?: DrugRegistry;
  hpr?: PrescriberRegistry;
}

export interface Enrichment {
  medication?: Medication;
  /** Whether the dispensed product differs from the prescribed one (the M10 says so, or the ATC codes differ). */
  substitution?: { wasSubstituted: boolean; reason?: string };
  pharmacy?: Organization;
  pharmacist?: Practitioner;
  /** The HPR entry behind the pharmacist, for the CDA author's function code. */
  hprPerson?: HprPerson;
}

export interface Enriched {
  enrichment?: Enrichment;
  /** FEST's record of the dispensed pack (by varenummer), for the dispensing rules. */
  fest?: FestProduct;
  warnings: OperationOutcomeIssue[];
}

/** True for dispensations reported from Norway: only those carry what the Norwegian registries know. */
export function isNorwegianDispensation(d: Dispensation): boolean {
  return d.source === 'm10' || !!d.product.varenummer || d.pharmacy.identifiers.some((i) => i.system === OID.her);
}

export async function enrichNorwegianDispensation(d: Dispensation, reg: EnrichRegistries, prescribed?: Medication): Promise<Enriched> {
  if (!isNorwegianDispensation(d)) return { warnings: [] };
  const warnings: OperationOutcomeIssue[] = [];
  const enrichment: Enrichment = {};

  let product: FestProduct | undefined;
  if (reg.drugs) {
    const found = await findProduct(reg.drugs, { kind: 'Legemiddelpakning', varenr: d.product.varenummer, atc: d.product.atc?.code, name: d.product.name }, { expression: 'MedicationDispense.medicationReference' });
    product = found.product;
    warnings.push(...found.warnings);
  }
  enrichment.medication = medicationFor(d, product, warnings);
  const substitution = substitutionFor(d, enrichment.medication, prescribed);
  if (substitution) enrichment.substitution = substitution;

  const hprNumber = d.pharmacist?.identifiers.find((i) => i.system === OID.hpr)?.value;
  const person = hprNumber && reg.hpr ? await reg.hpr.byHpr(hprNumber) : undefined;
  if (hprNumber && reg.hpr && !person) {
    warnings.push({ severity: 'warning', code: 'not-found', diagnostics: `HPR number ${hprNumber} is not in the Health Personnel Register; the pharmacist is sent by number only`, expression: ['MedicationDispense.performer'] });
  }
  if (person) enrichment.hprPerson = person;
  enrichment.pharmacist = practitionerFor(d.pharmacist, person, warnings);
  enrichment.pharmacy = organizationFor(d, person);
  return product ? { enrichment, fest: product, warnings } : { enrichment, warnings };
}

// ---- product ----

function concept(selector: MapSelector | undefined, source: CodedValue | { system: string; code: string; display?: string }, expression: string, warnings: OperationOutcomeIssue[]): CodeableConcept {
  const system = 'system' in source && source.system?.startsWith('urn:') ? source.system : `urn:oid:${source.system}`;
  if (!selector) return { coding: [{ system, code: source.code, ...(source.display ? { display: source.display } : {}) }] };
  const eu = toEuConcept(selector, { system, code: source.code, display: source.display }, { expression });
  if (eu.warning) warnings.push(eu.warning);
  return eu.concept;
}

function medicationFor(d: Dispensation, product: FestProduct | undefined, warnings: OperationOutcomeIssue[]): Medication {
  const p = d.product;
  const name = product?.name ?? p.name;
  const extension: Extension[] = [{ url: EXT.productName, valueString: product?.brandName ? `${product.brandName} ${strengthText(product) ?? ''}`.trim() : name }];
  const atcCode = product?.atc?.code ?? p.atc?.code;
  if (atcCode) {
    const atc: Coding = { system: CODE_SYSTEM.atc, code: atcCode };
    const english = display(CODE_SYSTEM.atc, atcCode, 'en') ?? product?.atc?.display ?? p.atc?.display;
    if (english) atc.display = english;
    extension.push({ url: EXT.classification, valueCodeableConcept: { coding: [atc] } });
  }
  const identifier: Identifier[] = [];
  const coding: Coding[] = [];
  const varenr = p.varenummer ?? product?.varenr;
  if (varenr) {
    identifier.push({ system: VARENUMMER_SYSTEM, value: varenr });
    coding.push({ system: VARENUMMER_SYSTEM, code: varenr, display: name });
  }
  if (product) {
    identifier.push({ system: FEST_ID_SYSTEM, value: product.festId });
    coding.push({ system: FEST_ID_SYSTEM, code: product.festId });
  }
  const m: Medication = { resourceType: 'Medication', meta: { profile: [MPD.medication] }, extension, code: { coding, text: name } };
  if (identifier.length) m.identifier = identifier;

  const form = p.form && p.form.system === CODE_SYSTEM.volven(7448) ? { system: '2.16.578.1.12.4.1.1.7448', code: p.form.code, ...(p.form.display ? { display: p.form.display } : {}) } : product?.doseForm;
  if (form) m.form = concept(codeMapFor('Medication.form'), { system: form.system ?? '2.16.578.1.12.4.1.1.7448', code: form.code, ...(form.display ? { display: form.display } : {}) }, 'Medication.form', warnings);

  const ingredients = product?.ingredients ?? [];
  if (ingredients.length) m.ingredient = ingredients.map((ing) => ingredientFor(ing, warnings));

  const size = p.package?.size;
  if (size && size.value > 0) {
    const unit = size.code ? concept(codeMapFor('Medication.amount.numerator.unit'), { system: size.system ?? CODE_SYSTEM.volven(7484), code: size.code, ...(size.unit ? { display: size.unit } : {}) }, 'Medication.amount', warnings) : undefined;
    m.amount = { numerator: quantityFrom(size.value, unit, size.unit), denominator: { value: 1 } };
  } else if (product?.package?.amount) {
    const u = product.package.unit;
    const unit = u ? concept(codeMapFor('Medication.ingredient.strength'), { system: u.system ?? '2.16.578.1.12.4.1.1.7452', code: u.code, ...(u.display ? { display: u.display } : {}) }, 'Medication.amount', []) : undefined;
    m.amount = { numerator: quantityFrom(product.package.amount, unit, u?.code), denominator: { value: 1 } };
  }
  return nested(m, product);
}

/**
 * A multipack ("3 x 21" tablets in FEST) as MPD states one: `amount` counts the items, sizeOfItem says what
 * one holds. Only when FEST's size text multiplies out to the amount stated; otherwise the total stays.
 */
function nested(m: Medication, product: FestProduct | undefined): Medication {
  const total = m.amount?.numerator;
  const levels = total?.value !== undefined ? packageLevels(product?.package?.size, total.value) : undefined;
  if (!total || !levels) return m;
  const items = levels.counts.reduce((a, b) => a * b, 1);
  return {
    ...m,
    extension: [...(m.extension ?? []), { url: EXT.sizeOfItem, valueQuantity: { ...total, value: levels.item } }],
    // A count, UCUM 1, as the CDA's pharm:quantity unit="1" says: a bare "3" reads as the package's content.
    amount: { numerator: { value: items, unit: '1', system: UCUM, code: '1' }, denominator: { value: 1 } },
  };
}

function ingredientFor(ing: FestProduct['ingredients'][number], warnings: OperationOutcomeIssue[]): MedicationIngredient {
  const out: MedicationIngredient = { itemCodeableConcept: { text: ing.substanceEnglish ?? ing.substance }, isActive: true };
  if (ing.strength) {
    const numerator = strengthQuantity(ing.strength.value, ing.strength.unit, warnings);
    const denominator = ing.denominator ? strengthQuantity(ing.denominator.value, ing.denominator.unit, warnings) : { value: 1 };
    out.strength = { numerator, denominator };
  }
  return out;
}

/** A FEST strength unit (kodeverk 9090 text such as "mg") to UCUM through the map the table names. */
function strengthQuantity(value: number, unit: string | undefined, warnings: OperationOutcomeIssue[]): Quantity {
  if (!unit) return { value };
  const selector = codeMapFor('Medication.ingredient.strength');
  const c = selector ? toEuConcept(selector, { system: CODE_SYSTEM.volven(9090), code: unit }, { expression: 'Medication.ingredient.strength' }) : undefined;
  if (c?.warning) warnings.push(c.warning);
  const ucum = c?.eu?.system === UCUM ? c.eu : undefined;
  return ucum ? { value, unit, system: UCUM, code: ucum.code! } : { value, unit };
}

function quantityFrom(value: number, unit: CodeableConcept | undefined, text: string | undefined): Quantity {
  const eu = unit?.coding?.[0];
  const q: Quantity = { value };
  if (text ?? eu?.display) q.unit = text ?? eu?.display;
  if (eu?.system && eu.code && eu.system !== CODE_SYSTEM.volven(7484) && eu.system !== CODE_SYSTEM.volven(7452)) {
    q.system = eu.system;
    q.code = eu.code;
  }
  return q;
}

function strengthText(p: FestProduct): string | undefined {
  const s = p.ingredients.find((i) => i.strength)?.strength;
  return s ? `${String(s.value).replace('.', ',')} ${s.unit ?? ''}`.trim() : undefined;
}

/**
 * A Norwegian pharmacy reports a substitution as Intervensjon type V; the EU also needs to know when the
 * dispensed product is another substance than the prescribed one, which shows in differing ATC codes.
 */
function substitutionFor(d: Dispensation, dispensed: Medication, prescribed: Medication | undefined): Enrichment['substitution'] {
  if (d.substitution.substituted) return undefined;
  // The classification, or else an ATC-coded active ingredient (eHDSI documents often carry only that).
  const atcOf = (m: Medication | undefined) =>
    [m?.extension?.find((e) => e.url === EXT.classification)?.valueCodeableConcept, ...(m?.ingredient ?? []).map((i) => i.itemCodeableConcept)]
      .flatMap((cc) => cc?.coding ?? [])
      .find((c) => c.system === CODE_SYSTEM.atc)?.code;
  const mine = atcOf(dispensed);
  const theirs = atcOf(prescribed);
  if (!mine || !theirs || mine === theirs) return undefined;
  return { wasSubstituted: true, reason: `The dispensed product (ATC ${mine}) is not the prescribed one (ATC ${theirs})` };
}

// ---- people and places ----

function practitionerFor(pharmacist: Person | undefined, person: HprPerson | undefined, warnings: OperationOutcomeIssue[]): Practitioner | undefined {
  if (!pharmacist && !person) return undefined;
  const pr: Practitioner = { resourceType: 'Practitioner' };
  const ids = pharmacist?.identifiers.map((i): Identifier => (i.system ? { system: i.system, value: i.value } : { value: i.value })) ?? [];
  if (person && !ids.some((i) => i.system === OID.hpr)) ids.push({ system: OID.hpr, value: person.hpr });
  if (ids.length) pr.identifier = ids.map((i) => (i.system === OID.hpr ? { ...i, value: normaliseHpr(i.value ?? '') ?? i.value! } : i));
  if (person) pr.name = [{ family: person.family, given: person.given }];
  else if (pharmacist?.family || pharmacist?.given.length) pr.name = [{ ...(pharmacist.family ? { family: pharmacist.family } : {}), ...(pharmacist.given.length ? { given: pharmacist.given } : {}) }];
  const category = person?.authorizations[0]?.category;
  if (category) {
    const selector = codeMapFor('PractitionerRole.code');
    const qualification = concept(selector, { system: CODE_SYSTEM.volven(9060), code: category.code, display: category.display }, 'Practitioner.qualification', warnings);
    pr.qualification = [{ code: qualification }];
  }
  return pr;
}

function organizationFor(d: Dispensation, person: HprPerson | undefined): Organization | undefined {
  const o = d.pharmacy;
  if (!o.name && !o.identifiers.length) return undefined;
  const her = o.identifiers.find((i) => i.system === OID.her)?.value;
  const workplace = her ? person?.workplaces.find((w) => w.herId === her) : undefined;
  const org: Organization = { resourceType: 'Organization' };
  const ids = o.identifiers.map((i): Identifier => (i.system ? { system: i.system, value: i.value } : { value: i.value }));
  if (workplace?.orgnr && !ids.some((i) => i.system === OID.orgnr)) ids.push({ system: OID.orgnr, value: workplace.orgnr });
  if (ids.length) org.identifier = ids;
  const name = o.name ?? workplace?.name;
  if (name) org.name = name;
  org.address = [{ ...(workplace?.city ? { city: workplace.city } : {}), country: o.country ?? 'NO' }];
  return org;
}
