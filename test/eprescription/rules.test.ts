import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Legemiddelblanding, M1Message, ReseptDokLegemiddel, TypeLegemiddel } from '../../src/eprescription/m1/model.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import fc from 'fast-check';
import {
  calendarDay,
  chainAllowsExport,
  decideExport,
  EXPORT_RULE_CATALOGUE,
  EXPORT_RULE_CODES,
  strengthsIn,
  EXPORT_RULE_SYSTEM,
  EXPORT_RULES,
  exportReasonIssues,
  exportRefusal,
  exportRuleCodeSystem,
  reasonLanguage,
  type ExportContext,
} from '../../src/eprescription/rules.ts';

function load(file: string): M1Message {
  const r = parseM1(readFileSync(fileURLToPath(new URL(`../fixtures/m1/valid/${file}`, import.meta.url))));
  if (!r.ok) throw new Error(JSON.stringify(r.problem));
  return r.value;
}

/** An exportable package prescription (reseptgruppe C, 3 repeats, valid 2026-02-10..2027-02-09). */
const BASE = load('01-pakning-hydrokortison.xml');
const fresh = (): M1Message => structuredClone(BASE);
const dok = (m: M1Message): ReseptDokLegemiddel => m.resept.reseptDok as ReseptDokLegemiddel;
const drug = (m: M1Message): TypeLegemiddel => dok(m).forskrivning.legemiddel as TypeLegemiddel;

const ctx = (over: Partial<ExportContext> = {}): ExportContext => ({
  now: new Date('2026-03-02T10:00:00+01:00'),
  dispensingsSoFar: 0,
  recalled: false,
  patientRestricted: false,
  ...over,
});
const codes = (m: M1Message, c: Partial<ExportContext> = {}): string[] => decideExport(m, ctx(c)).reasons.map((r) => r.code);

const RESEPT = 'MsgHead.Document.RefDoc.Content.Resept';

describe('the rule catalogue', () => {
  it('has these stable codes, in this order', () => {
    expect(EXPORT_RULE_CODES).toEqual([
      'NO-EXPORT-GROUP-A',
      'NO-EXPORT-GROUP-B',
      'NO-EXPORT-GROUP-K',
      'NO-EXPORT-GROUP-UNKNOWN',
      'NO-EXPORT-CONTROLLED-UNVERIFIED',
      'NO-EXPORT-PRODUCT-MISMATCH',
      'NO-EXPORT-MAGISTRAL',
      'NO-EXPORT-MERCHANDISE',
      'NO-EXPORT-UNLICENSED',
      'NO-EXPORT-LOCKED',
      'NO-EXPORT-GUARDIAN-RESERVATION',
      'NO-EXPORT-DOCTORS-NAME',
      'NO-EXPORT-OWN-PRACTICE',
      'NO-EXPORT-VETERINARY',
      'NO-EXPORT-EXPIRED',
      'NO-EXPORT-NOT-YET-DISPENSABLE',
      'NO-EXPORT-RECALLED',
      'NO-EXPORT-NO-DISPENSINGS-LEFT',
      'NO-EXPORT-BEING-DISPENSED',
      'NO-EXPORT-INVALID',
      'NO-EXPORT-UNKNOWN-TO-CHAIN',
      'NO-EXPORT-CHAIN-STATUS',
      'NO-EXPORT-PATIENT-RESTRICTION',
    ]);
    expect(Object.keys(EXPORT_RULES).sort()).toEqual([...EXPORT_RULE_CODES].sort());
  });

  it('gives every rule a distinct reason in bokmål and in English', () => {
    for (const r of EXPORT_RULE_CATALOGUE) {
      expect(r.nb.length, r.code).toBeGreaterThan(10);
      expect(r.en.length, r.code).toBeGreaterThan(10);
      expect(r.nb).not.toBe(r.en);
    }
    expect(new Set(EXPORT_RULE_CATALOGUE.map((r) => r.nb)).size).toBe(EXPORT_RULE_CATALOGUE.length);
    expect(new Set(EXPORT_RULE_CATALOGUE.map((r) => r.en)).size).toBe(EXPORT_RULE_CATALOGUE.length);
  });

  it('is published as a FHIR CodeSystem with bokmål designations', () => {
    const cs = exportRuleCodeSystem();
    expect(cs).toMatchObject({ resourceType: 'CodeSystem', url: EXPORT_RULE_SYSTEM, status: 'active', content: 'complete' });
    expect(cs.concept?.map((c) => c.code)).toEqual(EXPORT_RULE_CODES);
    expect(cs.concept?.[0]?.designation).toEqual([{ language: 'nb', value: EXPORT_RULE_CATALOGUE[0].nb }]);
  });
});

