// What leaves Norway is what was prescribed: FEST data enters the EU outputs only from the record whose
// varenummer is the M1's. A package FEST does not know goes out as the M1 states it, with a warning naming
// the missing record, never as another product that shares its ATC code or its name.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Medication, MedicationRequest } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { sizeFactors } from '../../src/registries/fest/package-size.ts';
import { CONVERSION_WARNING_EXTENSION } from '../../src/eprescription/provenance.ts';
import type { DrugRegistry } from '../../src/registries/drugs.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import type { FestProduct, FestRecord } from '../../src/registries/fest/types.ts';
import { buildM1 } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NOW = new Date('2026-03-02T10:00:00+01:00');
const ZYRTEC = ['official', 'Utleverer sender oppgjørskrav til Helfo/M1 Resept1.xml'] as const;
const IBUX = ['official', 'Lege endrer på legemiddelbehandling/M1 Resept.xml'] as const;

const medicationOf = (b: Bundle): Medication => b.entry!.find((e) => e.resource?.resourceType === 'Medication')!.resource as Medication;
const requestOf = (b: Bundle): MedicationRequest => b.entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource as MedicationRequest;
const warningCodes = (c: Converted) => c.warnings.map((w) => w.details?.coding?.[0]?.code);

/** The product part of the CDA: manufacturedMaterial and its maker. */
const cdaProduct = (cda: string): string => /<manufacturedProduct[\s\S]*<\/manufacturedProduct>/.exec(cda)?.[0] ?? '';

/**
 * Every product value the outputs state (names, identifiers, codes of the form, strengths, maker, package
 * content), as strings and numbers, from the MPD Medication and the CDA manufacturedProduct.
 */
function productValues(c: Converted): { texts: string[]; numbers: number[] } {
  const med = medicationOf(c.bundle);
  const texts: string[] = [];
  const numbers: number[] = [];
  for (const i of med.identifier ?? []) texts.push(i.value ?? '');
  for (const cd of med.code?.coding ?? []) texts.push(cd.code ?? '', cd.display ?? '');
  if (med.code?.text) texts.push(med.code.text);
  for (const e of med.extension ?? []) {
    if (e.valueString) texts.push(e.valueString);
    if (e.valueQuantity?.value !== undefined) numbers.push(e.valueQuantity.value);
  }
  if (med.manufacturer?.display) texts.push(med.manufacturer.display);
  for (const cd of med.form?.coding ?? []) if (cd.system?.includes('7448')) texts.push(cd.code ?? '');
  for (const ing of med.ingredient ?? []) {
    if (ing.itemCodeableConcept?.text) texts.push(ing.itemCodeableConcept.text);
    if (ing.strength?.numerator?.value !== undefined) numbers.push(ing.strength.numerator.value);
  }
  if (med.amount?.numerator?.value !== undefined) numbers.push(med.amount.numerator.value);
  const xml = cdaProduct(c.cda);
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  for (const m of xml.matchAll(/<(name|pharm:desc|pharm:name)>([^<]*)</g)) texts.push(unescape(m[2]!));
  for (const m of xml.matchAll(/<(?:code|pharm:code) code="([^"]*)" codeSystem="2\.999\.47\.\d+"/g)) texts.push(m[1]!);
  for (const m of xml.matchAll(/<translation code="([^"]*)" codeSystem="2\.16\.578\.1\.12\.4\.1\.1\.7448"/g)) texts.push(m[1]!);
  for (const m of xml.matchAll(/<numerator xsi:type="PQ" value="([^"]*)"/g)) numbers.push(Number(m[1]));
  for (const m of xml.matchAll(/<pharm:quantity value="([^"]*)"/g)) numbers.push(Number(m[1]));
  return { texts: texts.filter(Boolean), numbers };
}

/** Every leaf value of a FEST product (strings and numbers). */
function leaves(v: unknown, texts: Set<string>, numbers: Set<number>): void {
  if (typeof v === 'string') texts.add(v);
  else if (typeof v === 'number') numbers.add(v);
  else if (Array.isArray(v)) for (const x of v) leaves(x, texts, numbers);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) leaves(x, texts, numbers);
}

