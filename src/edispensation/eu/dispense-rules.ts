// Norwegian dispensing rules for an EU prescription dispensed in Norway (Norway as country B): is the
// dispensed product one the prescription allows, was it a substitution, is it outside the cross-border scope,
// and how much of the prescribed quantity does it use. Pure: the caller passes the stored prescription's
// product, the dispensation and what FEST knows about the dispensed pack; the result goes into the checks
// of the dispensing transaction (refusals and the counted amount) and into the eDispensation (substitution).
//
// What "the prescribed product" is. An EU prescription names a foreign product: a name, an ATC code, the
// strength of each active ingredient, an EDQM dose form, a pack content and sometimes a foreign package id.
// No Norwegian varenummer identifies it, so a Norwegian pharmacy can only dispense a product equal to it in
// substance, strength and form (what Norwegian substitution allows, the byttegruppe), and
//  - the same substance: the ATC codes must be equal (else DISP-PRODUCT-MISMATCH);
//  - the same strength: every active ingredient's strength, compared as an amount per unit after unit
//    conversion (g/mg/µg; ml; IE/E), must be equal. A dispensed strength that cannot be established (not in
//    FEST, not readable from NavnFormStyrke) is a mismatch: equivalence is not shown (DISP-PRODUCT-MISMATCH);
//  - the same dose form family: the EDQM terms grouped so that a film-coated tablet is a tablet but a
//    prolonged-release or gastro-resistant one is not. Forms Helsebro cannot place on both sides are not
//    refused, but answered with a warning;
//  - "the prescribed product itself" (what SUBST N asks for) is, beyond that, the same brand: the dispensed
//    product's name (FEST Varenavn, NavnFormStyrke, the MedicationDispense's name) equal to the prescribed
//    name or one a word-prefix of the other (so a prescription by INN, "metformin", is met by any metformin
//    of that strength and form), and the same Norwegian varenummer when the prescription names one. A
//    foreign package id (PCID) is not compared: no Norwegian pack carries it. Anything else is a
//    substitution: with substitution not allowed it is refused (DISP-SUBSTITUTION-NOT-ALLOWED), otherwise it
//    is reported to the NCP as substituted. So is whatever the pharmacy itself reports as a substitution
//    (M10 Intervensjon V, wasSubstituted true); a pharmacy's "not substituted" is never taken over ours.
import type { Medication, OperationOutcomeIssue, Quantity as FhirQuantity } from '@medplum/fhirtypes';
import { issue, warning } from '../../fhir/outcomes.ts';
import { CODE_SYSTEM } from '../../fhir/identifiers.ts';
import { isControlledAtc, isControlledGroup } from '../../registries/controlled-atc.ts';
import { sizeFactors } from '../../registries/fest/package-size.ts';
import type { FestProduct } from '../../registries/fest/types.ts';
import { checkCoding, VARENUMMER_SYSTEM, type DispenseCheckCode } from '../codes.ts';
import { EXT } from '../fhir-dispense.ts';
import type { Dispensation, Quantity } from '../model.ts';

// ---- amounts in a common unit ----

/** The units amounts are compared in: pieces (units of presentation), millilitres, grams, doses. */
export type AmountUnit = 'stk' | 'ml' | 'g' | 'dose';
export const AMOUNT_UNITS: readonly AmountUnit[] = ['stk', 'ml', 'g', 'dose'];
export interface Amount {
  value: number;
  unit: AmountUnit;
}

const FACTOR: Record<string, [AmountUnit, number]> = {};
const put = (unit: AmountUnit, factor: number, ...names: string[]) => names.forEach((n) => (FACTOR[n] = [unit, factor]));
// UCUM, EDQM units of presentation, Volven 7452 (prescriber/FEST) and 7484 (pharmacy), and the words senders use.
put('stk', 1, '1', '{unit}', 'unit', 'units', 'stk', 'st', 'piece', 'pieces', 'pcs', 'tablet', 'tablets', '{tablet}', '{tablets}', 'tab', 'tablett', 'tabletter', 'capsule', 'capsules', '{capsule}', 'kapsel', 'kapsler',
  'enp', 'enpac', 'datop', 'endos', 'hgl', 'hetteglass', 'vial', 'vials', '{vial}', 'amp', 'ampulle', 'ampoule', '{ampoule}', 'penn', 'pen', '{pen}', 'spr', 'sprøyte', 'syringe', 'syl', 'sylamp', 'cartridge', 'poser', 'pose', 'sachet', 'kuler',
  'stikkpille', 'stikkpiller', 'suppository', 'plaster', 'patch', '{patch}', 'pre-filled syringe', 'pre-filled pen');