describe('each rule on its own', () => {
  it('exports an ordinary reseptgruppe C prescription, with all dispensings left', () => {
    const d = decideExport(BASE, ctx());
    expect(d).toEqual({ exportable: true, reasons: [], totalDispensings: 4, remainingDispensings: 4, decidedFor: '2026-03-02' });
  });

  it.each([
    ['A', 'NO-EXPORT-GROUP-A'],
    ['B', 'NO-EXPORT-GROUP-B'],
    ['K', 'NO-EXPORT-GROUP-K'],
    [' a ', 'NO-EXPORT-GROUP-A'],
  ])('reseptgruppe %j -> %s, pointing at the Reseptgruppe element', (group, code) => {
    const m = fresh();
    drug(m).reseptgruppe = { code: group };
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual([code]);
    expect(d.reasons[0]?.expression).toEqual([`${RESEPT}.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning.Reseptgruppe`]);
  });

  it.each([
    ['\u0410', '"\\u0410"'],
    ['A\u200b', '"A\\u200b"'],
    ['X', '"X"'],
    ['CFF', '"CFF"'],
  ])('a reseptgruppe outside kodeverk 7421 (%j) is refused as unknown, and the detail shows the value as it is', (group, shown) => {
    const m = fresh();
    drug(m).reseptgruppe = { code: group };
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-GROUP-UNKNOWN']);
    expect(d.reasons[0]?.expression).toEqual([`${RESEPT}.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning.Reseptgruppe`]);
    expect(d.reasons[0]?.detail?.en).toBe(`Prescription group given: ${shown}.`);
  });

  it('refuses a prescription dated ahead of today as not yet dispensable, naming Forskrivningsdato', () => {
    const m = fresh();
    m.resept.forskrivningsdato = '2026-03-03+01:00';
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-NOT-YET-DISPENSABLE']);
    expect(d.reasons[0]?.expression).toEqual([`${RESEPT}.Forskrivningsdato`]);
    expect(d.reasons[0]?.detail?.en).toBe('Prescribed on 2026-03-03.');
    m.resept.forskrivningsdato = '2026-03-02+01:00';
    expect(codes(m)).toEqual([]);
  });

  it.each(['C', 'CF', 'F'])('reseptgruppe %s may go abroad', (group) => {
    const m = fresh();
    drug(m).reseptgruppe = { code: group };
    expect(codes(m)).toEqual([]);
  });

  it('refuses a magistral preparation, and also names a group A component inside it', () => {
    const m = load('07-magistral.xml');
    expect(codes(m)).toEqual(['NO-EXPORT-MAGISTRAL']);
    const blanding = dok(m).forskrivning.legemiddel as Legemiddelblanding;
    blanding.bestanddelLegemiddel[0]!.legemiddel.reseptgruppe = { code: 'A' };
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-GROUP-A', 'NO-EXPORT-MAGISTRAL']);
    expect(d.reasons[0]?.expression[0]).toMatch(/BestanddelLegemiddel\.Legemiddelpakning\.Reseptgruppe$/);
  });

  it('refuses devices, nutrition and other goods, with one dispensing in total', () => {
    const d = decideExport(load('09-handelsvare-medforbmatr.xml'), ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-MERCHANDISE']);
    expect(d.reasons[0]?.expression).toEqual([`${RESEPT}.ReseptDokHandelsvare`]);
    expect(d.totalDispensings).toBe(1);
  });

  it('refuses a drug without marketing authorisation', () => {
    const m = fresh();
    dok(m).legemiddelUtenMt = { begrunnelse: 'Ingen alternativer', produsent: 'Syntetisk Farma GmbH', direktesoknadSlv: true };
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-UNLICENSED']);
    expect(d.reasons[0]?.expression).toEqual([`${RESEPT}.ReseptDokLegemiddel.LegemiddelUtenMt`]);
  });

  it.each([
    ['lastResept', 'NO-EXPORT-LOCKED', 'LastResept'],
    ['vergeinnsynsreservasjon', 'NO-EXPORT-GUARDIAN-RESERVATION', 'Vergeinnsynsreservasjon'],
    ['rekvLegensNavn', 'NO-EXPORT-DOCTORS-NAME', 'RekvLegensNavn'],
    ['tilEgenPraksis', 'NO-EXPORT-OWN-PRACTICE', 'TilEgenPraksis'],
  ] as const)('%s -> %s', (flag, code, element) => {
    const m = fresh();
    m.resept[flag] = true;
    const d = decideExport(m, ctx());
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatchObject({ code, expression: [`${RESEPT}.${element}`] });
  });

  it('treats Utloper as the last valid day', () => {
    const m = fresh();
    m.resept.utloper = '2026-03-02';
    expect(codes(m)).toEqual([]);
    m.resept.utloper = '2026-03-01';
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-EXPIRED']);
    expect(d.reasons[0]?.detail).toEqual({ nb: 'Utløpsdato 2026-03-01.', en: 'Expiry date 2026-03-01.' });
  });

  it('judges the day in Norwegian time unless told otherwise', () => {
    const m = fresh();
    m.resept.utloper = '2026-03-01';
    // 23:30 UTC on 1 March is already 2 March in Oslo.
    const lateEvening = new Date('2026-03-01T23:30:00Z');
    expect(decideExport(m, ctx({ now: lateEvening })).decidedFor).toBe('2026-03-02');
    expect(codes(m, { now: lateEvening })).toEqual(['NO-EXPORT-EXPIRED']);
    expect(codes(m, { now: lateEvening, timeZone: 'UTC' })).toEqual([]);
    expect(calendarDay(new Date('2026-07-31T22:30:00Z'), 'Europe/Oslo')).toBe('2026-08-01'); // summer time, UTC+2
  });

  it('refuses before the earliest dispensing day and allows it on that day', () => {
    const m = fresh();
    m.resept.tidligsteUtlevering = '2026-03-03';
    expect(codes(m)).toEqual(['NO-EXPORT-NOT-YET-DISPENSABLE']);
    m.resept.tidligsteUtlevering = '2026-03-02';
    expect(codes(m)).toEqual([]);
  });

  it('refuses a recalled prescription and a restricted patient, without an M1 element to point at', () => {
    const recalled = decideExport(BASE, ctx({ recalled: true }));
    expect(recalled.reasons).toMatchObject([{ code: 'NO-EXPORT-RECALLED', expression: [] }]);
    const restricted = decideExport(BASE, ctx({ patientRestricted: true }));
    expect(restricted.reasons).toMatchObject([{ code: 'NO-EXPORT-PATIENT-RESTRICTION', expression: [] }]);
  });

  it('counts dispensings: Reiterasjon + 1 minus dispensings so far, never below zero', () => {
    expect(decideExport(BASE, ctx({ dispensingsSoFar: 3 }))).toMatchObject({ exportable: true, totalDispensings: 4, remainingDispensings: 1 });
    const used = decideExport(BASE, ctx({ dispensingsSoFar: 4 }));
    expect(used).toMatchObject({ exportable: false, remainingDispensings: 0 });
    expect(used.reasons[0]).toMatchObject({
      code: 'NO-EXPORT-NO-DISPENSINGS-LEFT',
      expression: [`${RESEPT}.ReseptDokLegemiddel.Reiterasjon`],
      detail: { nb: '4 av 4 utleveringer er brukt.', en: '4 of 4 dispensings have been used.' },
    });
    expect(decideExport(BASE, ctx({ dispensingsSoFar: 9 })).remainingDispensings).toBe(0);
    const single = fresh();
    dok(single).reiterasjon = 0;
    expect(codes(single, { dispensingsSoFar: 1 })).toEqual(['NO-EXPORT-NO-DISPENSINGS-LEFT']);
  });
});

describe("the prescription chain's word (Reseptformidleren, kodeverk 7408)", () => {
  const chain = (status: string) => ({ chain: { known: true as const, status } });

  it('exports under status E only, with the count the chain gives', () => {
    expect(decideExport(BASE, ctx({ ...chain('E'), dispensingsSoFar: 3 }))).toMatchObject({ exportable: true, remainingDispensings: 1 });
  });

  it.each([
    ['T', 'NO-EXPORT-RECALLED', 'tilbakekalt (status T)'],
    ['R', 'NO-EXPORT-NO-DISPENSINGS-LEFT', 'avsluttet (status R)'],
    ['F', 'NO-EXPORT-EXPIRED', 'foreldet (status F)'],
    ['U', 'NO-EXPORT-BEING-DISPENSED', 'under ekspedering'],
    ['X', 'NO-EXPORT-INVALID', 'ugyldig'],
    ['A', 'NO-EXPORT-CHAIN-STATUS', 'Status A.'],
    ['B', 'NO-EXPORT-CHAIN-STATUS', 'Status B.'],
    ['H', 'NO-EXPORT-CHAIN-STATUS', 'Status H.'],
    ['Q', 'NO-EXPORT-CHAIN-STATUS', 'Status Q.'],
  ])('status %s refuses with %s, saying so in the detail', (status, code, detail) => {
    const d = decideExport(BASE, ctx(chain(status)));
    expect(d.exportable).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual([code]);
    expect(d.reasons[0]?.detail?.nb).toContain(detail);
    expect(d.reasons[0]?.detail?.en.length).toBeGreaterThan(5);
    // The chain's own reasons point at nothing in the M1.
    expect(d.reasons[0]?.expression).toEqual([]);
  });

  it('refuses a prescription the chain does not know, and one whose patient reserved the answer (patient restriction)', () => {
    expect(codes(BASE, { chain: { known: false } })).toEqual(['NO-EXPORT-UNKNOWN-TO-CHAIN']);
    expect(codes(BASE, { ...chain('E'), patientRestricted: true })).toEqual(['NO-EXPORT-PATIENT-RESTRICTION']);
  });

  it('gives one reason when the M1 date and the chain agree the prescription expired, and when it is recalled either way', () => {
    expect(codes(BASE, { ...chain('F'), now: new Date('2027-03-01T12:00:00+01:00') })).toEqual(['NO-EXPORT-EXPIRED']);
    expect(codes(BASE, { ...chain('T'), recalled: true })).toEqual(['NO-EXPORT-RECALLED']);
    expect(codes(BASE, { ...chain('R'), dispensingsSoFar: 4 })).toEqual(['NO-EXPORT-NO-DISPENSINGS-LEFT']);
  });

  it('chainAllowsExport says yes exactly when the chain facts leave an otherwise exportable prescription exportable', () => {
    const statuses = ['E', 'U', 'R', 'T', 'F', 'X', 'A', 'B', 'H', 'Z'];
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.oneof(fc.constant({ known: false as const }), fc.constantFrom(...statuses).map((status) => ({ known: true as const, status }))), { nil: undefined }),
        (recalled, patientRestricted, c) => {
          const facts = { recalled, patientRestricted, chain: c };
          expect(chainAllowsExport(facts)).toBe(decideExport(BASE, ctx(facts)).exportable);
        },
      ),
    );
  });
});

