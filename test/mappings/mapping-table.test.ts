import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COLUMNS,
  MAPPING_DIRECTIONS,
  MappingTableError,
  TRANSFORMS,
  loadAllMappingTables,
  loadMappingTable,
  parseCsv,
  rowsForTarget,
  validateMappingTable,
  type MappingDirection,
} from '../../src/mappings/table.ts';
import { CONCEPT_MAP, getTerminology, reviewStatus } from '../../src/terminology/index.ts';

const HEADER = COLUMNS.join(',');
const check = (direction: MappingDirection, lines: string[]) => validateMappingTable(direction, parseCsv([HEADER, ...lines].join('\n')));
const messages = (direction: MappingDirection, lines: string[]): string[] => check(direction, lines).issues.map((i) => i.message);

describe('the four mapping tables', () => {
  const tables = loadAllMappingTables();

  it('all load: known transforms, existing ConceptMaps, well-formed paths', () => {
    for (const d of MAPPING_DIRECTIONS) expect(tables[d].rows.length, d).toBeGreaterThan(30);
  });

  it('only reference ConceptMaps of terminology/, each a reviewed-status draft', () => {
    const t = getTerminology();
    const used = new Set(MAPPING_DIRECTIONS.flatMap((d) => tables[d].rows.flatMap((r) => (r.codeMap ? [r.codeMap] : []))));
    expect(used.size).toBeGreaterThanOrEqual(7);
    for (const url of used) {
      const map = t.conceptMaps.get(url);
      expect(map, url).toBeDefined();
      expect(map && reviewStatus(map)?.status).toBe('unreviewed');
    }
  });

  it('use every transform of the catalogue somewhere, so the catalogue holds nothing dead', () => {
    const used = new Set(MAPPING_DIRECTIONS.flatMap((d) => tables[d].rows.map((r) => r.transform)));
    expect([...Object.keys(TRANSFORMS)].filter((t) => !used.has(t as keyof typeof TRANSFORMS))).toEqual([]);
  });

  it('map the fields every EU output must have', () => {
    const targets = (d: MappingDirection) => new Set(tables[d].rows.map((r) => r.target));
    const fhir = targets('m1-to-mpd-fhir');
    for (const t of ['MedicationRequest.identifier', 'MedicationRequest.status', 'MedicationRequest.subject', 'MedicationRequest.authoredOn',
      'MedicationRequest.requester', 'MedicationRequest.dosageInstruction.text', 'MedicationRequest.medicationReference',
      'MedicationRequest.substitution.allowedBoolean', 'Medication.form', 'Medication.code.text']) expect(fhir.has(t), t).toBe(true);
    const cda = targets('m1-to-ehdsi-cda');
    for (const t of ['/ClinicalDocument/id', '/ClinicalDocument/code/@code', '/ClinicalDocument/author/functionCode',
      "/ClinicalDocument/relatedDocument[@typeCode='XFRM']/parentDocument/id"]) expect(cda.has(t), t).toBe(true);
    const dispense = targets('m10-to-mpd-dispense');
    for (const t of ['MedicationDispense.authorizingPrescription.identifier', 'MedicationDispense.quantity', 'MedicationDispense.performer.actor',
      'MedicationDispense.extension[recorded].valueDateTime', 'MedicationDispense.status']) expect(dispense.has(t), t).toBe(true);
    expect(targets('m10-to-ehdsi-dispensation-cda').has("/ClinicalDocument/inFulfillmentOf/order[@moodCode='RQO']/id")).toBe(true);
  });

  it('translate every coded drug field with its ConceptMap', () => {
    const form = tables['m1-to-mpd-fhir'].rows.find((r) => r.target === 'Medication.form');
    expect(form).toMatchObject({ transform: 'code-map', codeMap: CONCEPT_MAP.doseForm, required: true });
    const unit = tables['m10-to-mpd-dispense'].rows.find((r) => r.target === 'Medication.amount.numerator.unit');
    expect(unit?.codeMap).toBe(CONCEPT_MAP.pharmacyUnit); // pharmacies write 7484, not 7452
  });

  it('say why every omitted element is left out', () => {
    for (const d of MAPPING_DIRECTIONS) {
      for (const r of tables[d].rows.filter((x) => x.transform === 'omit')) expect(r.note.length, `${d}:${r.line}`).toBeGreaterThan(10);
    }
  });

  it('classify sources and keep the line numbers of the file', () => {
    const rows = tables['m1-to-mpd-fhir'].rows;
    expect(rows[0]).toMatchObject({ line: 2, source: 'MsgHead/MsgInfo/MsgId', sourceKind: 'message' });
    expect(rows.find((r) => r.source === 'FEST:soleRoute')?.sourceKind).toBe('fest');
    expect(rows.find((r) => r.source === '=active')).toMatchObject({ sourceKind: 'constant', sourcePath: 'active' });
  });

  it('are cached after the first load', () => {
    expect(loadMappingTable('m1-to-ehdsi-cda')).toBe(loadMappingTable('m1-to-ehdsi-cda'));
  });

  it('select rows by target resource or XPath prefix', () => {
    const medication = rowsForTarget(tables['m1-to-mpd-fhir'], 'Medication');
    expect(medication.length).toBeGreaterThan(5);
    expect(medication.every((r) => r.target.startsWith('Medication.'))).toBe(true);
    const material = rowsForTarget(tables['m1-to-ehdsi-cda'], "/ClinicalDocument/component/structuredBody/component/section/entry/substanceAdministration[@moodCode='INT']/consumable");
    expect(material.some((r) => r.target.endsWith('pharm:formCode'))).toBe(true);
  });
});

