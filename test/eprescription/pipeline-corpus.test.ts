// Every M1 of the corpus and every official sample M1 through the whole pipeline: the decision, and for
// every exportable one an MPD Bundle that passes the base specification, the MPD profiles and the
// pipeline's own checks, and an eHDSI CDA that passes the structural check. Every row of both mapping
// tables must be used by some conversion (or, for an omitted element, have its source present).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEhdsiCda } from '../../src/eprescription/cda-check.ts';
import { loadMappingTable } from '../../src/mappings/table.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { decideExport } from '../../src/eprescription/rules.ts';
import { validateMpdBundle } from '../../src/eprescription/validate-fhir.ts';
import type { Db } from '../../src/store/db.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { engines } from '../support/db.ts';
import { profileErrors } from './support/mpd-validate.ts';
import { depsFor, fixture, fixtureNames, officialM1s, preparedDb } from './support/pipeline.ts';

const NOW = new Date('2026-03-02T10:00:00+01:00');
const ctx = { now: NOW, dispensingsSoFar: 0, recalled: false, patientRestricted: false };
const fhirTable = loadMappingTable('m1-to-mpd-fhir');
const cdaTable = loadMappingTable('m1-to-ehdsi-cda');

describe.each(engines)('the pipeline over the corpus (%s)', (engine) => {
  let db: Db;
  let deps: PipelineDeps;
  const converted: { label: string; c: Converted }[] = [];
  const used = { fhir: new Set<number>(), cda: new Set<number>() };
  const record = (label: string, c: Converted): void => {
    converted.push({ label, c });
    for (const l of [...c.coverage.fhir, ...c.coverage.fhirOmitted]) used.fhir.add(l);
    for (const l of [...c.coverage.cda, ...c.coverage.cdaOmitted]) used.cda.add(l);
  };

  beforeAll(async () => {
    // FEST exactly the demo catalogue: the conversions' outcomes depend on which product each varenummer is.
    db = await preparedDb(engine, { isolated: true });
    deps = depsFor(db);
  });

  const folders = ['valid', 'pipeline'];
  for (const folder of folders) {
    for (const file of fixtureNames(folder)) {
      it(`${folder}/${file}: decided, and converted to outputs that validate when exportable`, async () => {
        const bytes = fixture(folder, file);
        const r = await convertM1(bytes, deps, { now: NOW });
        if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
        const parsed = parseM1(bytes);
        if (!parsed.ok) throw new Error('parse');
        const rules = decideExport(parsed.value, ctx);
        // The pipeline decides as the rules do; FEST may add a group A/B refusal, never remove one.
        if (!rules.exportable) expect(r.value.exportable).toBe(false);
        expect(r.value.decision.reasons.map((x) => x.code)).toEqual(expect.arrayContaining(rules.reasons.map((x) => x.code)));
        if (!r.value.exportable) return;
        record(`${folder}/${file}`, r.value);
      });
    }
  }

  it('converts every official sample M1 (bare and inside M9.4) on its own issue date', async () => {
    const samples = officialM1s();
    // Eight bare M1s and the two carried inside M9.4s, all in test/fixtures/m1/official.
    expect(samples.length).toBe(10);
    let exportable = 0;
    for (const { label, bytes } of samples) {
      const parsed = parseM1(bytes);
      if (!parsed.ok) throw new Error(`${label}: ${JSON.stringify(parsed.problem.issues)}`);
      const issued = new Date(`${parsed.value.resept.forskrivningsdato}T12:00:00+01:00`);
      const r = await convertM1(bytes, deps, { now: issued });
      if (!r.ok) throw new Error(`${label}: ${JSON.stringify(r.problem.issues)}`);
      if (r.value.exportable) {
        exportable++;
        record(label, r.value);
      }
    }
    // The magistral samples, the unlicensed drug and Cosylan (group B) are refused; Ibux, Zyrtec and the two
    // Livostin packages convert.
    expect(exportable).toBe(4);
  });

  it('every FHIR output passes the base spec, the MPD required elements and the MPD profiles', () => {
    expect(converted.length).toBeGreaterThanOrEqual(25);
    for (const { label, c } of converted) {
      expect(validateMpdBundle(c.bundle), label).toEqual([]);
      expect(profileErrors(c.bundle), label).toEqual([]);
    }
  });

  it('every CDA passes the eHDSI structural check', () => {
    for (const { label, c } of converted) {
      const check = checkEhdsiCda(c.cda);
      expect(check.issues, label).toEqual([]);
      expect(check.kind).toBe('ePrescription');
    }
  });

  it('every CDA validates against CDA_Pharma.xsd, in one run', async () => {
    await expectSchemaValidCda(
      converted.map((x) => x.c.cda),
      converted.map((x) => x.label),
    );
  });

  it('never converts a reseptgruppe A or B prescription', () => {
    for (const { label, c } of converted) expect(['A', 'B'], label).not.toContain(c.groups[0]);
  });

  it('uses every row of both mapping tables somewhere in the corpus', () => {
    const missing = (table: typeof fhirTable, seen: Set<number>) =>
      table.rows.filter((r) => !seen.has(r.line)).map((r) => `${table.file}:${r.line} ${r.source} -> ${r.target}`);
    expect(missing(fhirTable, used.fhir)).toEqual([]);
    expect(missing(cdaTable, used.cda)).toEqual([]);
  });

  afterAll(async () => {
    converted.length = 0;
    await db?.close();
  });
});