put('ml', 1, 'ml', 'mlamp', 'mlgl', 'mlhgl', 'mlpen', 'mlpip', 'mlpl', 'mlspr', 'mlsyl', 'milliliter', 'millilitre');
put('ml', 1000, 'l', 'l pl', 'liter', 'litre');
put('ml', 100, 'dl');
put('ml', 0.001, 'ul', 'µl', 'mcl');
put('g', 1, 'g', 'g spr', 'gram');
put('g', 1000, 'kg');
put('g', 0.001, 'mg');
put('g', 0.000001, 'ug', 'µg', 'mcg', 'mikrog');
put('dose', 1, 'dose', 'doser', 'doses', '{dose}', '{doses}', 'spray', 'actuation', '{actuation}', '15001000');

/** A value in one of the common units, or undefined when the unit is not one Helsebro can place. */
export function toAmount(value: number, ...units: (string | undefined)[]): Amount | undefined {
  for (const u of units) {
    const key = u?.trim().toLowerCase();
    if (key === undefined || key === '') continue;
    const hit = FACTOR[key] ?? (/^15\d{6}$/.test(key) ? (['stk', 1] as [AmountUnit, number]) : undefined);
    if (hit) return { value: round(value * hit[1]), unit: hit[0] };
  }
  return undefined;
}

const amountOfQuantity = (q: Pick<FhirQuantity, 'value' | 'unit' | 'code'> | undefined): Amount | undefined =>
  typeof q?.value === 'number' ? toAmount(q.value, q.code, q.unit) : undefined;

export const isAmountUnit = (u: string | undefined): u is AmountUnit => (AMOUNT_UNITS as readonly string[]).includes(u ?? '');

/** The MPD Medication's pack content: amount, times sizeOfItem when the amount counts items. */
export function medicationPackContent(m: Medication | undefined): Amount | undefined {
  const amount = m?.amount?.numerator;
  const item = m?.extension?.find((e) => e.url === EXT.sizeOfItem)?.valueQuantity;
  const itemAmount = amountOfQuantity(item);
  if (itemAmount && typeof amount?.value === 'number') return { value: round(amount.value * itemAmount.value), unit: itemAmount.unit };
  return amountOfQuantity(amount);
}

/** What one pack of the dispensed product holds: FEST first (by varenummer), else what the message says. */
export function dispensedPackContent(d: Dispensation, fest: FestProduct | undefined): Amount | undefined {
  const fp = fest?.package;
  if (fp?.amount !== undefined && fp.amount > 0) {
    const a = toAmount(fp.amount, fp.unit?.code, fp.unit?.display);
    if (a) return a;
  }
  const size = d.product.package?.size;
  if (size) return toAmount(size.value, size.code, size.unit);
  // An M10 "2 x 150" is kept as text only.
  const text = d.product.package?.description;
  const m = text ? /(\d+(?:[.,]\d+)?(?:\s*[x×]\s*\d+(?:[.,]\d+)?)*)\s+(\S+)\s*$/.exec(text) : null;
  const factors = m ? sizeFactors(m[1]!) : undefined;
  return factors ? toAmount(factors.reduce((a, b) => a * b, 1), m![2]) : undefined;
}

/** Units meaning "number of packs". */
const PACK_UNITS = new Set(['', '1', '{pack}', '{package}', '{packages}', 'pack', 'package', 'packages', 'pk', 'pkn', 'pakning', 'pakninger', 'box', '{box}']);
const isPackQuantity = (q: Quantity): boolean => PACK_UNITS.has((q.code ?? q.unit).trim().toLowerCase());

/** The dispensed amount in a common unit: packs × pack content, or the quantity itself when it is an amount. */
export function dispensedAmount(d: Dispensation, packContent: Amount | undefined): Amount | undefined {
  const q = d.quantity;
  if (isPackQuantity(q)) return packContent ? { value: round(q.value * packContent.value), unit: packContent.unit } : undefined;
  // A coded unit is what counts; the text is only read when no code was sent (an M10 Mengde).
  return q.code !== undefined ? toAmount(q.value, q.code) : toAmount(q.value, q.unit);
}

// ---- strength ----

