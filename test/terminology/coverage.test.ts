// Coverage as data: the figures in mappings/README.md are the generated ones, every code the demo FEST
// extract uses maps to an EU code, and no product of that extract goes out with a nullFlavor form code.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { festCodes, mappingCoverageRows } from '../../src/eprescription/code-coverage.ts';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import type { FestRecord } from '../../src/registries/fest/types.ts';
import { coverageMarkdown, mapCoverage } from '../../src/terminology/coverage.ts';
import { getTerminology } from '../../src/terminology/index.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { buildM1 } from '../eprescription/support/m1-builder.ts';
import { HYDROKORTISON, specFor } from '../eprescription/support/m1-spec.ts';
import { depsFor, preparedDb } from '../eprescription/support/pipeline.ts';

let records: FestRecord[];
beforeAll(async () => {
  records = await readFestRecords(DEMO_FEST_FILE);
});

describe('code coverage of the ConceptMaps', () => {
  it('mappings/README.md shows the figures npm run coverage:mappings generates', () => {
    const readme = readFileSync(new URL('../../mappings/README.md', import.meta.url), 'utf8');
    const table = coverageMarkdown(mappingCoverageRows(getTerminology(), festCodes(records)));
    expect(readme).toContain(`<!-- coverage:start (npm run coverage:mappings) -->\n${table}<!-- coverage:end -->`);
  });

  it('maps every dose form, package type and unit the demo FEST extract uses', () => {
    for (const row of mappingCoverageRows(getTerminology(), festCodes(records))) {
      expect(row.inFest.codes.length, row.list).toBeGreaterThan(0);
      expect(row.inFest.mapped, `${row.list}: ${row.inFest.codes.join(', ')}`).toBe(row.inFest.codes.length);
    }
  });

  it('counts an unmatched code as unmappable only when the map says why', () => {
    const c = mapCoverage(
      {
        resourceType: 'ConceptMap',
        status: 'draft',
        id: 'x',
        group: [{ element: [{ code: 'a', target: [{ code: 'A', equivalence: 'equivalent' }] }, { code: 'b', target: [{ equivalence: 'unmatched', comment: 'no route' }] }, { code: 'c', target: [{ equivalence: 'unmatched' }] }] }],
      },
      ['a', 'b', 'c', 'd'],
    );
    expect(c).toMatchObject({ total: 4, mapped: 1, unmappable: 1, missing: ['d'], unexplained: ['c'] });
  });

  it('accounts for every dose form (7448) and package type (7449): mapped, or unmappable with its reason', () => {
    const [forms, packs] = mappingCoverageRows(getTerminology(), festCodes(records));
    for (const row of [forms!, packs!]) {
      expect(row.coverage.missing, row.list).toEqual([]);
      expect(row.coverage.unexplained, row.list).toEqual([]);
      expect(row.coverage.mapped + row.coverage.unmappable, row.list).toBe(row.coverage.total);
    }
    // Not mapped for the sake of the figure: many codes stay unmappable, each with the guess it refuses.
    expect(forms!.coverage.unmappable).toBeGreaterThan(50);
  });

  it('maps by the meaning of the term, and says why where the term does not decide', () => {
    const t = getTerminology();
    const target = (url: string, code: string) => t.conceptMaps.get(url)!.group!.flatMap((g) => g.element ?? []).find((e) => e.code === code)?.target?.[0];
    const FORM = 'https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form';
    const PACK = 'https://helsebro.no/fhir/ConceptMap/volven-7449-to-edqm-package';
    expect(target(FORM, '125')).toMatchObject({ code: '11701000', display: 'Endocervical gel', equivalence: 'equivalent' });
    expect(target(FORM, '540')).toMatchObject({ display: 'Powder for prolonged-release injection' });
    expect(target(FORM, '430')).toMatchObject({ equivalence: 'unmatched', comment: expect.stringContaining('solution or suspension') });
    expect(target(FORM, '174')).toMatchObject({ equivalence: 'unmatched', comment: expect.stringContaining('Veterinary') });
    expect(target(FORM, '535')).toMatchObject({ equivalence: 'unmatched', comment: expect.stringContaining('route of administration, not a dose form') });
    expect(target(PACK, '157')).toMatchObject({ code: '30012000', display: 'Cannula', equivalence: 'equivalent' });
    expect(target(PACK, '51')).toMatchObject({ code: '30001000', display: 'Ampoule', equivalence: 'wider' });
    expect(target(PACK, '194')).toMatchObject({ equivalence: 'unmatched', comment: expect.stringContaining('pre-filled syringe') });
  });

  it('fixes the depot injection, the box and "doser" as the pharmacist reads them', () => {
    const t = getTerminology();
    const target = (url: string, code: string) => t.conceptMaps.get(url)!.group!.flatMap((g) => g.element ?? []).find((e) => e.code === code)?.target?.[0];
    expect(target('https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form', '481')).toMatchObject({ code: '13076000', display: 'Prolonged-release solution for injection' });
    expect(target('https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form', '160')).toMatchObject({ code: '21010' });
    expect(target('https://helsebro.no/fhir/ConceptMap/volven-7449-to-edqm-package', '138')).toMatchObject({ code: '30009000', display: 'Box' });
    for (const code of ['136', '139', '152', '378']) {
      expect(target('https://helsebro.no/fhir/ConceptMap/volven-7448-to-edqm-dose-form', code)).toMatchObject({ equivalence: 'unmatched', comment: expect.stringContaining('route') });
    }
  });
});

describe('every exportable product of the demo FEST extract, converted', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(records) } };
  });

  it('has an EDQM dose form and package form code (never a nullFlavor), and validates', async () => {
    const packages = records.filter((r): r is Extract<FestRecord, { kind: 'pakning' }> => r.kind === 'pakning');
    const cdas: string[] = [];
    let converted = 0;
    for (const p of packages) {
      const drug = { ...HYDROKORTISON, varenr: p.data.varenr, navnFormStyrke: p.data.name, ...(p.data.atc ? { atc: { code: p.data.atc.code } } : {}), ...(p.data.doseForm ? { form: { code: p.data.doseForm.code } } : {}) };
      const r = await convertM1(buildM1(specFor({}, drug)), deps, { now: new Date('2026-03-02T10:00:00+01:00') });
      if (!r.ok) throw new Error(`${p.data.varenr}: ${JSON.stringify(r.problem.issues)}`);
      if (!r.value.exportable) continue;
      converted++;
      const material = /<manufacturedMaterial[\s\S]*<\/manufacturedMaterial>/.exec(r.value.cda)![0];
      // The dose form and the container FEST types (the first package level). The boxes around a multipack's
      // inner containers ("10 x 100") have no FEST code and say UNK; they are not codes that fell back.
      const [doseForm, packageForm] = [...material.matchAll(/<pharm:formCode[^>]*>/g)].map((m) => m[0]);
      expect(doseForm, `${p.data.varenr} ${p.data.name}`).not.toMatch(/nullFlavor/);
      expect(packageForm, `${p.data.varenr} ${p.data.name}`).toMatch(/^<pharm:formCode code="\d+"/);
      cdas.push(r.value.cda);
    }
    expect(converted).toBeGreaterThanOrEqual(15);
    await expectSchemaValidCda(cdas);
  });
});
