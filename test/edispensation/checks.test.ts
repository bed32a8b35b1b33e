import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Problem } from '../../src/fhir/outcomes.ts';
import { OID, PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { DISPENSE_CHECK, DISPENSE_CHECK_SYSTEM, type DispenseCheckCode } from '../../src/edispensation/codes.ts';
import {
  checkDispensation,
  classifyRepeat,
  dispensationFingerprint,
  idempotencyKey,
  prescriptionKey,
  type CheckInput,
  type OriginalDispensationFacts,
} from '../../src/edispensation/checks.ts';
import { parseMpdDispense } from '../../src/edispensation/parse-fhir.ts';
import { readFileSync } from 'node:fs';
import type { Medication } from '@medplum/fhirtypes';
import { assessEuDispense } from '../../src/edispensation/eu/dispense-rules.ts';
import { parseEuPrescriptionCda } from '../../src/edispensation/eu/parse-prescription-cda.ts';
import { MPD_EXTENSION } from '../../src/fhir/mpd.ts';
import type { Dispensation } from '../../src/edispensation/model.ts';
import { activePrescription, czechDispensation, fixtureJson } from './support/fixtures.ts';

const NOW = new Date('2026-11-20T12:00:00Z');
const seen = new Set<string>();

function codesOf(p: Problem): string[] {
  const codes = p.issues.flatMap((i) => i.details?.coding?.filter((c) => c.system === DISPENSE_CHECK_SYSTEM).map((c) => c.code!) ?? []);
  codes.forEach((c) => seen.add(c));
  return codes;
}

function refused(input: Partial<CheckInput> & { dispensation?: Dispensation }): { status: number; codes: string[] } {
  const r = checkDispensation({ dispensation: czechDispensation(), channel: 'ncp', prescription: activePrescription(), now: NOW, ...input });
  if (r.ok) throw new Error('expected a refusal');
  return { status: r.problem.status, codes: codesOf(r.problem) };
}

function passed(input: Partial<CheckInput> = {}) {
  const r = checkDispensation({ dispensation: czechDispensation(), channel: 'ncp', prescription: activePrescription(), now: NOW, ...input });
  if (!r.ok) throw new Error(`expected to pass: ${JSON.stringify(r.problem.issues)}`);
  return r;
}

const discard = (overrides: Partial<Dispensation> = {}) => czechDispensation({ status: 'discarded', discardOf: czechDispensation().identifier, ...overrides });
const original = (overrides: Partial<OriginalDispensationFacts> = {}): OriginalDispensationFacts => ({
  exists: true,
  recordedAt: '2026-11-20T09:15:00Z',
  discarded: false,
  prescriptionKey: prescriptionKey(czechDispensation()),
  ...overrides,
});

describe('checkDispensation: a dispensation abroad of a Norwegian prescription (channel ncp)', () => {
  it('passes a sound dispensation and computes what remains', () => {
    const r = passed();
    expect(r.value.remainingAfter).toBe(2);
    expect(r.value.remainingQuantityAfter).toMatchObject({ value: 4 });
    expect(r.warnings).toEqual([]);
  });

  it('finishes the prescription on its last dispensing', () => {
    expect(passed({ prescription: activePrescription({ remainingDispensings: 1 }) }).value.remainingAfter).toBe(0);
  });

  it('finishes the prescription when the whole remaining quantity is handed over', () => {
    expect(passed({ prescription: activePrescription({ remainingQuantity: { value: 2, unit: 'pakning', code: '{pack}' } }) }).value.remainingAfter).toBe(0);
  });

  it('refuses an unknown prescription, before anything else', () => {
    expect(refused({ prescription: activePrescription({ exists: false, exportable: false, status: 'cancelled' }) })).toEqual({ status: 422, codes: ['DISP-PRESCRIPTION-UNKNOWN'] });
  });

  it('refuses a prescription that was never exportable', () => {
    expect(refused({ prescription: activePrescription({ exportable: false }) }).codes).toEqual(['DISP-NOT-EXPORTABLE']);
  });

  it.each([
    ['recalled', { status: 'cancelled' }],
    ['already completed', { status: 'completed' }],
    ['without dispensings left', { remainingDispensings: 0 }],
    ['expired before the dispensing day', { validUntil: '2026-11-19' }],
    ['not yet dispensable', { earliestDispense: '2026-12-01' }],
  ])('refuses a prescription that is %s', (_label, facts) => {
    expect(refused({ prescription: activePrescription(facts) }).codes).toEqual(['DISP-NOT-DISPENSABLE']);
  });

  it('allows dispensing on the expiry day itself (Norwegian calendar date)', () => {
    expect(passed({ prescription: activePrescription({ validUntil: '2026-11-20' }) }).ok).toBe(true);
  });

  it('refuses more than remains', () => {
    const d = czechDispensation({ quantity: { value: 7, unit: '1', code: '1', system: 'http://unitsofmeasure.org' } });
    expect(refused({ dispensation: d }).codes).toEqual(['DISP-QUANTITY-EXCEEDED']);
  });

  it('refuses a quantity in a unit that cannot be compared with the remaining packs', () => {
    const d = czechDispensation({ quantity: { value: 40, unit: 'tablet', code: '{tablet}' } });
    expect(refused({ dispensation: d }).codes).toEqual(['DISP-QUANTITY-UNIT']);
  });

  it('refuses a non-positive quantity', () => {
    expect(refused({ dispensation: czechDispensation({ quantity: { value: 0, unit: '1' } }) }).codes).toEqual(['DISP-QUANTITY-INVALID']);
  });

  it('refuses a dispensing in the future, but tolerates a few minutes of clock drift', () => {
    expect(refused({ dispensation: czechDispensation({ whenHandedOver: '2026-11-20T14:00:00+01:00' }) }).codes).toEqual(['DISP-DATE-INVALID']);
    expect(passed({ dispensation: czechDispensation({ whenHandedOver: '2026-11-20T13:05:00+01:00' }) }).ok).toBe(true);
  });

  it('refuses a dispensing before the prescription was issued', () => {
    expect(refused({ prescription: activePrescription({ issuedOn: '2026-11-21' }) }).codes).toEqual(['DISP-DATE-INVALID']);
  });

  it('refuses a dispensing for another patient', () => {
    const d = czechDispensation({ patient: { given: [], identifiers: [{ system: OID.fnr, value: '05886610019' }] } });
    expect(refused({ dispensation: d }).codes).toEqual(['DISP-PATIENT-MISMATCH']);
  });

  it('only warns when the patient cannot be cross-checked (no shared identifier system)', () => {
    const d = czechDispensation({ patient: { given: [], identifiers: [{ system: 'urn:oid:1.2.208.176.1.2', value: '0201909309' }] } });
    const r = passed({ dispensation: d });
    expect(r.warnings[0]?.expression).toEqual(['MedicationDispense.subject']);
  });

  it('reports every failing rule at once', () => {
    const d = czechDispensation({ quantity: { value: 9, unit: '1', code: '1' } });
    expect(refused({ dispensation: d, prescription: activePrescription({ exportable: false, status: 'cancelled' }) }).codes.sort()).toEqual(
      ['DISP-NOT-DISPENSABLE', 'DISP-NOT-EXPORTABLE', 'DISP-QUANTITY-EXCEEDED'].sort(),
    );
  });

  it('refuses an EU prescription coming back through the NCP, and a Norwegian one from a Norwegian pharmacy', () => {
    expect(refused({ prescription: activePrescription({ isEuPrescription: true }) }).codes).toEqual(['DISP-WRONG-DIRECTION']);
    expect(refused({ channel: 'pharmacy' }).codes).toEqual(['DISP-WRONG-DIRECTION']);
  });

  it('passes a Norwegian pharmacy dispensing an EU prescription without checking export rules', () => {
    const r = passed({ channel: 'pharmacy', prescription: activePrescription({ isEuPrescription: true, exportable: false, patientIdentifiers: [] }) });
    expect(r.value.remainingAfter).toBe(2);
  });

  it('puts the code, its display and a location on every refusal issue', () => {
    const r = checkDispensation({ dispensation: czechDispensation(), channel: 'ncp', prescription: activePrescription({ exportable: false }), now: NOW });
    if (r.ok) throw new Error('expected a refusal');
    expect(r.problem.issues[0]).toMatchObject({
      severity: 'error',
      code: 'business-rule',
      expression: ['MedicationDispense.authorizingPrescription'],
      details: { coding: [{ system: DISPENSE_CHECK_SYSTEM, code: 'DISP-NOT-EXPORTABLE', display: DISPENSE_CHECK['DISP-NOT-EXPORTABLE'] }] },
    });
  });
});

describe('checkDispensation: discards', () => {
  it('accepts a discard within 24 hours and gives the dispensing back', () => {
    const r = passed({ dispensation: discard(), original: original() });
    expect(r.value.remainingAfter).toBe(4);
    expect(r.value.remainingQuantityAfter).toMatchObject({ value: 8 });
  });

  it('accepts a discard at exactly 24 hours and refuses one a minute later', () => {
    expect(passed({ dispensation: discard(), original: original({ recordedAt: '2026-11-19T12:00:00Z' }) }).ok).toBe(true);
    expect(refused({ dispensation: discard(), original: original({ recordedAt: '2026-11-19T11:59:00Z' }) }).codes).toEqual(['DISP-DISCARD-TOO-LATE']);
  });

  it('refuses a discard of an unknown dispensation', () => {
    expect(refused({ dispensation: discard() }).codes).toEqual(['DISP-DISCARD-UNKNOWN']);
    expect(refused({ dispensation: discard(), original: original({ exists: false }) }).codes).toEqual(['DISP-DISCARD-UNKNOWN']);
  });

  it('refuses a withdrawal that names no dispensation when the prescription has more than one (audit2 F7)', () => {
    expect(refused({ dispensation: discard(), original: { exists: false, ambiguous: true, recordedAt: '', discarded: false } }).codes).toEqual(['DISP-DISCARD-AMBIGUOUS']);
  });

  it('refuses a second discard', () => {
    expect(refused({ dispensation: discard(), original: original({ discarded: true }) }).codes).toEqual(['DISP-ALREADY-DISCARDED']);
  });

  it('refuses a discard that names another prescription than the original', () => {
    const d = discard({ prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: 'another-prescription' } } });
    expect(refused({ dispensation: d, original: original() }).codes).toEqual(['DISP-DISCARD-MISMATCH']);
  });

  it('treats a FHIR entered-in-error like a discard', () => {
    expect(refused({ dispensation: czechDispensation({ status: 'entered-in-error' }), original: original({ recordedAt: '2026-11-01T00:00:00Z' }) }).codes).toEqual(['DISP-DISCARD-TOO-LATE']);
  });
});