interface Strength {
  /** Amount per unit, in the base unit of `kind` (mg, IE, mmol ...) per `per` (stk, ml, g, dose). */
  value: number;
  kind: string;
  per: AmountUnit | 'stk';
}

const MASS_MG: Record<string, number> = { g: 1000, mg: 1, ug: 0.001, 'µg': 0.001, mcg: 0.001, mikrog: 0.001, ng: 0.000001 };
const ACTIVITY: Record<string, string> = { ie: 'IE', iu: 'IE', '[iu]': 'IE', '[iu]/ml': 'IE', e: 'E', u: 'E', '[u]': 'E', enheter: 'E', units: 'E' };

function strengthOf(value: number, unit: string | undefined, denValue: number | undefined, denUnit: string | undefined): Strength | undefined {
  const u = (unit ?? '').trim().toLowerCase();
  let kind: string;
  let v = value;
  if (MASS_MG[u] !== undefined) {
    kind = 'mg';
    v = value * MASS_MG[u]!;
  } else if (ACTIVITY[u]) kind = ACTIVITY[u]!;
  else if (u === 'mmol' || u === '%') kind = u;
  else return undefined;
  const den = denValue === undefined ? undefined : toAmount(denValue, denUnit ?? '1');
  if (denValue !== undefined && !den) return undefined;
  const per = den ?? { value: 1, unit: 'stk' as const };
  if (!(per.value > 0)) return undefined;
  return { value: round(v / per.value), kind, per: per.unit };
}

const sameStrength = (a: Strength, b: Strength): boolean =>
  a.kind === b.kind && a.per === b.per && Math.abs(a.value - b.value) <= 1e-6 * Math.max(1, Math.abs(a.value));

/** Strengths of the prescribed Medication's active ingredients (undefined if any cannot be read). */
export function medicationStrengths(m: Medication | undefined): Strength[] | undefined {
  const ings = (m?.ingredient ?? []).filter((i) => i.isActive !== false && i.strength?.numerator?.value !== undefined);
  if (!ings.length) return undefined;
  const out: Strength[] = [];
  for (const i of ings) {
    const n = i.strength!.numerator!;
    const d = i.strength!.denominator;
    const s = strengthOf(n.value!, n.code ?? n.unit, d?.value, d?.code ?? d?.unit);
    if (!s) return undefined;
    out.push(s);
  }
  return out;
}

/** Strengths from text: "Metformin Tab 500 mg", "Cosylan Mikst 1,7 mg/ml", "Lantus 100 E/ml", "750 mg/1 Vial". */
export function textStrengths(text: string | undefined): Strength[] | undefined {
  if (!text) return undefined;
  const re = /(\d+(?:[.,]\d+)?)\s*(mg|g|µg|ug|mcg|mikrog|IE|IU|E|U|mmol|%)(?:\s*\/\s*(\d+(?:[.,]\d+)?)?\s*([A-Za-zµ{}]+))?(?![A-Za-z])/g;
  const out: Strength[] = [];
  for (const m of text.matchAll(re)) {
    const den = m[4] ? Number((m[3] ?? '1').replace(',', '.')) : undefined;
    const s = strengthOf(Number(m[1]!.replace(',', '.')), m[2], den, m[4]);
    if (s) out.push(s);
  }
  return out.length ? out : undefined;
}

function festStrengths(p: FestProduct | undefined): Strength[] | undefined {
  const ings = p?.ingredients.filter((i) => i.strength) ?? [];
  if (!ings.length) return undefined;
  const out: Strength[] = [];
  for (const i of ings) {
    const s = strengthOf(i.strength!.value, i.strength!.unit, i.denominator?.value, i.denominator?.unit);
    if (!s) return undefined;
    out.push(s);
  }
  return out;
}

const sameStrengths = (a: Strength[], b: Strength[]): boolean => {
  if (a.length !== b.length) return false;
  const rest = [...b];
  return a.every((s) => {
    const at = rest.findIndex((t) => sameStrength(s, t));
    return at >= 0 && rest.splice(at, 1).length === 1;
  });
};

const strengthText = (s: Strength[]): string => s.map((x) => `${String(x.value).replace('.', ',')} ${x.kind}${x.per === 'stk' ? '' : `/${x.per}`}`).join(' + ');

// ---- dose form ----

