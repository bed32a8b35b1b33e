// The mapping engine: sources resolved as the tables write them, the tables really driving the emitters (a
// changed row changes the output; a missing row is an error, not a silent gap), and unmapped codes kept as
// Norwegian coding and text with a warning, never dropped.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Medication, MedicationRequest } from '@medplum/fhirtypes';
import { applyTable, MappingMismatchError } from '../../src/eprescription/map/apply.ts';
import { resolveDataPath, resolveMessagePath } from '../../src/eprescription/map/source.ts';
import { unitCode } from '../../src/eprescription/map/transforms.ts';
import { loadMappingTable, MAPPINGS_DIR, parseCsv, validateMappingTable, type MappingTable } from '../../src/mappings/table.ts';
import { parseM1Document } from '../../src/eprescription/m1/parse.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { CODE_SYSTEM } from '../../src/fhir/identifiers.ts';
import { parseXml } from '../../src/xml/parse.ts';
import { CONCEPT_MAP, getTerminology } from '../../src/terminology/index.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';

const NOW = new Date('2026-03-02T10:00:00+01:00');

function table(direction: 'm1-to-mpd-fhir' | 'm1-to-ehdsi-cda', edit: (csv: string) => string): MappingTable {
  const { table: t, issues } = validateMappingTable(direction, parseCsv(edit(readFileSync(`${MAPPINGS_DIR}${direction}.csv`, 'utf8'))));
  if (!t) throw new Error(JSON.stringify(issues));
  return t;
}

async function converted(deps: PipelineDeps, bytes: Uint8Array | string): Promise<Converted> {
  const r = await convertM1(bytes, deps, { now: NOW });
  if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
  if (!r.value.exportable) throw new Error('refused');
  return r.value;
}

const resource = <T>(c: Converted, type: string): T => c.bundle.entry!.find((e) => e.resource?.resourceType === type)!.resource as T;

describe('source paths', () => {
  const doc = (() => {
    const r = parseM1Document(fixture('valid', '23-prefiks-mh-m1-fs.xml'));
    if (!r.ok) throw new Error('parse');
    return { root: r.value.root, payload: r.value.resept };
  })();

  it('reads message paths by local name, whatever the prefixes, with alternatives and attributes', () => {
    const atc = resolveMessagePath('Resept/ReseptDokLegemiddel/Forskrivning/(LegemiddelMerkevare|Legemiddelpakning)/Atc/@V', doc);
    expect(atc).toEqual([expect.objectContaining({ kind: 'attribute', value: 'H02AB09' })]);
    const id = resolveMessagePath('MsgHead/MsgInfo/MsgId', doc);
    expect(id[0]?.kind === 'element' && id[0].el.text).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveMessagePath('Resept/ReseptDokHandelsvare/Merknad', doc)).toEqual([]);
    expect(resolveMessagePath('Utleveringsrapport/Utlevering', doc)).toEqual([]);
  });

  it('reaches every matching element in document order, each with its own chain of ancestors', () => {
    const parsed = parseXml(
      '<MsgHead xmlns="urn:m"><Document><Resept><A n="0"><B x="1"/><C x="c"/><B x="2"/></A><D/><A n="1"><B x="3"/></A><C x="4"/></Resept></Document></MsgHead>',
    );
    if (!parsed.ok) throw new Error('parse');
    const root = parsed.value.root;
    const payload = root.children[0]!.children[0]!;
    const data = { root, payload };
    const bs = resolveMessagePath('Resept/A/B', data);
    expect(bs.map((v) => (v.kind === 'element' ? [v.el.attr('x'), v.ancestors.map((a) => a.attr('n') ?? a.name)] : v.kind))).toEqual([
      ['1', ['Resept', '0']],
      ['2', ['Resept', '0']],
      ['3', ['Resept', '1']],
    ]);
    expect(resolveMessagePath('Resept/(A|C)/@x', data).map((v) => v.kind === 'attribute' && v.value)).toEqual(['4']);
    expect(resolveMessagePath('Resept/A/(C|B)/@x', data).map((v) => v.kind === 'attribute' && v.value)).toEqual(['1', 'c', '2', '3']);
    expect(resolveMessagePath('MsgHead/Document/Resept', data)).toEqual([{ kind: 'element', el: payload, ancestors: [root, root.children[0]] }]);
    expect(resolveMessagePath('Resept', data)).toEqual([{ kind: 'element', el: payload, ancestors: [] }]);
    expect(resolveMessagePath('Resept/A/E', data)).toEqual([]);
    expect(resolveMessagePath('Resept/A/B/@y', data)).toEqual([]);
    expect(resolveMessagePath('Utleveringsrapport/A', data)).toEqual([]);
  });

  it('spreads data arrays with their positions and reads whole arrays as one value', () => {
    const fest = { ingredients: [{ strength: { value: 10, unit: 'mg' } }, { name: 'no strength' }, { strength: { value: 5, unit: 'mg' } }], routes: [{ code: '53' }, { code: '62' }] };
    expect(resolveDataPath('ingredients[].strength', fest)).toEqual([
      { kind: 'data', value: { value: 10, unit: 'mg' }, index: 0 },
      { kind: 'data', value: { value: 5, unit: 'mg' }, index: 2 },
    ]);
    expect(resolveDataPath('routes', fest)).toEqual([{ kind: 'data', value: fest.routes }]);
    expect(resolveDataPath('package.amount', fest)).toEqual([]);
  });

  it('finds a unit written as text among the codes and displays of its code system', () => {
    const t = getTerminology();
    expect(unitCode(CODE_SYSTEM.volven(7480), 'tablett', t)).toBe('13');
    expect(unitCode(CODE_SYSTEM.volven(7480), 'Tablett', t)).toBe('13');
    expect(unitCode(CODE_SYSTEM.volven(7452), 'ml', t)).toBe('ml');
    expect(unitCode(CODE_SYSTEM.volven(7480), 'ingen slik enhet', t)).toBeUndefined();
  });
});

