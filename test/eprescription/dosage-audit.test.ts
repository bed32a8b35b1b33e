// The dosages of the second M1 audit (notes/audit2-m1.md), read as the pharmacist abroad reads them: FHIR,
// Level 3 (structure and narrative) and the Level 1 PDF in English and bokmål. The M1s are the audit's own
// (fixtures/m1/audit2-dose/), converted on the day the audit ran.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dosage, MedicationRequest } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { buildM1, type DoseSpec } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';
import { textOfPdf } from './support/pdf-text.ts';

const NOW = new Date('2026-12-07T10:00:00+01:00');

interface Read {
  c: Converted;
  dosages: Dosage[];
  /** The substanceAdministration without the narrative. */
  item: string;
  /** The narrative's structured-dosage cell, English then bokmål. */
  dosageCell: string;
  en: string;
  nb: string;
}

describe('audit 2 dosages in FHIR, Level 3 and the PDF', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const read = async (bytes: Buffer | string, now = NOW): Promise<Read> => {
    const en = await convertM1(bytes, deps, { now, level1: true });
    if (!en.ok || !en.value.exportable) throw new Error(en.ok ? 'refused' : JSON.stringify(en.problem.issues));
    const nb = await convertM1(bytes, deps, { now, level1: true });
    if (!nb.ok || !nb.value.exportable) throw new Error('not converted in bokmål');
    const c = en.value;
    await expectSchemaValidCda([c.cda, c.cdaL1!, nb.value.cdaL1!], ['Level 3', 'Level 1 (en)', 'Level 1 (nb)']);
    const mr = c.bundle.entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource as MedicationRequest;
    return {
      c,
      dosages: mr.dosageInstruction ?? [],
      item: /<substanceAdministration classCode="SBADM" moodCode="INT">[\s\S]*<\/substanceAdministration>/.exec(c.cda)![0],
      dosageCell: /<td ID="dosage-1">([\s\S]*?)<\/td>/.exec(c.cda)?.[1] ?? '',
      en: await textOfPdf(c.cdaL1!),
      nb: await textOfPdf(nb.value.cdaL1!),
    };
  };
  const audit = (file: string): Buffer => fixture('audit2-dose', file);
  const warnings = (c: Converted): string => c.warnings.map((w) => w.diagnostics).join('\n');

  describe('F4: fixed weekdays are never "every day"', () => {
    it('weekly methotrexate on Mondays (a04, Intervall 1 Døgn): FHIR once a week on mon; "every Monday" in English and bokmål everywhere', async () => {
      const r = await read(audit('a04-metotreksat-ukentlig.xml'));
      expect(r.dosages).toHaveLength(1);
      expect(r.dosages[0]?.timing?.repeat).toEqual({ frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: ['mon'], when: ['MORN'], boundsPeriod: { start: '2026-11-23' } });
      expect(r.dosages[0]?.doseAndRate?.[0]?.doseQuantity).toMatchObject({ value: 4, code: '15054000' });
      // The Level 3 structure says no frequency (a weekday has no PIVL_TS without an anchored phase); the text does.
      expect(r.item).toMatch(/<\/effectiveTime>\s*<effectiveTime nullFlavor="UNK"\/>/);
      expect(r.item).not.toMatch(/PIVL_TS|<doseQuantity/);
      expect(r.dosageCell).toBe('every Monday, morning: 4 Tablet<br/>hver mandag, morgen: 4 tablett');
      expect(r.en).toContain('every Monday, morning: 4 Tablet');
      expect(r.nb).toContain('hver mandag, morgen: 4 tablett');
      for (const text of [r.c.cda, r.en, r.nb, JSON.stringify(r.c.bundle)]) {
        expect(text).not.toMatch(/every day|hver dag|faste ukedager|Mandag/);
      }
    });

    it('a04c (no Intervall): the same week', async () => {
      const r = await read(audit('a04c-metotreksat-ukedag-uten-intervall.xml'));
      expect(r.dosages[0]?.timing?.repeat).toMatchObject({ frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: ['mon'] });
      expect(r.en).toContain('every Monday, morning: 4 Tablet');
      expect(r.nb).toContain('hver mandag, morgen: 4 tablett');
      expect(`${r.c.cda} ${r.en} ${r.nb}`).not.toMatch(/every day|hver dag/);
    });

    it('Iscador on Monday, Wednesday and Friday (a38): three times a week', async () => {
      const r = await read(audit('a38-iscador-2x7x1ml.xml'));
      expect(r.dosages[0]?.timing?.repeat).toMatchObject({ frequency: 3, period: 1, periodUnit: 'wk', dayOfWeek: ['mon', 'wed', 'fri'] });
      expect(r.dosageCell).toContain('every Monday, Wednesday and Friday, morning: 1 Ampoule');
      expect(r.en).toContain('every Monday, Wednesday and Friday, morning: 1 Ampoule');
      expect(r.nb).toContain('hver mandag, onsdag og fredag, morgen: 1 ampulle');
      expect(`${r.c.cda} ${r.en} ${r.nb}`).not.toMatch(/every day|hver dag/);
    });

    it('Kortdose 4+0+0 beside the text "4 tabletter én gang i uken" (a04d): no daily timing anywhere, the text kept, a warning', async () => {
      const r = await read(audit('a04d-metotreksat-kortdose-og-tekst.xml'));
      expect(r.dosages).toEqual([{ text: '4 tabletter én gang i uken' }]);
      expect(r.item).toMatch(/<\/effectiveTime>\s*<effectiveTime nullFlavor="UNK"\/>/);
      expect(r.dosageCell).toBe('');
      expect(r.c.cda).toContain('<td ID="pinstruct-1">4 tabletter én gang i uken</td>');
      expect(`${r.c.cda} ${r.en} ${r.nb}`).not.toMatch(/morning: 4|morgen: 4|every day|hver dag/);
      expect(r.en).toContain('4 tabletter én gang i uken');
      expect(warnings(r.c)).toContain("Kortdose '4+0+0' would be a daily dose, but the dosage text says otherwise");
    });

    it('a Kortdose the text agrees with keeps its doses per time of day', async () => {
      const r = await read(buildM1(specFor({ dosVeiledEnkel: '1 tablett morgen og 2 tabletter kveld', kortdose: { code: '99', display: '1+0+2' } })), new Date('2026-03-02T10:00:00+01:00'));
      expect(r.dosages.map((d) => [d.timing?.repeat?.when?.[0], d.doseAndRate?.[0]?.doseQuantity?.value])).toEqual([['MORN', 1], ['EVE', 2]]);
      expect(warnings(r.c)).not.toContain('Kortdose');
    });

    it.each([
      ['1 tablett morgen annenhver dag'],
      ['4 tabletter på mandager'],
      ['1 tablett morgen, 3 ganger i uka'],
      ['1 tablett morgen ved behov'],
      ['1 tablett morgen hver 2. dag'],
      ['1 tablett morgen første dag i måneden'],
    ])('a Kortdose beside "%s" gives no timing', async (text) => {
      const r = await read(buildM1(specFor({ dosVeiledEnkel: text, kortdose: { code: '12', display: '1+0+0' } })), new Date('2026-03-02T10:00:00+01:00'));
      expect(r.dosages.every((d) => d.timing === undefined)).toBe(true);
    });
  });

  const SPEC_NOW = new Date('2026-03-02T10:00:00+01:00');
  const morning = (v: string): DoseSpec => ({ kind: 'fast', mengde: { v, u: 'tablett' }, tidsomrade: { code: '1', display: 'Morgen' }, intervall: { v: '1', u: 'Døgn' } });
  const period = (item: string): string => /<effectiveTime xsi:type="IVL_TS">([\s\S]*?)<\/effectiveTime>/.exec(item)![1]!.replace(/\s+/g, '');

  describe('F6: a tapering course runs from its first start to its last end', () => {
    it('prednisolone 8-6-4-2-1 over five Dosering (a02): Level 3 IVL_TS 2026-11-20 to 2026-12-14; FHIR five steps with their own bounds', async () => {
      const r = await read(audit('a02-prednisolon-nedtrapping-ukjent-fest.xml'));
      expect(period(r.item)).toBe('<lowvalue="20261120"/><highvalue="20261214"/>');
      expect(r.dosages.map((d) => [d.sequence, d.doseAndRate?.[0]?.doseQuantity?.value, d.timing?.repeat?.boundsPeriod])).toEqual([
        [1, 8, { start: '2026-11-20', end: '2026-11-24' }],
        [2, 6, { start: '2026-11-25', end: '2026-11-29' }],
        [3, 4, { start: '2026-11-30', end: '2026-12-04' }],
        [4, 2, { start: '2026-12-05', end: '2026-12-09' }],
        [5, 1, { start: '2026-12-10', end: '2026-12-14' }],
      ]);
      expect(r.dosageCell).toContain('2026-11-20 – 2026-11-24: every day, morning: 8 Tablet; then 2026-11-25 – 2026-11-29');
      expect(r.en).toContain('then 2026-12-10 – 2026-12-14: every day, morning: 1 Tablet');
      expect(r.nb).toContain('deretter 2026-12-10 – 2026-12-14: hver dag, morgen: 1 tablett');
    });

    it('a last step with no end leaves the course open (high UNK), from the first start; no placeholder for the missing date', async () => {
      const r = await read(
        buildM1(specFor({ dosering: [{ start: '2026-03-01', end: '2026-03-07', doses: [morning('2')] }, { start: '2026-03-08', doses: [morning('1')] }] })),
        SPEC_NOW,
      );
      expect(period(r.item)).toBe('<lowvalue="20260301"/><highnullFlavor="UNK"/>');
      expect(r.dosages.map((d) => [d.sequence, d.timing?.repeat?.boundsPeriod])).toEqual([
        [1, { start: '2026-03-01', end: '2026-03-07' }],
        [2, { start: '2026-03-08' }],
      ]);
      expect(r.dosageCell).toContain('2026-03-01 – 2026-03-07: every day, morning: 2 Tablet; then from 2026-03-08: every day, morning: 1 Tablet');
      expect(r.dosageCell).toContain('deretter fra 2026-03-08: hver dag, morgen: 1 tablett');
      expect(`${r.c.cda} ${r.en} ${r.nb}`).not.toContain('…');
    });

    it('steps listed out of date order: still the earliest start and the latest end, and "then" in date order', async () => {
      const r = await read(
        buildM1(specFor({ dosering: [{ start: '2026-03-08', end: '2026-03-14', doses: [morning('1')] }, { start: '2026-03-01', end: '2026-03-07', doses: [morning('2')] }] })),
        SPEC_NOW,
      );
      expect(period(r.item)).toBe('<lowvalue="20260301"/><highvalue="20260314"/>');
      expect(r.dosageCell).toContain('2026-03-01 – 2026-03-07: every day, morning: 2 Tablet; then 2026-03-08 – 2026-03-14: every day, morning: 1 Tablet');
      expect(r.dosages.map((d) => [d.sequence, d.timing?.repeat?.boundsPeriod?.start])).toEqual([[2, '2026-03-08'], [1, '2026-03-01']]);
    });
  });

  describe('F14: undated Dosering elements are taken side by side', () => {
    it('2 + 2 fixed and 1 as needed "i tillegg" (a37): one FHIR sequence, no "then" and no "… – …" in Level 3 or the PDF', async () => {
      const r = await read(audit('a37-fast-pluss-ved-behov.xml'));
      expect(r.dosages.map((d) => [d.sequence, d.timing?.repeat?.when?.[0], d.asNeededBoolean])).toEqual([
        [1, 'MORN', undefined],
        [1, 'EVE', undefined],
        [1, undefined, true],
      ]);
      expect(r.dosageCell).toBe(
        'every day, morning: 2 Tablet; every day, evening: 2 Tablet; in addition, as needed: 1 Tablet, at most 2 Tablet per 24 hours, at least 4 hours between doses' +
          '<br/>hver dag, morgen: 2 tablett; hver dag, kveld: 2 tablett; i tillegg, ved behov: 1 tablett, høyst 2 tablett per døgn, minst 4 timer mellom dosene',
      );
      expect(r.en).toContain('every day, evening: 2 Tablet; in addition, as needed: 1 Tablet');
      expect(r.nb).toContain('hver dag, kveld: 2 tablett; i tillegg, ved behov: 1 tablett');
      for (const text of [r.c.cda, r.en, r.nb]) expect(text).not.toMatch(/…|\bthen\b|deretter/);
      expect(period(r.item)).toBe('<lownullFlavor="UNK"/><highnullFlavor="UNK"/>');
    });

    it('an undated Dosering beside dated steps: beside them all, "in addition, throughout"; in FHIR without a sequence of its own', async () => {
      const behov: DoseSpec = { kind: 'behov', mengde: { v: '1', u: 'tablett' }, dognMaks: { v: '2', u: 'tablett' }, tidsromMaks: { v: '2', u: 'tablett' }, tidsrom: { v: '1', u: 'Døgn' }, intervallMin: { v: '4', u: 'Time' } };
      const r = await read(
        buildM1(
          specFor({
            dosering: [
              { start: '2026-03-01', end: '2026-03-07', doses: [morning('2')] },
              { start: '2026-03-08', end: '2026-03-14', doses: [morning('1')] },
              { doses: [behov] },
            ],
          }),
        ),
        SPEC_NOW,
      );
      expect(r.dosages.map((d) => d.sequence)).toEqual([1, 2, undefined]);
      expect(r.dosageCell).toContain('then 2026-03-08 – 2026-03-14: every day, morning: 1 Tablet; in addition, throughout: as needed: 1 Tablet');
      expect(r.nb).toContain('i tillegg, i hele perioden: ved behov: 1 tablett');
      // The undated one is open-ended: so is the course.
      expect(period(r.item)).toBe('<lowvalue="20260301"/><highnullFlavor="UNK"/>');
    });
  });
});