describe('idempotency: key, fingerprint and repeat classification', () => {
  it('keys a discard apart from the dispensation it withdraws', () => {
    expect(idempotencyKey(czechDispensation())).toBe('urn:oid:2.16.17.710.804.1000.990.1.7|CZ-DISP-2026-000731');
    expect(idempotencyKey(discard())).toBe('urn:oid:2.16.17.710.804.1000.990.1.7|CZ-DISP-2026-000731|discard');
  });

  it('is a replay when the same content comes again, a 409 conflict when the content differs', () => {
    const fp = dispensationFingerprint(czechDispensation());
    expect(classifyRepeat(fp, undefined)).toEqual({ kind: 'new' });
    expect(classifyRepeat(dispensationFingerprint(czechDispensation()), { fingerprint: fp })).toEqual({ kind: 'replay' });
    const other = dispensationFingerprint(czechDispensation({ quantity: { value: 3, unit: '1', code: '1', system: 'http://unitsofmeasure.org' } }));
    const verdict = classifyRepeat(other, { fingerprint: fp });
    expect(verdict.kind).toBe('conflict');
    if (verdict.kind === 'conflict') {
      expect(verdict.problem.status).toBe(409);
      expect(codesOf(verdict.problem)).toEqual(['DISP-IDENTIFIER-CONFLICT']);
    }
  });

  it('ignores what a retry or a translation may change: displays, number spelling, offsets, whitespace, order', () => {
    const base = czechDispensation();
    const variant = czechDispensation({
      whenHandedOver: '2026-11-20T09:12:00Z', // same instant as 10:12+01:00
      recorded: '2026-11-20T11:00:00+01:00', // header time of a re-sent document
      quantity: { value: 2.0, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
      product: { ...base.product, atc: { ...base.product.atc!, display: 'hydrokortison' }, codes: [...base.product.codes].reverse() },
      dosageText: '  1 tablett morgen   og 1/2 tablett ettermiddag ',
    });
    expect(dispensationFingerprint(variant)).toBe(dispensationFingerprint(base));
  });

  it('changes when anything that matters changes', () => {
    const fp = dispensationFingerprint(czechDispensation());
    const changes: Partial<Dispensation>[] = [
      { whenHandedOver: '2026-11-21T10:12:00+01:00' },
      { prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: 'x' } } },
      { substitution: { substituted: false } },
      { pharmacy: { name: 'Other', identifiers: [], country: 'CZ' } },
      { status: 'discarded' },
    ];
    for (const c of changes) expect(dispensationFingerprint(czechDispensation(c))).not.toBe(fp);
  });

  it('property: the fingerprint does not depend on key order anywhere in the value', () => {
    const shuffle = (v: unknown, seed: number): unknown => {
      if (Array.isArray(v)) return v.map((x, i) => shuffle(x, seed + i));
      if (v && typeof v === 'object') {
        const entries = Object.entries(v);
        const rotated = entries.map((_, i) => entries[(i + seed) % entries.length]!);
        return Object.fromEntries(rotated.map(([k, x]) => [k, shuffle(x, seed + 1)]));
      }
      return v;
    };
    const fp = dispensationFingerprint(czechDispensation());
    fc.assert(fc.property(fc.nat(50), (seed) => dispensationFingerprint(shuffle(czechDispensation(), seed) as Dispensation) === fp));
  });
});