describe('the decision', () => {
  it('lists every reason that applies, in catalogue order', () => {
    const m = load('21-mange-grunner.xml');
    const d = decideExport(m, ctx({ recalled: true, patientRestricted: true, dispensingsSoFar: 7 }));
    expect(d.exportable).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual([
      'NO-EXPORT-GROUP-A',
      'NO-EXPORT-LOCKED',
      'NO-EXPORT-GUARDIAN-RESERVATION',
      'NO-EXPORT-DOCTORS-NAME',
      'NO-EXPORT-EXPIRED',
      'NO-EXPORT-RECALLED',
      'NO-EXPORT-NO-DISPENSINGS-LEFT',
      'NO-EXPORT-PATIENT-RESTRICTION',
    ]);
    for (const r of d.reasons) {
      const entry = EXPORT_RULE_CATALOGUE.find((c) => c.code === r.code);
      expect(r.nb).toBe(entry?.nb);
      expect(r.en).toBe(entry?.en);
    }
  });

  it('does not change the M1 it judges', () => {
    const m = load('21-mange-grunner.xml');
    const before = structuredClone(m);
    decideExport(m, ctx({ recalled: true, dispensingsSoFar: 2 }));
    expect(m).toEqual(before);
  });

  it('refuses a nonsensical context: negative or fractional dispensings, an invalid date', () => {
    expect(() => decideExport(BASE, ctx({ dispensingsSoFar: -1 }))).toThrow(RangeError);
    expect(() => decideExport(BASE, ctx({ dispensingsSoFar: 1.5 }))).toThrow(RangeError);
    expect(() => decideExport(BASE, ctx({ now: new Date('not a date') }))).toThrow(RangeError);
  });
});