/**
 * The family of an EDQM (or Volven 7448, by its English map display) dose form: what byttegruppe treats as
 * the same form. A film-coated tablet is a tablet; a prolonged-release, gastro-resistant, orodispersible or
 * effervescent one is not. Parenteral solutions and powders for them count as one family ("injection").
 */
export function formFamily(display: string | undefined): string | undefined {
  const t = display?.toLowerCase().trim();
  if (!t) return undefined;
  const release = /prolonged|modified|extended|depot/.test(t) ? 'prolonged-release ' : /gastro-resistant|enteric/.test(t) ? 'gastro-resistant ' : '';
  if (/inject|infusion|pre-filled (syringe|pen)/.test(t)) return `${release}injection`;
  if (/tablet/.test(t)) {
    const special = /(effervescent|orodispersible|chewable|sublingual|buccal|soluble|dispersible|vaginal|oral lyophilisate)/.exec(t)?.[1];
    return `${release}${special ? `${special} ` : ''}tablet`;
  }
  if (/capsule/.test(t)) return `${release}capsule`;
  if (/^(oral liquid|oral solution|syrup|mixture)$/.test(t)) return 'oral liquid';
  return `${release}${t.replace(/^(prolonged-release|modified-release|gastro-resistant)\s+/, '')}`;
}

const formDisplay = (m: Medication | undefined): string | undefined =>
  m?.form?.coding?.find((c) => c.system === 'http://standardterms.edqm.eu' && c.display)?.display ?? m?.form?.coding?.find((c) => c.display)?.display ?? m?.form?.text;

// ---- product identity ----

export function medicationAtc(m: Medication | undefined): string | undefined {
  return [m?.extension?.find((e) => e.url === EXT.classification)?.valueCodeableConcept, m?.code, ...(m?.ingredient ?? []).map((i) => i.itemCodeableConcept)]
    .flatMap((cc) => cc?.coding ?? [])
    .find((c) => c.system === CODE_SYSTEM.atc && c.code)
    ?.code?.trim()
    .toUpperCase();
}

export function medicationName(m: Medication | undefined): string | undefined {
  return m?.extension?.find((e) => e.url === EXT.productName)?.valueString ?? m?.code?.text;
}

const norm = (s: string): string =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** The same brand: equal names, or one a word-prefix of the other ("Metformin Mylan" / "Metformin Mylan Tab 500 mg"). */
function sameBrand(prescribed: string | undefined, dispensed: (string | undefined)[]): boolean {
  if (!prescribed) return false;
  const a = norm(prescribed.replace(/\d.*$/, ''));
  if (!a) return false;
  return dispensed.some((n) => {
    const b = n ? norm(n) : '';
    return !!b && (a === b || b.startsWith(`${a} `) || a.startsWith(`${b} `));
  });
}

function prescribedVarenummer(m: Medication | undefined): string | undefined {
  return m?.identifier?.find((i) => i.system === VARENUMMER_SYSTEM)?.value ?? m?.code?.coding?.find((c) => c.system === VARENUMMER_SYSTEM)?.code;
}

// ---- the assessment ----

export interface EuDispenseInput {
  dispensation: Dispensation;
  /** The prescribed product (contained in the stored MedicationRequest). */
  prescribed: Medication | undefined;
  substitutionAllowed: boolean;
  /** FEST's record of the dispensed pack, by varenummer. */
  fest?: FestProduct | undefined;
  /** The dispensed product as enriched for the EU (EDQM form). */
  dispensedMedication?: Medication | undefined;
  /** How the prescription counts: in packs ('pakning', with the content of one prescribed pack when known) or in an amount. */
  counting?: { kind: 'packs'; packContent?: Amount } | { kind: 'amount'; unit: string };
}

export interface EuDispenseAssessment {
  /** Refusals (422) and warnings to add to the dispensing checks. */
  issues: OperationOutcomeIssue[];
  warnings: OperationOutcomeIssue[];
  /** Whether the dispensed product is not the prescribed one, for the eDispensation. */
  substitution: { wasSubstituted: boolean; reason?: string };
  /** The dispensed quantity in the prescription's counting unit, when it could be converted. */
  counted?: Quantity;
}

