// Property-based tests: any generated valid M1 (any drug type, any flags, any namespace style)
// parses to what was written and is decided with named rules only, exactly those an independent
// oracle expects; and no input at all, however broken, makes the parser throw or fail internally.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { M1Message } from '../../src/eprescription/m1/model.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { decideExport, EXPORT_RULE_CODES, type ExportContext, type ExportRuleCode } from '../../src/eprescription/rules.ts';
import { parseXml } from '../../src/xml/parse.ts';
import { exportContext, m1Spec, nsStyle } from './support/m1-arbitraries.ts';
import { buildM1, DEFAULT_STYLE, type M1Spec } from './support/m1-builder.ts';

// --- the oracle: what the rules should say, computed from the spec, not from the model ----------

function expectedReasons(spec: M1Spec, ctx: ExportContext): ExportRuleCode[] {
  const out = new Set<ExportRuleCode>();
  const r = spec.resept;
  const today = ctx.now.toLocaleDateString('sv-SE', { timeZone: 'Europe/Oslo' });
  const item = r.item;
  let total = 1;
  if (item.kind === 'legemiddel') {
    total = item.reiterasjon + 1;
    const groups =
      item.drug.kind === 'Legemiddelblanding'
        ? item.drug.components.flatMap((c) => (c.kind === 'legemiddel' ? [c.drug.reseptgruppe] : []))
        : [item.drug.reseptgruppe];
    for (const g of ['A', 'B', 'K'] as const) if (groups.includes(g)) out.add(`NO-EXPORT-GROUP-${g}`);
    if (item.drug.kind === 'Legemiddelblanding') out.add('NO-EXPORT-MAGISTRAL');
    if (item.utenMt) out.add('NO-EXPORT-UNLICENSED');
  } else {
    out.add('NO-EXPORT-MERCHANDISE');
  }
  if (r.flags?.LastResept) out.add('NO-EXPORT-LOCKED');
  if (r.flags?.Vergeinnsynsreservasjon) out.add('NO-EXPORT-GUARDIAN-RESERVATION');
  if (r.flags?.RekvLegensNavn) out.add('NO-EXPORT-DOCTORS-NAME');
  if (r.flags?.TilEgenPraksis) out.add('NO-EXPORT-OWN-PRACTICE');
  if (today > r.utloper.slice(0, 10)) out.add('NO-EXPORT-EXPIRED');
  if (r.tidligsteUtlevering && today < r.tidligsteUtlevering.slice(0, 10)) out.add('NO-EXPORT-NOT-YET-DISPENSABLE');
  if (today < r.forskrivningsdato.slice(0, 10)) out.add('NO-EXPORT-NOT-YET-DISPENSABLE');
  const status = ctx.chain?.known ? ctx.chain.status : undefined;
  if (status === 'F') out.add('NO-EXPORT-EXPIRED');
  if (ctx.recalled || status === 'T') out.add('NO-EXPORT-RECALLED');
  if (total - ctx.dispensingsSoFar <= 0 || status === 'R') out.add('NO-EXPORT-NO-DISPENSINGS-LEFT');
  if (status === 'U') out.add('NO-EXPORT-BEING-DISPENSED');
  if (status === 'X') out.add('NO-EXPORT-INVALID');
  if (ctx.chain?.known === false) out.add('NO-EXPORT-UNKNOWN-TO-CHAIN');
  if (status !== undefined && !['E', 'U', 'R', 'T', 'F', 'X'].includes(status)) out.add('NO-EXPORT-CHAIN-STATUS');
  if (ctx.patientRestricted) out.add('NO-EXPORT-PATIENT-RESTRICTION');
  return EXPORT_RULE_CODES.filter((c) => out.has(c));
}

function parsed(xml: string | Uint8Array): M1Message {
  const r = parseM1(xml);
  if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
  expect(r.warnings).toEqual([]);
  return r.value;
}

// --- properties ----------------------------------------------------------------------------