describe('veterinary prescriptions', () => {
  it('refuses a prescription from a veterinarian (9060 VE), pointing at the category; a doctor is no reason', () => {
    const m = fresh();
    m.prescriber.category = { code: 'VE', display: 'Veterinær' };
    const d = decideExport(m, ctx());
    expect(d.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-VETERINARY']);
    expect(d.reasons[0]?.expression[0]).toMatch(/TypeHealthcareProfessional$/);
    expect(d.reasons[0]?.detail?.nb).toBe('Forskriveren er veterinær.');
    m.prescriber.category = { code: 'LE', display: 'Lege' };
    expect(codes(m)).toEqual([]);
  });
});

describe('reasons as OperationOutcome issues', () => {
  it('speaks bokmål when Accept-Language ranks a Norwegian tag first, else English', () => {
    expect(reasonLanguage('nb-NO,nb;q=0.9,en;q=0.8')).toBe('nb');
    expect(reasonLanguage('no')).toBe('nb');
    expect(reasonLanguage('nn;q=0.5, en;q=0.9')).toBe('en');
    expect(reasonLanguage('en-GB,nb;q=0.7')).toBe('en');
    expect(reasonLanguage('de, nb;q=0.3')).toBe('nb');
    expect(reasonLanguage('fr')).toBe('en');
    expect(reasonLanguage(undefined)).toBe('en');
    expect(reasonLanguage('nb;q=0, en')).toBe('en');
    const m = fresh();
    m.resept.lastResept = true;
    const nb = exportRefusal(decideExport(m, ctx()), 'nb');
    expect(nb?.issues[0]).toMatchObject({ diagnostics: 'Låste resepter kan ikke sendes til utlandet.', details: { coding: [{ code: 'NO-EXPORT-LOCKED', display: 'Låste resepter kan ikke sendes til utlandet.' }] } });
  });

  it('carries the rule code in details.coding and the M1 element in expression', () => {
    const m = fresh();
    m.resept.lastResept = true;
    m.resept.utloper = '2026-01-31';
    const issues = exportReasonIssues(decideExport(m, ctx({ recalled: true })));
    expect(issues).toEqual([
      {
        severity: 'error',
        code: 'business-rule',
        diagnostics: 'Locked prescriptions cannot be sent abroad.',
        expression: [`${RESEPT}.LastResept`],
        details: {
          coding: [{ system: EXPORT_RULE_SYSTEM, code: 'NO-EXPORT-LOCKED', display: 'Locked prescriptions cannot be sent abroad.' }],
          text: 'Locked prescriptions cannot be sent abroad.',
        },
      },
      expect.objectContaining({
        diagnostics: 'The prescription has expired. Expiry date 2026-01-31.',
        details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'NO-EXPORT-EXPIRED' })] }),
      }),
      expect.not.objectContaining({ expression: expect.anything() }),
    ]);
  });

  it('is a 422 Problem when refused and nothing when exportable', () => {
    expect(exportRefusal(decideExport(BASE, ctx()))).toBeUndefined();
    const p = exportRefusal(decideExport(load('12-reseptgruppe-a.xml'), ctx()));
    expect(p?.status).toBe(422);
    expect(p?.issues.map((i) => i.details?.coding?.[0]?.code)).toEqual(['NO-EXPORT-GROUP-A']);
  });
});

describe('strengths named in a product name', () => {
  it.each([
    ['Hydrokortison Orifarm Tab 10 mg', ['10 mg']],
    ['Florinef Tab 0,1 mg', ['0.1 mg']],
    ['Ventoline Inh.aerosol 0,1 mg/dose', ['0.1 mg/dose']],
    ['Pinex Forte Stikkpille 500 mg/30 mg', ['30 mg', '500 mg']],
    ['Iscador P Serie II Inj væske 1 mg/ml/10 mg/ml/20 mg/ml', ['1 mg/ml', '10 mg/ml', '20 mg/ml']],
    ['Lantus 100 E/ml', ['100 e/ml']],
    ['Vitamin D 20 MCG', ['20 mikrog']],
    ['Microgynon Tab', []],
    ['Tab 10 mgx', []],
  ])('%s -> %j', (name, strengths) => {
    expect(strengthsIn(name)).toEqual(strengths);
  });
});
