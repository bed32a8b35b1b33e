// An amount to dispense (M1 Mengde) instead of a number of packages (Antall). In the eHDSI CDA,
// supply/quantity with unit="1" is the number of packages, so an amount in pieces ("100 stk") must never be
// written that way (audit 2, F1: 100 tablets of paracetamol went out as 100 packages). It goes in its unit of
// presentation ({Tablet}, from the dose form) and reads "100 tablets" in the narrative and the PDF; an amount
// with no honest unit is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, MedicationRequest } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { buildM1, type DrugSpec, type Pq } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';
import { textOfPdf } from './support/pdf-text.ts';

const NOW = new Date('2026-12-07T10:00:00+01:00');
const SPEC_NOW = new Date('2026-03-02T10:00:00+01:00');

const supplyOf = (cda: string): string => /<supply classCode="SPLY" moodCode="RQO">[\s\S]*?<\/supply>/.exec(cda)![0];
const requestOf = (b: Bundle): MedicationRequest => b.entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource as MedicationRequest;
const perDispensingRow = (cda: string): string => /<th>Per dispensing \/ Per utlevering<\/th>\s*<td>([^<]*)<\/td>/.exec(cda)?.[1] ?? '';

/** A substance prescription (no package) whose FEST id the demo extract does not know. */
const virkestoff = (form: DrugSpec['form'], navnFormStyrke = 'Paracetamol Tab 500 mg'): DrugSpec => ({
  kind: 'LegemiddelVirkestoff',
  atc: { code: 'N02BE01', display: 'Paracetamol' },
  navnFormStyrke,
  reseptgruppe: 'C',
  ...(form ? { form } : {}),
  id: 'ID_00000000-0000-0000-0000-00000000F001',
});