/** Where the product, its group, the quantity and the substitution are in the message the pharmacy sent. */
export function paths(d: Pick<Dispensation, 'source'>) {
  if (d.source === 'm10') {
    const u = 'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering';
    const drug = `${u}.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning`;
    return { product: drug, group: `${drug}.Reseptgruppe`, quantity: `${u}.ReseptDokLegemiddel.Antall`, substitution: `${u}.Intervensjon`, prescription: `${u}.ReseptId` };
  }
  return {
    product: 'MedicationDispense.medication[x]',
    group: 'MedicationDispense.medication[x]',
    quantity: 'MedicationDispense.quantity',
    substitution: 'MedicationDispense.substitution',
    prescription: 'MedicationDispense.authorizingPrescription',
  };
}

const refuse = (code: DispenseCheckCode, nb: string, en: string, expression: string): OperationOutcomeIssue =>
  issue('business-rule', `${nb} / ${en}`, { expression: [expression], details: [checkCoding(code)] });

export function assessEuDispense(input: EuDispenseInput): EuDispenseAssessment {
  const { dispensation: d, prescribed, fest } = input;
  const at = paths(d);
  const issues: OperationOutcomeIssue[] = [];
  const warnings: OperationOutcomeIssue[] = [];
  const dispensedName = fest?.brandName ?? d.product.name;

  // Scope: narcotics (A) and habit-forming medicines (B) are outside cross-border ePrescription.
  const groups = [d.product.reseptgruppe, fest?.prescriptionGroup].filter((g): g is string => !!g);
  const dispensedAtc = (fest?.atc?.code ?? d.product.atc?.code)?.trim().toUpperCase();
  const prescribedAtc = medicationAtc(prescribed);
  if (groups.some(isControlledGroup)) {
    const g = groups.find(isControlledGroup)!.trim().toUpperCase();
    issues.push(refuse('DISP-CONTROLLED-PRODUCT', `${dispensedName} er i reseptgruppe ${g}; narkotiske og vanedannende legemidler utleveres ikke på EU-resept`, `${dispensedName} is in prescription group ${g}; narcotic and habit-forming medicines are not dispensed on an EU prescription`, at.group));
  } else if ((!groups.length && isControlledAtc(dispensedAtc)) || isControlledAtc(prescribedAtc)) {
    const atc = isControlledAtc(prescribedAtc) ? prescribedAtc : dispensedAtc;
    issues.push(refuse('DISP-CONTROLLED-PRODUCT', `ATC ${atc} hører til en klasse med narkotiske eller vanedannende legemidler, og reseptgruppen kan ikke bekreftes i FEST`, `ATC ${atc} belongs to a class of narcotic or habit-forming medicines, and FEST cannot confirm its prescription group`, at.group));
  }

  // Substance, strength, form.
  let mismatch = false;
  if (!prescribedAtc || !dispensedAtc) {
    mismatch = true;
    issues.push(refuse('DISP-PRODUCT-MISMATCH', `Virkestoffet kan ikke sammenlignes: ATC mangler for ${prescribedAtc ? 'det utleverte' : 'det forskrevne'} legemiddelet`, `The substance cannot be compared: the ${prescribedAtc ? 'dispensed' : 'prescribed'} product has no ATC code`, at.product));
  } else if (prescribedAtc !== dispensedAtc) {
    mismatch = true;
    issues.push(refuse('DISP-PRODUCT-MISMATCH', `Utlevert ${dispensedName} (ATC ${dispensedAtc}) er et annet virkestoff enn det forskrevne (ATC ${prescribedAtc})`, `The dispensed ${dispensedName} (ATC ${dispensedAtc}) is another substance than the prescribed one (ATC ${prescribedAtc})`, at.product));
  }
  const prescribedStrength = medicationStrengths(prescribed) ?? textStrengths(prescribed?.code?.text);
  const dispensedStrength = festStrengths(fest) ?? textStrengths(d.product.strength) ?? textStrengths(d.product.name);
  if (!mismatch && prescribedStrength) {
    if (!dispensedStrength) {
      mismatch = true;
      issues.push(refuse('DISP-PRODUCT-MISMATCH', `Styrken til ${dispensedName} kan ikke fastslås (ikke i FEST, ikke i navnet), så den kan ikke vises å være forskrevet styrke ${strengthText(prescribedStrength)}`, `The strength of ${dispensedName} cannot be established (not in FEST, not in its name), so it cannot be shown to be the prescribed ${strengthText(prescribedStrength)}`, at.product));
    } else if (!sameStrengths(prescribedStrength, dispensedStrength)) {
      mismatch = true;
      issues.push(refuse('DISP-PRODUCT-MISMATCH', `Utlevert styrke ${strengthText(dispensedStrength)} er ikke forskrevet styrke ${strengthText(prescribedStrength)}`, `The dispensed strength ${strengthText(dispensedStrength)} is not the prescribed ${strengthText(prescribedStrength)}`, at.product));
    }
  } else if (!mismatch) {
    warnings.push(warning('incomplete', 'The EU prescription states no strength that Helsebro can read; only the substance was compared', { expression: [at.product] }));
  }
  const pf = formFamily(formDisplay(prescribed));
  const df = formFamily(formDisplay(input.dispensedMedication)) ?? formFamily(d.product.form?.display);
  if (!mismatch && pf && df && pf !== df) {
    mismatch = true;
    issues.push(refuse('DISP-PRODUCT-MISMATCH', `Utlevert legemiddelform (${df}) er ikke den forskrevne (${pf})`, `The dispensed dose form (${df}) is not the prescribed one (${pf})`, at.product));
  } else if (!mismatch && (!pf || !df)) {
    warnings.push(warning('incomplete', 'The dose forms could not both be placed; the pharmacist is responsible for dispensing the prescribed form', { expression: [at.product] }));
  }

  // The prescribed product itself, or a substitution.
  const prescribedName = medicationName(prescribed);
  const varenr = prescribedVarenummer(prescribed);
  const otherPack = varenr !== undefined && d.product.varenummer !== undefined && varenr.padStart(6, '0') !== d.product.varenummer.padStart(6, '0');
  // A prescription by substance alone (a generic MPD Medication without a product name) names no brand.
  const brand = !prescribedName || sameBrand(prescribedName, [fest?.brandName, d.product.name, d.product.package?.description, fest?.name]);
  const substituted = d.substitution.substituted || otherPack || !brand;
  if (substituted && !input.substitutionAllowed) {
    issues.push(
      refuse(
        'DISP-SUBSTITUTION-NOT-ALLOWED',
        `Resepten tillater ikke bytte, og ${dispensedName} er ikke det forskrevne legemiddelet ${prescribedName ?? ''}`.trim(),
        `The prescription does not allow substitution, and ${dispensedName} is not the prescribed ${prescribedName ?? 'product'}`,
        d.substitution.substituted && brand && !otherPack ? at.substitution : at.product,
      ),
    );
  }
  const reason = substituted
    ? d.substitution.reason ?? `Generic substitution: ${dispensedName} dispensed for the prescribed ${prescribedName ?? 'product'}`
    : undefined;
  const out: EuDispenseAssessment = { issues, warnings, substitution: { wasSubstituted: substituted, ...(reason ? { reason } : {}) } };

  // Quantity in the prescription's counting unit.
  // Quantity only for a product that may be dispensed at all: units of another product say nothing.
  const counting = mismatch ? undefined : input.counting;
  if (counting) {
    const content = dispensedPackContent(d, fest);
    const amount = dispensedAmount(d, content);
    if (counting.kind === 'packs') {
      if (counting.packContent) {
        if (amount && amount.unit === counting.packContent.unit) {
          out.counted = { value: round(amount.value / counting.packContent.value), unit: 'pakning', code: '{pack}' };
        } else {
          issues.push(
            refuse(
              'DISP-QUANTITY-UNIT',
              `Utlevert mengde kan ikke sammenlignes med forskrevet pakning (${String(counting.packContent.value).replace('.', ',')} ${counting.packContent.unit}): pakningsinnholdet ${amount ? `er i ${amount.unit}` : 'er ukjent'}`,
              `The dispensed amount cannot be compared with the prescribed pack (${counting.packContent.value} ${counting.packContent.unit}): the pack content ${amount ? `is in ${amount.unit}` : 'is not known'}`,
              at.quantity,
            ),
          );
        }
      }
    } else if (amount && amount.unit === counting.unit) {
      out.counted = { value: amount.value, unit: counting.unit };
    } else {
      issues.push(
        refuse(
          'DISP-QUANTITY-UNIT',
          `Resepten teller i ${counting.unit}; utlevert mengde ${amount ? `er i ${amount.unit}` : 'kan ikke regnes om (pakningsinnholdet er ukjent)'}`,
          `The prescription counts in ${counting.unit}; the dispensed amount ${amount ? `is in ${amount.unit}` : 'cannot be converted (the pack content is not known)'}`,
          at.quantity,
        ),
      );
    }
  }
  return out;
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;