describe('identity-only enrichment', () => {
  let deps: PipelineDeps;
  let drugs: DrugRegistry;
  let records: FestRecord[];
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    records = await readFestRecords(DEMO_FEST_FILE);
    drugs = memoryDrugRegistry(records);
    deps = { ...stored, registries: { ...stored.registries, drugs } };
  });

  const exported = async (bytes: string | Uint8Array, now = NOW): Promise<Converted> => {
    const r = await convertM1(bytes, deps, { now });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error(`refused: ${r.value.decision.reasons.map((x) => x.code).join(', ')}`);
    await expectSchemaValidCda(r.value.cda);
    return r.value;
  };

  it('Zyrtec Tab 10 mg with unknown package 485342 and BytteresRekvirent goes out as Zyrtec, not as Cetimax by Orion', async () => {
    const m1 = fixture(...ZYRTEC).toString('utf8').replace('<Reiterasjon>3</Reiterasjon>', '<Reiterasjon>3</Reiterasjon><BytteresRekvirent V="1" DN="Ja"/>');
    const c = await exported(m1, new Date('2020-02-01T12:00:00+01:00'));
    expect(c.enrichment.product).toBeUndefined();
    const both = `${JSON.stringify(c.bundle)}${c.cda}`;
    for (const foreign of ['Cetimax', 'Orion', '057932']) expect(both).not.toContain(foreign);
    const med = medicationOf(c.bundle);
    expect(med.code?.text).toBe('Zyrtec Tab 10 mg');
    expect(med.identifier).toEqual([{ system: 'https://helsebro.no/fhir/NamingSystem/no-varenummer', value: '485342' }]);
    expect(med.ingredient ?? []).toEqual([]);
    expect(med.manufacturer).toBeUndefined();
    expect(requestOf(c.bundle).substitution).toEqual({ allowedBoolean: false });
    expect(c.cda).toContain('<name>Zyrtec Tab 10 mg</name>');
    expect(c.cda).toMatch(/<translation code="53" codeSystem="2\.16\.578\.1\.12\.4\.1\.1\.7448"/);
    expect(c.cda).toContain('<pharm:code code="R06AE07" codeSystem="2.16.840.1.113883.6.73"');
    expect(c.cda).not.toContain('<pharm:ingredient');
    expect(c.cda).not.toContain('<manufacturerOrganization');
    expect(c.cda).toMatch(/<code code="SUBST"[^>]*\/>\s*<value xsi:type="CE" code="N"/);
    // The warning names the missing record, here and in the Provenance.
    const warning = c.warnings.find((w) => w.details?.coding?.[0]?.code === 'FEST-UNKNOWN-PRODUCT');
    expect(warning).toMatchObject({ severity: 'warning' });
    expect(warning?.diagnostics).toContain('Legemiddelpakning with varenummer 485342');
    const entity = c.provenance.entity?.find((e) => e.what?.identifier?.value === '485342');
    expect(entity?.extension?.[0]).toMatchObject({ url: CONVERSION_WARNING_EXTENSION, valueCoding: { code: 'FEST-UNKNOWN-PRODUCT' } });
  });

  it('Ibux Tab 600 mg with an unknown package never says 400 mg (the strength of the Ibux FEST knows)', async () => {
    const m1 = fixture(...IBUX)
      .toString('utf8')
      .replace('<NavnFormStyrke>Ibux Tab 400 mg</NavnFormStyrke>', '<NavnFormStyrke>Ibux Tab 600 mg</NavnFormStyrke>')
      .replace(/<Varenr>154021<\/Varenr>/, '<Varenr>999917</Varenr>');
    const c = await exported(m1, new Date('2019-08-01T12:00:00+02:00'));
    expect(warningCodes(c)).toContain('FEST-UNKNOWN-PRODUCT');
    const med = medicationOf(c.bundle);
    expect(med.code?.text).toBe('Ibux Tab 600 mg');
    expect(med.ingredient ?? []).toEqual([]);
    for (const text of [JSON.stringify(c.bundle), c.cda]) {
      expect(text).not.toMatch(/400 ?mg/i);
      expect(text).not.toMatch(/"value":400\b/);
      expect(text).not.toMatch(/value="400"/);
    }
    expect(c.cda).toContain('<name>Ibux Tab 600 mg</name>');
  });

  it('the same Ibux with its known package 154021 does carry FEST: 400 mg ibuprofen', async () => {
    const c = await exported(fixture(...IBUX), new Date('2019-08-01T12:00:00+02:00'));
    expect(c.enrichment.matchedBy).toBe('varenr');
    expect(medicationOf(c.bundle).ingredient?.[0]?.strength?.numerator).toMatchObject({ value: 400, code: 'mg' });
    expect(c.cda).toMatch(/<numerator xsi:type="PQ" value="400" unit="mg"\/>/);
  });

  it('property: every product value in both outputs comes from the M1 or from the FEST record with its varenummer', async () => {
    const packages = records.filter((r): r is Extract<FestRecord, { kind: 'pakning' }> => r.kind === 'pakning');
    const exportable = packages.filter((p) => !['A', 'B'].includes(p.data.prescriptionGroup));
    const knownVarenr = new Set(packages.map((p) => p.data.varenr));
    // Names and ATC codes of products FEST knows: the temptation for a similarity match.
    const lookalike = fc.constantFrom(...packages.map((p) => ({ name: p.data.name, atc: p.data.atc?.code, form: p.data.doseForm?.code })));
    const drug = fc.record({
      varenr: fc.oneof(
        fc.constantFrom(...exportable.map((p) => p.data.varenr)),
        fc.stringMatching(/^\d{6}$/).filter((v) => !knownVarenr.has(v)),
      ),
      looks: lookalike,
      size: fc.constantFrom('10', '100', '2 x 150', '28'),
      bytteres: fc.option(fc.boolean(), { nil: undefined }),
    });
    const cdas: string[] = [];
    await fc.assert(
      fc.asyncProperty(drug, async (d) => {
        const spec = specFor({ bytteresRekvirent: d.bytteres }, {
          kind: 'Legemiddelpakning',
          varenr: d.varenr,
          navnFormStyrke: d.looks.name,
          reseptgruppe: 'C',
          ...(d.looks.atc ? { atc: { code: d.looks.atc } } : {}),
          ...(d.looks.form ? { form: { code: d.looks.form } } : {}),
          pakning: { varenavn: d.looks.name.split(' ')[0]!, str: d.size, enhet: { code: 'stk', display: 'stykk' } },
        });
        const r = await convertM1(buildM1(spec), deps, { now: NOW });
        if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
        if (!r.value.exportable) return; // FEST's own group A/B for the package
        const c = r.value;
        cdas.push(c.cda);
        const own: FestProduct | undefined = await drugs.byVarenr(d.varenr);
        const texts = new Set<string>([d.varenr, d.looks.name, d.looks.atc ?? '', d.looks.form ?? '', d.looks.name.split(' ')[0]!]);
        const numbers = new Set<number>(d.size.split(' x ').map(Number).concat(d.size.split(' x ').map(Number).reduce((a, b) => a * b, 1)));
        if (own) leaves(own, texts, numbers);
        // A multipack's levels ("3 x 21") are the factors of FEST's own size text.
        for (const f of (own?.package?.size && sizeFactors(own.package.size)) || []) numbers.add(f);
        const out = productValues(c);
        for (const t of out.texts) expect(texts.has(t), `'${t}' is neither in the M1 nor in FEST ${d.varenr}`).toBe(true);
        for (const n of out.numbers) expect(numbers.has(n), `${n} is neither in the M1 nor in FEST ${d.varenr}`).toBe(true);
        expect(requestOf(c.bundle).substitution?.allowedBoolean).toBe(d.bytteres !== true);
        if (!own) expect(warningCodes(c)).toContain('FEST-UNKNOWN-PRODUCT');
      }),
      { numRuns: 80 },
    );
    await expectSchemaValidCda(cdas);
  });
});
