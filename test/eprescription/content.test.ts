// What the EU prescription says beyond product and dosage: the indication, the active substance coded as
// eHDSI wants it, and no placeholder identifiers from the sender's system.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Medication, Organization } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { buildM1 } from './support/m1-builder.ts';
import { HYDROKORTISON, specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';

describe('content of the EU prescription', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const exported = async (bytes: string | Uint8Array, now: Date): Promise<Converted> => {
    const r = await convertM1(bytes, deps, { now });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error('refused');
    await expectSchemaValidCda(r.value.cda);
    return r.value;
  };
  const get = <T>(c: Converted, type: string): T => c.bundle.entry!.find((e) => e.resource?.resourceType === type)!.resource as T;
  const ingredientCode = (c: Converted): string => /<pharm:ingredientSubstance[^>]*>\s*(<pharm:code[^>]*\/>)/.exec(c.cda)![1]!;

  it('carries the indication (Bruksomrade) in the CDA, as a reason and in the narrative', async () => {
    const c = await exported(buildM1(specFor({ bruksomrade: 'MOT BINYREBARKSVIKT' })), new Date('2026-03-02T10:00:00+01:00'));
    expect(c.cda).toMatch(/<td ID="indication-1">MOT BINYREBARKSVIKT<\/td>/);
    expect(c.cda).toMatch(/<entryRelationship typeCode="RSON">\s*<observation classCode="OBS" moodCode="EVN">[\s\S]*?<reference value="#indication-1"\/>/);
  });

  it('codes a single active substance with FEST\'s ATC (eHDSIActiveIngredient) in both outputs', async () => {
    const c = await exported(buildM1(specFor()), new Date('2026-03-02T10:00:00+01:00'));
    expect(HYDROKORTISON.varenr).toBe('138545');
    expect(ingredientCode(c)).toMatch(/^<pharm:code code="H02AB09" codeSystem="2\.16\.840\.1\.113883\.6\.73"/);
    expect(get<Medication>(c, 'Medication').ingredient?.[0]?.itemCodeableConcept?.coding).toEqual([expect.objectContaining({ code: 'H02AB09' })]);
  });

  it('leaves a combination uncoded: two substances share one ATC (Microgynon)', async () => {
    const microgynon = { ...HYDROKORTISON, atc: { code: 'G03AA07' }, navnFormStyrke: 'Microgynon Tab', varenr: '441907' };
    const c = await exported(buildM1(specFor({}, microgynon)), new Date('2026-03-02T10:00:00+01:00'));
    expect(get<Medication>(c, 'Medication').ingredient).toHaveLength(2);
    expect(ingredientCode(c)).toBe('<pharm:code nullFlavor="UNK"/>');
    expect(get<Medication>(c, 'Medication').ingredient?.every((i) => !i.itemCodeableConcept?.coding)).toBe(true);
  });

  it('sends no placeholder identifier: the official samples\' RESH "0" stays home', async () => {
    const m1 = fixture('official', 'Utleverer sender oppgjørskrav til Helfo/M1 Resept1.xml');
    expect(m1.toString('utf8')).toMatch(/<Id>0<\/Id>\s*<TypeId[^>]*V="RSH"/);
    const c = await exported(m1, new Date('2020-02-01T12:00:00+01:00'));
    const ids = c.bundle.entry!.flatMap((e) => (e.resource as Organization).identifier ?? []);
    expect(ids.some((i) => i.value === '0')).toBe(false);
    expect(c.cda).not.toMatch(/extension="0+"/);
    expect(c.warnings.map((w) => w.diagnostics)).toContainEqual(expect.stringMatching(/Identifier '0' .* placeholder/));
    expect(c.cda).toContain('ALLERGIMEDISIN');
  });
});
