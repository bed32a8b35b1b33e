// A multipack leaves Norway as nested packages, not as a flattened total: "2 x 150 doser" is two containers
// of 150 doses in both the eHDSI CDA (pharm:asContent inside pharm:containerPackagedProduct, as in the eHDSI
// Lantus sample) and the MPD Medication (amount counts the items, sizeOfItem says what one holds).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Medication } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { MPD_EXTENSION } from '../../src/eprescription/emit-fhir.ts';
import { packageLevels, sizeFactors } from '../../src/registries/fest/package-size.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { parseXml } from '../../src/xml/parse.ts';
import type { XmlElement } from '../../src/xml/element.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import type { DrugSpec } from './support/m1-builder.ts';
import { buildM1 } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { profileErrors } from './support/mpd-validate.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';

const V3 = 'urn:hl7-org:v3';
const PHARM = 'urn:hl7-org:pharm';
const NOW = new Date('2026-03-02T10:00:00+01:00');

const medicationOf = (b: Bundle): Medication => b.entry!.find((e) => e.resource?.resourceType === 'Medication')!.resource as Medication;
const ext = (m: Medication, url: string) => m.extension?.find((e) => e.url === url);

interface Level {
  quantity: Record<string, string>;
  formCode: Record<string, string>;
  code?: Record<string, string>;
}

/** The asContent chain of the CDA's manufacturedMaterial, innermost first. */
function packageChain(cda: string): Level[] {
  const parsed = parseXml(cda);
  if (!parsed.ok) throw new Error('CDA does not parse');
  const find = (e: XmlElement, name: string): XmlElement | undefined => {
    if (e.name === name && e.ns === V3) return e;
    for (const c of e.children) {
      const hit = find(c, name);
      if (hit) return hit;
    }
    return undefined;
  };
  const material = find(parsed.value.root, 'manufacturedMaterial')!;
  const attrs = (e: XmlElement | undefined): Record<string, string> => Object.fromEntries((e?.attributes ?? []).map((a) => [a.name, a.value]));
  const out: Level[] = [];
  let content = material.children.find((c) => c.ns === PHARM && c.name === 'asContent');
  while (content) {
    const container = content.children.find((c) => c.name === 'containerPackagedProduct')!;
    const code = container.children.find((c) => c.name === 'code');
    out.push({
      quantity: attrs(content.children.find((c) => c.name === 'quantity')),
      formCode: attrs(container.children.find((c) => c.name === 'formCode')),
      ...(code ? { code: attrs(code) } : {}),
    });
    content = container.children.find((c) => c.name === 'asContent');
  }
  return out;
}

describe('package levels from a size text', () => {
  it('reads the factors outermost first, with spaces or without, and a decimal comma', () => {
    expect(sizeFactors('2 x 150')).toEqual([2, 150]);
    expect(sizeFactors('2x7x1')).toEqual([2, 7, 1]);
    expect(sizeFactors('10 × 2,5')).toEqual([10, 2.5]);
    expect(sizeFactors('x 150')).toBeUndefined();
    expect(sizeFactors('2 x ')).toBeUndefined();
    expect(sizeFactors('2 stk')).toBeUndefined();
  });

  it('nests a multipack whose factors make its total, innermost count first', () => {
    expect(packageLevels('2 x 150', 300)).toEqual({ item: 150, counts: [2] });
    expect(packageLevels('2 x 7 x 1', 14)).toEqual({ item: 1, counts: [7, 2] });
    expect(packageLevels('10 x 2,5', 25)).toEqual({ item: 2.5, counts: [10] });
  });

  it('leaves a single level, a disagreeing total, a fractional count and a fourth level alone', () => {
    expect(packageLevels('100', 100)).toBeUndefined();
    expect(packageLevels('2 x 150', 150)).toBeUndefined();
    expect(packageLevels('2,5 x 4', 10)).toBeUndefined();
    expect(packageLevels('2 x 2 x 2 x 2', 16)).toBeUndefined();
    expect(packageLevels(undefined, 300)).toBeUndefined();
  });
});