describe('validation refuses broken tables', () => {
  it('an unknown transform', () => {
    expect(messages('m1-to-mpd-fhir', ['Resept/Utloper,MedicationRequest.dispenseRequest.validityPeriod.end,datum,none,required,'])[0]).toMatch(
      /unknown transform 'datum'/,
    );
  });

  it('a ConceptMap that does not exist, a missing one, and one where none belongs', () => {
    const m = messages('m1-to-mpd-fhir', [
      'Resept/X,Medication.form,code-map,https://helsebro.no/fhir/ConceptMap/none,required,',
      'Resept/X,Medication.code.text,code-map,none,required,',
      'Resept/X,Medication.identifier,identifier,https://helsebro.no/fhir/ConceptMap/volven-7477-to-edqm-route,optional,',
    ]);
    expect(m).toEqual([
      'ConceptMap https://helsebro.no/fhir/ConceptMap/none is not in terminology/',
      'transform code-map needs a ConceptMap',
      'transform identifier takes no ConceptMap',
    ]);
  });

  it('paths outside the message, unknown enrichment fields and malformed targets', () => {
    const m = messages('m1-to-mpd-fhir', [
      'Utleveringsrapport/Utlevering/ReseptId,MedicationRequest.identifier,copy,none,required,',
      'FEST:strengthh,Medication.ingredient.strength,copy,none,optional,',
      'Resept/Utloper,medicationRequest..end,date,none,required,',
      'Resept/Utloper,MedicationDispense.whenHandedOver,date,none,required,',
      'Resept/<script>,MedicationRequest.note.text,text,none,optional,',
    ]);
    expect(m[0]).toMatch(/must start with MsgHead or Resept/);
    expect(m[1]).toMatch(/FEST: has no field 'strengthh'/);
    expect(m[2]).toMatch(/malformed FHIR path/);
    expect(m[3]).toMatch(/not an output of this direction/);
    expect(m[4]).toMatch(/malformed path step '<script>'/);
  });

  it('CDA targets that are not under ClinicalDocument or have broken predicates', () => {
    const m = messages('m1-to-ehdsi-cda', [
      'Resept/Utloper,/Document/effectiveTime,date,none,required,',
      "Resept/Utloper,/ClinicalDocument/entry[@a='1'/x,date,none,required,",
      'Resept/Utloper,/ClinicalDocument/@code/x,date,none,required,',
    ]);
    expect(m).toHaveLength(3);
    expect(m[0]).toMatch(/starts with \/ClinicalDocument/);
  });

  it('constants, omissions, required values, duplicates, column counts and the header', () => {
    const m = messages('m1-to-mpd-fhir', [
      '=active,MedicationRequest.status,copy,none,required,',
      'Resept/Frikort,-,omit,none,optional,',
      'Resept/Frikort,MedicationRequest.note.text,omit,none,optional,because',
      'Resept/Utloper,MedicationRequest.dispenseRequest.validityPeriod.end,date,none,yes,',
      'Resept/Utloper,MedicationRequest.authoredOn,date,none,required,',
      'Resept/Utloper,MedicationRequest.authoredOn,date,none,required,',
      'only,three,columns',
    ]);
    expect(m).toEqual([
      'a constant source ("=...") goes with transform constant, and only there',
      'an omitted element needs a note saying why',
      'an omitted element has target "-"',
      'required is "required" or "optional", not \'yes\'',
      'same source and target as line 6',
      'expected 6 columns, found 3',
    ]);
    expect(validateMappingTable('m1-to-mpd-fhir', parseCsv('source,target\n')).issues[0]?.message).toMatch(/header/);
    expect(check('m1-to-mpd-fhir', []).issues[0]?.message).toMatch(/no rows/);
  });

  it('loading a broken table throws with every issue and its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helsebro-map-')) + '/';
    writeFileSync(join(dir, 'm1-to-mpd-fhir.csv'), `${HEADER}\nResept/Utloper,MedicationRequest.authoredOn,dato,none,required,\nResept/X,-,omit,none,optional,\n`);
    try {
      loadMappingTable('m1-to-mpd-fhir', dir);
      throw new Error('expected a MappingTableError');
    } catch (err) {
      expect(err).toBeInstanceOf(MappingTableError);
      expect((err as MappingTableError).issues.map((i) => i.line)).toEqual([2, 3]);
      expect((err as Error).message).toContain('line 2 (transform)');
    }
  });
});

describe('CSV reading', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and CRLF files', () => {
    const rows = parseCsv('\uFEFFa,b\r\n"x, y","say ""hi""\nagain"\r\n\r\nlast,row');
    expect(rows).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['x, y', 'say "hi"\nagain'], line: 2 },
      { cells: ['last', 'row'], line: 5 },
    ]);
  });

  it('refuses an unterminated quote', () => {
    expect(() => parseCsv('a,"b\nc')).toThrow(MappingTableError);
  });
});