describe.each(['pglite' as const])('the tables drive the emitters (%s)', (engine) => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    deps = depsFor(await preparedDb(engine));
  });

  it('a ConceptMap changed in the table changes the EU code sent', async () => {
    const usual = await converted(deps, fixture('valid', '01-pakning-hydrokortison.xml'));
    const fhir = table('m1-to-mpd-fhir', (csv) =>
      csv.replace(/(,Medication\.form,code-map,)[^,]+,/, `$1${CONCEPT_MAP.unitOfPresentation},`),
    );
    const changed = await converted({ ...deps, tables: { fhir, cda: loadMappingTable('m1-to-ehdsi-cda') } }, fixture('valid', '01-pakning-hydrokortison.xml'));
    expect(resource<Medication>(usual, 'Medication').form?.coding?.[0]?.code).toBe('12200');
    expect(resource<Medication>(changed, 'Medication').form?.coding?.[0]).toMatchObject({ code: '15054000', display: 'Tablet' });
  });

  it('a source changed in the table changes what is read', async () => {
    const fhir = table('m1-to-mpd-fhir', (csv) =>
      csv.replace('Resept/ReseptDokLegemiddel/Forskrivning/Bruksomrade,MedicationRequest.reasonCode.text', 'Resept/ReseptDokLegemiddel/Forskrivning/DosVeiledEnkel,MedicationRequest.reasonCode.text'),
    );
    const c = await converted({ ...deps, tables: { fhir, cda: loadMappingTable('m1-to-ehdsi-cda') } }, fixture('valid', '01-pakning-hydrokortison.xml'));
    expect(resource<MedicationRequest>(c, 'MedicationRequest').reasonCode?.[0]?.text).toBe('1 tablett morgen og ½ tablett ettermiddag');
  });

  it('a row taken out of the table is an error, not a field silently left out', async () => {
    const fhir = table('m1-to-mpd-fhir', (csv) => csv.split('\n').filter((l) => !l.includes(',MedicationRequest.note.text,')).join('\n'));
    await expect(convertM1(fixture('valid', '01-pakning-hydrokortison.xml'), { ...deps, tables: { fhir, cda: loadMappingTable('m1-to-ehdsi-cda') } }, { now: NOW })).rejects.toThrow(
      MappingMismatchError,
    );
  });

  it('a transform the emitter cannot render is an error', () => {
    const t = table('m1-to-mpd-fhir', (csv) => csv.replace('Resept/Forskrivningsdato,MedicationRequest.authoredOn,date', 'Resept/Forskrivningsdato,MedicationRequest.authoredOn,text'));
    const doc = parseM1Document(fixture('valid', '01-pakning-hydrokortison.xml'));
    if (!doc.ok) throw new Error('parse');
    const mapped = applyTable(t, { root: doc.value.root, payload: doc.value.resept, context: {} });
    expect(() => mapped.one('MedicationRequest.authoredOn', 'date')).toThrow(/uses transform text; the emitter renders date/);
    expect(() => mapped.one('MedicationRequest.nope', 'text')).toThrow(/has no row for MedicationRequest.nope/);
  });

  it('keeps an unmapped code as the Norwegian coding and text, with a warning, in both outputs', async () => {
    const m1 = fixture('valid', '01-pakning-hydrokortison.xml')
      .toString('utf8')
      .replace('<LegemiddelformKort V="53" S="2.16.578.1.12.4.1.1.7448" DN="Tablett"/>', '<LegemiddelformKort V="9999" S="2.16.578.1.12.4.1.1.7448" DN="Ny legemiddelform" OT="Smeltefilm"/>')
      .replace('b1f4c2a0-6d1e-4f0a-9a51-3c2e8d7f1001', 'b1f4c2a0-6d1e-4f0a-9a51-3c2e8d7f9999');
    const c = await converted(deps, m1);
    const form = resource<Medication>(c, 'Medication').form;
    expect(form).toEqual({ coding: [{ system: CODE_SYSTEM.volven(7448), code: '9999', display: 'Ny legemiddelform' }], text: 'Smeltefilm' });
    expect(c.warnings).toContainEqual(
      expect.objectContaining({ severity: 'warning', details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'unmapped-code' })] }) }),
    );
    expect(c.cda).toMatch(
      /<pharm:formCode nullFlavor="OTH">\s*<originalText>Smeltefilm<\/originalText>\s*<translation code="9999" codeSystem="2.16.578.1.12.4.1.1.7448" displayName="Ny legemiddelform"\/>\s*<\/pharm:formCode>/,
    );
  });

  it('reads a message with any namespace prefixes the same way', async () => {
    const plain = await converted(deps, fixture('valid', '25-blandet-prefiks-og-standard.xml'));
    const prefixed = await converted(deps, fixture('valid', '23-prefiks-mh-m1-fs.xml'));
    const pick = (c: Converted) => {
      const mr = resource<MedicationRequest>(c, 'MedicationRequest');
      return { form: resource<Medication>(c, 'Medication').form, dosage: mr.dosageInstruction?.map((d) => d.timing), validity: mr.dispenseRequest?.validityPeriod };
    };
    expect(pick(prefixed)).toEqual(pick(plain));
    expect(pick(plain).form?.coding?.[0]?.code).toBe('12200');
  });
});