describe('generated valid M1s', () => {
  it('parse to what was written, in any namespace style', () => {
    fc.assert(
      fc.property(m1Spec, nsStyle, (spec, style) => {
        const m = parsed(buildM1(spec, style));
        expect(m.prescriptionId).toBe(spec.msgId);
        expect(m.prescriber).toMatchObject({ hpr: spec.prescriber.hpr, familyName: spec.prescriber.family, givenName: spec.prescriber.given });
        if (spec.patient) expect(m.patient).toMatchObject({ fnr: spec.patient.fnr, familyName: spec.patient.family, givenName: spec.patient.given });
        else expect(m.patient).toBeUndefined();
        expect(m.resept.forskrivningsdato).toBe(spec.resept.forskrivningsdato.slice(0, 10));
        expect(m.resept.utloper).toBe(spec.resept.utloper.slice(0, 10));
        expect(m.resept.tidligsteUtlevering).toBe(spec.resept.tidligsteUtlevering?.slice(0, 10));
        expect(m.resept.lastResept).toBe(spec.resept.flags?.LastResept ?? false);
        expect(m.resept.tilEgenPraksis).toBe(spec.resept.flags?.TilEgenPraksis ?? false);
        const item = spec.resept.item;
        const dok = m.resept.reseptDok;
        if (item.kind === 'handelsvare') {
          expect(dok.kind).toBe('ReseptDokHandelsvare');
          if (dok.kind !== 'ReseptDokHandelsvare') return;
          if (item.vare) expect(dok.vare).toMatchObject({ kind: item.vare.kind, nr: item.vare.nr, navn: item.vare.navn });
          else expect(dok.vare).toBeUndefined();
          return;
        }
        if (dok.kind !== 'ReseptDokLegemiddel') throw new Error('wrong document kind');
        expect(dok.reiterasjon).toBe(item.reiterasjon);
        expect(dok.antall).toBe(item.antall === undefined ? undefined : Number(item.antall));
        expect(dok.forskrivning.bruksomrade).toBe(item.bruksomrade);
        const drug = dok.forskrivning.legemiddel;
        expect(drug.kind).toBe(item.drug.kind);
        if (drug.kind !== 'Legemiddelblanding' && item.drug.kind !== 'Legemiddelblanding') {
          expect(drug.navnFormStyrke).toBe(item.drug.navnFormStyrke);
          expect(drug.reseptgruppe.code).toBe(item.drug.reseptgruppe);
          if (drug.kind === 'Legemiddelpakning') expect(drug.varenr).toBe(item.drug.varenr);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('read the same whatever prefixes or default namespaces the sender chose', () => {
    fc.assert(
      fc.property(m1Spec, nsStyle, (spec, style) => {
        expect(parsed(buildM1(spec, style))).toEqual(parsed(buildM1(spec, DEFAULT_STYLE, '')));
      }),
      { numRuns: 100 },
    );
  });

  it('are decided with named rules only, exactly those the oracle expects', () => {
    fc.assert(
      fc.property(m1Spec, exportContext, (spec, ctx) => {
        const d = decideExport(parsed(buildM1(spec)), ctx);
        for (const r of d.reasons) expect(EXPORT_RULE_CODES).toContain(r.code);
        expect(d.reasons.map((r) => r.code)).toEqual(expectedReasons(spec, ctx));
        expect(d.exportable).toBe(d.reasons.length === 0);
        expect(d.remainingDispensings).toBeGreaterThanOrEqual(0);
        expect(d.remainingDispensings).toBeLessThanOrEqual(d.totalDispensings);
      }),
      { numRuns: 300 },
    );
  });
});

// --- robustness: nothing throws, nothing is blamed on us (500) -------------------------------

function expectHandled(input: string | Uint8Array): void {
  const r = parseM1(input);
  expect(typeof r.ok).toBe('boolean');
  if (r.ok) {
    const d = decideExport(r.value, { now: new Date('2026-03-02T10:00:00+01:00'), dispensingsSoFar: 0, recalled: false, patientRestricted: false });
    for (const reason of d.reasons) expect(EXPORT_RULE_CODES).toContain(reason.code);
    return;
  }
  expect([400, 413]).toContain(r.problem.status);
  expect(r.problem.issues.length).toBeGreaterThan(0);
  for (const i of r.problem.issues) {
    expect(i.severity).toBe('error');
    expect(i.diagnostics).toBeTruthy();
  }
}

type Mutation = (b: Buffer) => Buffer;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f): Mutation => (b) => b.subarray(0, Math.floor(b.length * f))),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 64 })).map(
    ([f, n]): Mutation =>
      (b) => {
        const at = Math.floor(b.length * f);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
      },
  ),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(
    ([f, bytes]): Mutation =>
      (b) => {
        const at = Math.floor(b.length * f);
        return Buffer.concat([b.subarray(0, at), Buffer.from(bytes), b.subarray(at)]);
      },
  ),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })).map(
    ([f, byte]): Mutation =>
      (b) => {
        const c = Buffer.from(b);
        c[Math.min(c.length - 1, Math.floor(c.length * f))] = byte;
        return c;
      },
  ),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('<', '>', '&', '"', '</', '/>', ']]>', '<!DOCTYPE x>', '&#0;', 'xmlns:a="urn:x"', '<![CDATA[', 'V=""')).map(
    ([f, s]): Mutation =>
      (b) => {
        const at = Math.floor(b.length * f);
        return Buffer.concat([b.subarray(0, at), Buffer.from(s), b.subarray(at)]);
      },
  ),
);