describe('an amount instead of packages (Mengde)', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const both = async (bytes: Buffer | string, now = NOW): Promise<{ c: Converted; en: string; nb: string }> => {
    const r = await convertM1(bytes, deps, { now, level1: true });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error('refused');
    const nbr = await convertM1(bytes, deps, { now, level1: true });
    if (!nbr.ok || !nbr.value.exportable) throw new Error('not converted in bokmål');
    await expectSchemaValidCda([r.value.cda, r.value.cdaL1!, nbr.value.cdaL1!], ['Level 3', 'Level 1 (en)', 'Level 1 (nb)']);
    return { c: r.value, en: await textOfPdf(r.value.cdaL1!), nb: await textOfPdf(nbr.value.cdaL1!) };
  };
  const withMengde = (mengde: Pq, drug: DrugSpec): string => buildM1(specFor({ antall: undefined, mengde }, drug));

  it('100 stk paracetamol tablets (audit a23): 100 {Tablet} in the supply, never 100 packages; "100 tablets" in the narrative, the PDF and FHIR', async () => {
    const { c, en, nb } = await both(fixture('audit2-dose', 'a23-virkestoff-paracetamol.xml'));
    const supply = supplyOf(c.cda);
    expect(supply).toMatch(/<quantity value="100" unit="\{Tablet\}"\/>/);
    expect(supply).not.toMatch(/<quantity[^>]*unit="1"/);
    expect(perDispensingRow(c.cda)).toBe('100 tablets / 100 stk');
    expect(c.cda).not.toContain('100 1');
    // Level 1 is bilingual: one PDF, English and bokmål side by side.
    expect(en).toContain('Per dispensing / Per utlevering: 100 tablets / 100 stk');
    expect(nb).toBe(en);
    expect(`${en} ${nb}`).not.toMatch(/\b100 1\b|100 pakning|100 package/);
    // FHIR says what is counted: EDQM Tablet, not UCUM 1 with the Norwegian "stk".
    expect(requestOf(c.bundle).dispenseRequest?.quantity).toEqual({ value: 100, unit: 'Tablet', system: 'http://standardterms.edqm.eu', code: '15054000' });
  });

  it('30 stk atorvastatin (audit a42): 30 tablets', async () => {
    const { c, en } = await both(fixture('audit2-dose', 'a42-virkestoff-mengde-stk-50.xml'));
    expect(supplyOf(c.cda)).toMatch(/<quantity value="30" unit="\{Tablet\}"\/>/);
    expect(perDispensingRow(c.cda)).toBe('30 tablets / 30 stk');
    expect(en).toContain('Per dispensing / Per utlevering: 30 tablets / 30 stk');
  });

  it('capsules are counted as capsules', async () => {
    const { c, en } = await both(withMengde({ v: '56', u: 'stk' }, virkestoff({ code: '32', display: 'Kapsel' }, 'Omeprazol Kaps 20 mg')), SPEC_NOW);
    expect(supplyOf(c.cda)).toMatch(/<quantity value="56" unit="\{Capsule\}"\/>/);
    expect(en).toContain('Per dispensing / Per utlevering: 56 capsules');
  });

  it('millilitres and grams without a package stay in their UCUM unit, which cannot be read as packages', async () => {
    const ml = await both(withMengde({ v: '200', u: 'ml' }, virkestoff({ code: '9', display: 'Mikstur' }, 'Paracetamol Mikst 24 mg/ml')), SPEC_NOW);
    expect(supplyOf(ml.c.cda)).toMatch(/<quantity value="200" unit="mL"\/>/);
    expect(perDispensingRow(ml.c.cda)).toBe('200 mL / 200 ml');
    expect(ml.en).toContain('Per dispensing / Per utlevering: 200 mL');
    expect(requestOf(ml.c.bundle).dispenseRequest?.quantity).toMatchObject({ value: 200, system: 'http://unitsofmeasure.org', code: 'mL' });
    const g = await both(withMengde({ v: '30', u: 'g' }, virkestoff({ code: '34', display: 'Krem' }, 'Hydrokortison Krem 1 %')), SPEC_NOW);
    expect(supplyOf(g.c.cda)).toMatch(/<quantity value="30" unit="g"\/>/);
    expect(g.en).toContain('Per dispensing / Per utlevering: 30 g');
  });

  it('an amount that fills whole prescribed packages is those packages, with the amount beside them', async () => {
    const { c, en, nb } = await both(buildM1(specFor({ antall: undefined, mengde: { v: '200', u: 'stk' } })), SPEC_NOW);
    // Hydrokortison 100 stk packages: 200 tablets are 2 packages.
    expect(supplyOf(c.cda)).toMatch(/<quantity value="2" unit="1"\/>/);
    expect(perDispensingRow(c.cda)).toBe('2 package(s) / pakning(er) (200 tablets / 200 stk)');
    expect(en).toContain('Per dispensing / Per utlevering: 2 package(s) / pakning(er) (200 tablets / 200 stk)');
  });

  it('pieces with no dose form to count them by: refused, naming Mengde, in English and Norwegian', async () => {
    const r = await convertM1(withMengde({ v: '100', u: 'stk' }, virkestoff(undefined)), deps, { now: SPEC_NOW });
    if (r.ok) throw new Error('converted');
    expect(r.problem.status).toBe(422);
    const reason = r.problem.issues.find((i) => i.code === 'business-rule');
    expect(reason?.diagnostics).toContain('Mengde 100 stk');
    expect(reason?.diagnostics).toContain('would be read as 100 packages');
    expect(reason?.diagnostics).toContain('ville bli lest som 100 pakninger');
    expect(reason?.expression?.[0]).toMatch(/Mengde$/);
  });

  it('a unit with no EU unit (E, enheter) and no package in that unit: refused, never unit="1"', async () => {
    const r = await convertM1(withMengde({ v: '5', u: 'E' }, virkestoff({ code: '101', display: 'Injeksjonsvæske' }, 'Insulin Inj 100 E/ml')), deps, { now: SPEC_NOW });
    if (r.ok) throw new Error('converted');
    expect(r.problem.status).toBe(422);
    expect(r.problem.issues.map((i) => i.diagnostics).join('\n')).toContain('Mengde 5 E');
  });
});