describe('the parser-level codes', () => {
  it('are carried by parseMpdDispense refusals', () => {
    const j = fixtureJson('edispensation/no-addison-de-mpd-dispense.json') as Record<string, any>;
    for (const [mutate] of [
      [(x: Record<string, any>) => (x.status = 'declined')],
      [(x: Record<string, any>) => (x.authorizingPrescription = [{ reference: '#rx' }, { reference: '#rx' }])],
      [(x: Record<string, any>) => (x.quantity.value = -1)],
      [(x: Record<string, any>) => (x.note = [{ text: 'Patient warned: do not combine with ibuprofen' }])],
    ] as const) {
      const copy = structuredClone(j);
      mutate(copy);
      const r = parseMpdDispense(copy);
      if (r.ok) throw new Error('expected a refusal');
      codesOf(r.problem);
    }
  });
});

describe('checkDispensation with the Norwegian dispensing rules: an EU prescription dispensed in Norway (channel pharmacy)', () => {
  // Metformin 500 mg film-coated tablets, 100 a pack, by brand.
  const prescribed: Medication = {
    resourceType: 'Medication',
    extension: [{ url: MPD_EXTENSION.productName, valueString: 'Metformin Mylan' }, { url: MPD_EXTENSION.classification, valueCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }] } }],
    form: { coding: [{ system: 'http://standardterms.edqm.eu', code: '10221000', display: 'Film-coated tablet' }] },
    ingredient: [{ itemCodeableConcept: { text: 'metformin' }, strength: { numerator: { value: 500, unit: 'mg' }, denominator: { value: 1, unit: '1' } } }],
    amount: { numerator: { value: 100, unit: '1' }, denominator: { value: 1 } },
  };
  const m10 = (product: Partial<Dispensation['product']>, o: Partial<Dispensation> = {}): Dispensation =>
    czechDispensation({
      source: 'm10',
      product: { name: 'Metformin Mylan Tab 500 mg', codes: [], atc: { system: 'http://www.whocc.no/atc', code: 'A10BA02' }, reseptgruppe: 'C', package: { size: { value: 100, unit: 'STK', code: 'STK' } }, ...product },
      quantity: { value: 1, unit: 'pakning', code: '{pack}' },
      substitution: { substituted: false },
      ...o,
    });
  const eu = (d: Dispensation, substitutionAllowed = true) => {
    const a = assessEuDispense({ dispensation: d, prescribed, substitutionAllowed, counting: { kind: 'packs', packContent: { value: 100, unit: 'stk' } } });
    return { eu: { issues: a.issues, warnings: a.warnings, ...(a.counted ? { counted: a.counted } : {}) }, substitution: a.substitution };
  };
  const rx = activePrescription({ isEuPrescription: true, exportable: false, patientIdentifiers: [] });
  const check = (d: Dispensation, substitutionAllowed = true) => ({ dispensation: d, channel: 'pharmacy' as const, prescription: rx, eu: eu(d, substitutionAllowed).eu });

  it('passes the prescribed product, not substituted, counted in prescribed packs', () => {
    const d = m10({});
    expect(eu(d, false).substitution.wasSubstituted).toBe(false);
    expect(passed(check(d, false)).value.remainingQuantityAfter).toMatchObject({ value: 5 });
  });

  it('refuses another substance, another strength, a substitution the prescription forbids, and groups A and B', () => {
    expect(refused(check(m10({ name: 'Hydrokortison Orifarm Tab 10 mg', atc: { system: 'http://www.whocc.no/atc', code: 'H02AB09' } }))).codes).toEqual(['DISP-PRODUCT-MISMATCH']);
    expect(refused(check(m10({ name: 'Metformin Mylan Tab 850 mg' }))).codes).toEqual(['DISP-PRODUCT-MISMATCH']);
    expect(refused(check(m10({ name: 'Metformin Annet Tab 500 mg' }), false)).codes).toEqual(['DISP-SUBSTITUTION-NOT-ALLOWED']);
    expect(refused(check(m10({ name: 'Metadon NYP Tab 20 mg', atc: { system: 'http://www.whocc.no/atc', code: 'N07BC02' }, reseptgruppe: 'A' }))).codes).toEqual(['DISP-CONTROLLED-PRODUCT', 'DISP-PRODUCT-MISMATCH']);
  });

  it('reports another brand as substituted where substitution is allowed, and counts other pack sizes by content', () => {
    const d = m10({ name: 'Metformin Annet Tab 500 mg', package: { size: { value: 200, unit: 'STK', code: 'STK' } } }, { quantity: { value: 2, unit: 'pakning', code: '{pack}' } });
    expect(eu(d).substitution).toMatchObject({ wasSubstituted: true, reason: expect.stringContaining('Metformin Annet') });
    expect(passed(check(d)).value.remainingQuantityAfter).toMatchObject({ value: 2 });
    expect(refused(check(m10({}, { quantity: { value: 7, unit: 'pakning', code: '{pack}' } }))).codes).toEqual(['DISP-QUANTITY-EXCEEDED']);
  });

  it('refuses an EU prescription for a narcotic or habit-forming medicine at intake', () => {
    const cda = readFileSync(new URL('../fixtures/edispensation/eP-L3-lantus-W8.openncp.xml', import.meta.url), 'utf8').replaceAll('A10AE04', 'N02AA01');
    const parsed = parseEuPrescriptionCda(cda);
    if (parsed.ok) throw new Error('expected a refusal');
    expect(parsed.problem.status).toBe(422);
    expect(codesOf(parsed.problem)).toEqual(['DISP-RX-CONTROLLED-PRODUCT']);
  });
});

afterAll(() => {
  // Every stable code is produced by some test in this file: none is dead, none is untested.
  expect([...seen].sort()).toEqual((Object.keys(DISPENSE_CHECK) as DispenseCheckCode[]).sort());
});