describe('robustness', () => {
  it('mutated M1 bytes never throw: always a Result, refusals are 400/413 with a reason', () => {
    fc.assert(
      fc.property(m1Spec, nsStyle, fc.array(mutation, { minLength: 1, maxLength: 3 }), (spec, style, mutations) => {
        const bytes = mutations.reduce<Buffer>((b, m) => m(b), Buffer.from(buildM1(spec, style), 'utf8'));
        expectHandled(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('element-level damage to a valid M1 (a deleted or duplicated element) is refused by name or read', () => {
    fc.assert(
      fc.property(m1Spec, fc.nat(), fc.boolean(), (spec, pick, duplicate) => {
        const xml = buildM1(spec);
        const elements = [...xml.matchAll(/<([A-Za-z]+)[^<>]*\/>|<([A-Za-z]+)[^<>]*>[^<]*<\/\2>/g)];
        const target = elements[pick % elements.length];
        if (!target) return;
        const damaged = xml.slice(0, target.index) + (duplicate ? target[0] + target[0] : '') + xml.slice((target.index ?? 0) + target[0].length);
        const r = parseM1(damaged);
        expectHandled(damaged);
        if (!r.ok && r.problem.status === 400 && r.problem.issues[0]?.code !== 'structure') {
          expect(r.problem.issues[0]?.expression?.[0]).toMatch(/^MsgHead(\.|$)/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary text and bytes never throw', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => expectHandled(s)), { numRuns: 300 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => expectHandled(b)), { numRuns: 300 });
  });

  it('XML-shaped token soup never throws in the XML layer or the M1 reader', () => {
    const token = fc.constantFrom(
      '<',
      '>',
      '/',
      '=',
      '"',
      "'",
      '&',
      ';',
      '#',
      'x',
      ':',
      ' ',
      '\n',
      '<?xml version="1.0"?>',
      '<!--',
      '-->',
      '<![CDATA[',
      ']]>',
      '<!DOCTYPE',
      '<!ENTITY',
      '&amp;',
      '&#x41;',
      'MsgHead',
      'xmlns',
      'xmlns:m="http://www.kith.no/xmlstds/msghead/2006-05-24"',
      'xmlns="http://www.kith.no/xmlstds/eresept/m1/2013-10-08"',
      'Resept',
      'V="A"',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (parts) => {
        const s = parts.join('');
        const x = parseXml(s);
        if (!x.ok) expect([400, 413]).toContain(x.problem.status);
        expectHandled(s);
      }),
      { numRuns: 1000 },
    );
  });
});