describe('nested packages in both EU outputs', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const exported = async (bytes: string | Uint8Array, now = NOW): Promise<Converted> => {
    const r = await convertM1(bytes, deps, { now });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error(`refused: ${r.value.decision.reasons.map((x) => x.code).join(', ')}`);
    await expectSchemaValidCda(r.value.cda);
    expect(profileErrors(r.value.bundle)).toEqual([]);
    return r.value;
  };

  it('Livostin nasal spray "2 x 150" doses (official M1, package not in FEST): two containers of 150 actuations, never 300', async () => {
    const m1 = fixture('official', 'Utleverer sender oppgjørskrav til Helfo/M1 Resept2.xml');
    expect(m1.toString('utf8')).toContain('<Pakningsstr>2 x 150</Pakningsstr>');
    const c = await exported(m1, new Date('2020-02-01T12:00:00+01:00'));
    const chain = packageChain(c.cda);
    expect(chain).toHaveLength(2);
    expect(chain[0]!.quantity).toMatchObject({ value: '150', unit: '{Actuation}' });
    expect(chain[1]!.quantity).toEqual({ value: '2', unit: '1' });
    // The package number names the package sold: the outermost container.
    expect(chain[0]!.code).toBeUndefined();
    expect(chain[1]!.code).toMatchObject({ code: '026721' });
    expect(c.cda).not.toMatch(/<pharm:quantity value="300"/);
    const med = medicationOf(c.bundle);
    // FHIR counts what the CDA's outer level counts, in the same unit (a count, UCUM 1), never a bare "2".
    expect(med.amount?.numerator).toEqual({ value: Number(chain[1]!.quantity.value), unit: chain[1]!.quantity.unit, system: 'http://unitsofmeasure.org', code: chain[1]!.quantity.unit });
    expect(med.amount?.numerator).toEqual({ value: 2, unit: '1', system: 'http://unitsofmeasure.org', code: '1' });
    expect(ext(med, MPD_EXTENSION.sizeOfItem)?.valueQuantity).toMatchObject({ value: 150, code: '15001000' });
    expect(JSON.stringify(med)).not.toMatch(/"value":300\b/);
    // The narrative a pharmacist reads states the same breakdown, in both languages.
    expect(c.cda).toMatch(/<th>Package \/ Pakning<\/th>\s*<td>2 x 150 Actuation \/ 2 x 150 doser<\/td>/);
  });

  it('Microgynon "3 x 21" from FEST: three calendar blisters of 21 tablets, the blister typed, the box around it unknown', async () => {
    const microgynon: DrugSpec = {
      kind: 'Legemiddelpakning',
      atc: { code: 'G03AA07', display: 'Levonorgestrel og etinyløstradiol' },
      navnFormStyrke: 'Microgynon Tab',
      reseptgruppe: 'C',
      form: { code: '53', display: 'Tablett' },
      varenr: '441907',
      pakning: { varenavn: 'Microgynon', str: '3 x 21', enhet: { code: 'stk', display: 'stykk' } },
    };
    const c = await exported(buildM1(specFor({}, microgynon)));
    expect(c.enrichment.matchedBy).toBe('varenr');
    const chain = packageChain(c.cda);
    expect(chain).toHaveLength(2);
    expect(chain[0]!.quantity).toMatchObject({ value: '21', unit: '{Tablet}' });
    expect(chain[0]!.formCode).toMatchObject({ code: '30007000', displayName: 'Blister' });
    expect(chain[1]!.quantity).toEqual({ value: '3', unit: '1' });
    expect(chain[1]!.formCode).toEqual({ nullFlavor: 'UNK' });
    expect(chain[1]!.code).toMatchObject({ code: '441907' });
    const med = medicationOf(c.bundle);
    expect(med.amount?.numerator?.value).toBe(3);
    expect(ext(med, MPD_EXTENSION.sizeOfItem)?.valueQuantity).toMatchObject({ value: 21, unit: 'Tablet' });
  });

  it('a three-level package "2 x 7 x 1" ml nests three containers in the CDA; FHIR counts the 14 ampoules of 1 ml', async () => {
    const ampoules: DrugSpec = {
      kind: 'Legemiddelpakning',
      atc: { code: 'N01BB02', display: 'Lidokain' },
      navnFormStyrke: 'Lidokain Inj 10 mg/ml',
      reseptgruppe: 'C',
      form: { code: '101', display: 'Injeksjonsvæske' },
      varenr: '999731',
      pakning: { varenavn: 'Lidokain', str: '2 x 7 x 1', enhet: { code: 'ml', display: 'milliliter' } },
    };
    const c = await exported(buildM1(specFor({}, ampoules)));
    const chain = packageChain(c.cda);
    expect(chain.map((l) => l.quantity)).toEqual([
      { value: '1', unit: 'mL' },
      { value: '7', unit: '1' },
      { value: '2', unit: '1' },
    ]);
    expect(chain.map((l) => l.code?.code)).toEqual([undefined, undefined, '999731']);
    const med = medicationOf(c.bundle);
    expect(med.amount?.numerator).toEqual({ value: 14, unit: '1', system: 'http://unitsofmeasure.org', code: '1' });
    expect(ext(med, MPD_EXTENSION.sizeOfItem)?.valueQuantity).toMatchObject({ value: 1, code: 'mL' });
  });

  it('a single-level package stays one container holding the whole amount', async () => {
    const c = await exported(buildM1(specFor()));
    const chain = packageChain(c.cda);
    expect(chain).toHaveLength(1);
    expect(chain[0]!.quantity).toMatchObject({ value: '100' });
    expect(chain[0]!.code).toMatchObject({ code: '138545' });
    const med = medicationOf(c.bundle);
    expect(med.amount?.numerator?.value).toBe(100);
    expect(ext(med, MPD_EXTENSION.sizeOfItem)).toBeUndefined();
  });
});
