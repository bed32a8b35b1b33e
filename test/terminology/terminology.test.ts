import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONCEPT_MAP,
  EHDSI_VALUE_SET,
  TERMINOLOGY_DIR,
  TerminologyLoadError,
  canonicalSystem,
  display,
  displayIn,
  getTerminology,
  listTerminologyResources,
  loadTerminology,
  lookup,
  systemOid,
  terminologyResource,
  toEuConcept,
  translate,
  validateCode,
} from '../../src/terminology/index.ts';

const V = (nr: number | string): string => `urn:oid:2.16.578.1.12.4.1.1.${nr}`;
const EDQM = 'http://standardterms.edqm.eu';
const UCUM = 'http://unitsofmeasure.org';

describe('loading terminology/', () => {
  it('indexes every resource of the folder by url and id', () => {
    const t = getTerminology();
    expect(t.codeSystems.has(V(7448))).toBe(true);
    expect(t.valueSets.has(EHDSI_VALUE_SET.doseForm)).toBe(true);
    expect(t.conceptMaps.has(CONCEPT_MAP.route)).toBe(true);
    expect(terminologyResource('ConceptMap', 'volven-7477-to-edqm-route')?.url).toBe(CONCEPT_MAP.route);
    expect(listTerminologyResources('CodeSystem').map((r) => r.id)).toContain('volven-7421');
  });

  it('is loaded once and cached', () => {
    expect(getTerminology()).toBe(getTerminology());
  });

  it('refuses a folder with malformed JSON, a foreign resource type or duplicate urls, naming the file', () => {
    const bad = (files: Record<string, unknown>): string => {
      const dir = mkdtempSync(join(tmpdir(), 'helsebro-term-'));
      for (const [name, body] of Object.entries(files)) {
        writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
      }
      return dir;
    };
    expect(() => loadTerminology(bad({ 'a.json': '{ not json' }))).toThrow(/a\.json: not valid JSON/);
    expect(() => loadTerminology(bad({ 'p.json': { resourceType: 'Patient', id: 'x' } }))).toThrow(TerminologyLoadError);
    const cs = { resourceType: 'CodeSystem', id: 'a', url: 'urn:x', content: 'complete', concept: [{ code: '1' }] };
    expect(() => loadTerminology(bad({ 'a.json': cs, 'b.json': { ...cs, id: 'b' } }))).toThrow(/b\.json: duplicate CodeSystem url/);
    expect(() => loadTerminology(bad({ 'a.json': { ...cs, concept: [{ code: '1' }, { code: '1' }] } }))).toThrow(/duplicate code '1'/);
    expect(() => loadTerminology(bad({ 'a.json': { resourceType: 'ValueSet', id: 'v' } }))).toThrow(/needs both id and url/);
  });

  it('resolves every spelling of a code system: url, urn:oid, bare OID, the Norwegian ATC OID', () => {
    expect(canonicalSystem('0.4.0.127.0.16.1.1.2.1')).toBe(EDQM);
    expect(canonicalSystem('urn:oid:2.16.840.1.113883.6.8')).toBe(UCUM);
    expect(canonicalSystem('urn:oid:2.16.578.1.12.4.1.1.7180')).toBe('http://www.whocc.no/atc');
    expect(canonicalSystem('2.16.578.1.12.4.1.1.7448')).toBe(V(7448));
    expect(systemOid(EDQM)).toBe('0.4.0.127.0.16.1.1.2.1');
    expect(systemOid('http://www.whocc.no/atc')).toBe('2.16.840.1.113883.6.73');
    expect(systemOid(V(7477))).toBe('2.16.578.1.12.4.1.1.7477');
    expect(systemOid('http://example.org/unknown')).toBeUndefined();
  });
});

describe('lookup and display', () => {
  it('finds Norwegian codes with their Norwegian display, version and code system name', () => {
    const r = lookup(V(7448), '53');
    expect(r).toMatchObject({ system: V(7448), code: '53', display: 'Tablett', language: 'nb', version: '2018-10-15' });
    expect(r?.name).toBe('Legemiddelform (Volven 7448)');
    expect(lookup('2.16.578.1.12.4.1.1.7421', 'CF')?.display).toBe('Reseptgruppe CF');
  });

  it('gives the display in a requested language when one exists', () => {
    expect(lookup(V(7448), '53', 'en')).toMatchObject({ display: 'Tablet', language: 'en', code: '53' });
    expect(lookup(V(7448), '435', 'en')).toMatchObject({ display: 'Pulver og væske til injeksjonsvæske', language: 'nb' });
    expect(lookup('http://www.whocc.no/atc', 'N05BA01', 'nb')).toMatchObject({ display: 'diazepam', language: 'nb' });
  });

  it('answers undefined for an unknown system or code, never a guess', () => {
    expect(lookup('http://example.org/none', '53')).toBeUndefined();
    expect(lookup(V(7448), '99999')).toBeUndefined();
    expect(lookup(V(7448), '')).toBeUndefined();
  });

  it('is case-sensitive where the code system is (UCUM mL is not ML)', () => {
    expect(lookup(UCUM, 'mL')?.display).toBe('milliliter');
    expect(lookup(UCUM, 'ML')).toBeUndefined();
  });

  it('gives English text for Norwegian codes only through an equivalent mapping or an English designation', () => {
    expect(display(V(7448), '53', 'en')).toBe('Tablet');
    expect(display(V(7477), '43', 'en')).toBe('Intravenous use');
    expect(display(V(7421), 'A', 'en')).toMatch(/^Prescription group A/);
    // 435 maps only as narrower: no English text is borrowed, display() falls back to the Norwegian term.
    expect(displayIn(V(7448), '435', 'en')).toBeUndefined();
    expect(display(V(7448), '435', 'en')).toBe('Pulver og væske til injeksjonsvæske');
    expect(display(V(7448), '53', 'nb')).toBe('Tablett');
  });

  it('gives ATC in English and Norwegian, also when the Norwegian ATC OID is used', () => {
    expect(display('http://www.whocc.no/atc', 'H02AB09', 'en')).toBe('hydrocortisone');
    expect(display('urn:oid:2.16.578.1.12.4.1.1.7180', 'H02AB09', 'nb')).toBe('hydrokortison');
    expect(display('http://www.whocc.no/atc', 'L04AG03', 'en')).toBe('natalizumab');
  });

  it('has English displays for EDQM and UCUM codes', () => {
    expect(display(EDQM, '20053000', 'en')).toBe('Oral use');
    expect(display('0.4.0.127.0.16.1.1.2.1', '30069000', 'en')).toBe('Vial');
    expect(display(UCUM, '[IU]', 'en')).toBe('international unit');
  });
});

describe('validateCode', () => {
  it('accepts a member of an eHDSI value set and returns its display', () => {
    const r = validateCode(EHDSI_VALUE_SET.doseForm, '0.4.0.127.0.16.1.1.2.1', '10219000');
    expect(r).toMatchObject({ result: true, reason: 'valid', display: 'Tablet', system: EDQM });
  });

  it('refuses a code of the right system that is not in the value set', () => {
    const r = validateCode(EHDSI_VALUE_SET.doseForm, EDQM, '20053000'); // a route, not a dose form
    expect(r.result).toBe(false);
    expect(r.reason).toBe('not-in-value-set');
  });

  it('refuses a code from another system', () => {
    expect(validateCode(EHDSI_VALUE_SET.doseForm, V(7448), '53').result).toBe(false);
  });

  it('flags a wrong display but keeps the code valid, and accepts the display in another case', () => {
    const wrong = validateCode(EHDSI_VALUE_SET.doseForm, EDQM, '10219000', 'Capsule');
    expect(wrong).toMatchObject({ result: true, reason: 'display-mismatch' });
    expect(wrong.message).toContain("'Capsule'");
    expect(validateCode(EHDSI_VALUE_SET.doseForm, EDQM, '10219000', 'tablet').reason).toBe('valid');
  });

  it('evaluates the implicit all-codes value set of a Volven code system', () => {
    const vs = 'https://helsebro.no/fhir/ValueSet/volven-7448';
    expect(validateCode(vs, V(7448), '9').result).toBe(true);
    const unknown = validateCode(vs, V(7448), '9999');
    expect(unknown).toMatchObject({ result: false, reason: 'unknown-code' });
    expect(unknown.message).toContain('2018-10-15');
  });

  it('evaluates a value set built from other value sets (UCUM or EDQM unit of presentation)', () => {
    const vs = 'https://helsebro.no/fhir/ValueSet/eu-quantity-unit';
    expect(validateCode(vs, UCUM, 'mg').result).toBe(true);
    expect(validateCode(vs, EDQM, '15054000').result).toBe(true);
    expect(validateCode(vs, EDQM, '10219000').result).toBe(false);
    expect(validateCode(vs, UCUM, 'MG').result).toBe(false);
  });

  it('says so for an unknown value set instead of answering false silently', () => {
    expect(validateCode('http://example.org/ValueSet/none', EDQM, '10219000')).toMatchObject({
      result: false,
      reason: 'unknown-value-set',
    });
  });
});

describe('translate', () => {
  it('maps a generic Norwegian form to the EDQM term of the same breadth', () => {
    const r = translate(CONCEPT_MAP.doseForm, V(7448), '53');
    expect(r.result).toBe(true);
    expect(r.matches[0]).toMatchObject({ system: EDQM, code: '12200', display: 'Tablet', equivalence: 'equivalent' });
    expect(r.source.display).toBe('Tablett');
    expect(r.conceptMaps[0]).toMatchObject({ status: 'draft', review: { status: 'unreviewed' } });
  });

  it('returns several targets in preference order, with the stated assumption', () => {
    const r = translate(CONCEPT_MAP.doseForm, '2.16.578.1.12.4.1.1.7448', '435');
    expect(r.matches.map((m) => m.code)).toEqual(['11207000', '11208000']);
    expect(r.matches[0]?.equivalence).toBe('narrower');
    expect(r.matches[0]?.comment).toMatch(/Solution assumed/);
  });

  it('reports an explicitly unmatched code with the reason from the map', () => {
    const r = translate(CONCEPT_MAP.doseForm, V(7448), 'K');
    expect(r).toMatchObject({ result: false, reason: 'unmatched', matches: [] });
    expect(r.message).toMatch(/Combination packs/);
  });

  it('reports a code the map does not list', () => {
    const r = translate(CONCEPT_MAP.strengthUnit, V(9090), 'CCID50'); // a vaccine titre unit the strength map does not list
    expect(r).toMatchObject({ result: false, reason: 'not-in-map' });
    expect(r.source.display).toBe('Cell Culture Infective Dose 50%');
  });

  it('says why a radioactivity unit is sent as text: UCUM has it, the eHDSI unit value set does not', () => {
    const r = translate(CONCEPT_MAP.packageUnit, V(7452), 'GBq');
    expect(r).toMatchObject({ result: false, reason: 'unmatched', matches: [] });
    expect(r.message).toMatch(/eHDSI Unit value set/);
  });

  it('reports an unknown map', () => {
    expect(translate('https://helsebro.no/fhir/ConceptMap/none', V(7448), '53')).toMatchObject({ result: false, reason: 'no-map' });
  });

  it('selects maps by source and target and filters by target system', () => {
    const bySource = translate({ source: V(7452), target: 'https://helsebro.no/fhir/ValueSet/eu-quantity-unit' }, V(7452), 'dråpe');
    expect(bySource.matches.map((m) => m.system).sort()).toEqual([EDQM, UCUM]);
    const ucumOnly = translate(CONCEPT_MAP.packageUnit, V(7452), 'dråpe', { targetSystem: UCUM });
    expect(ucumOnly.matches.map((m) => m.code)).toEqual(['[drp]']);
    const noEdqm = translate(CONCEPT_MAP.packageUnit, V(7452), 'ml', { targetSystem: EDQM });
    expect(noEdqm).toMatchObject({ result: false, reason: 'unmatched' });
    expect(noEdqm.message).toContain('no target in http://standardterms.edqm.eu');
  });

  it('maps pharmacy units of the official M10 sample (ML, MLAMP) and package units of the M1 samples', () => {
    expect(translate(CONCEPT_MAP.pharmacyUnit, V(7484), 'ML').matches[0]).toMatchObject({ code: 'mL', equivalence: 'equivalent' });
    expect(translate(CONCEPT_MAP.pharmacyUnit, V(7484), 'MLAMP').matches[0]).toMatchObject({ code: 'mL', equivalence: 'wider' });
    expect(translate(CONCEPT_MAP.packageUnit, V(7452), 'stk').matches[0]).toMatchObject({ code: '1', equivalence: 'wider' });
    expect(translate(CONCEPT_MAP.packageUnit, V(7452), 'ml').matches[0]?.code).toBe('mL');
  });
});

describe('the role and container maps', () => {
  it('gives the ISCO-08 author function of a Norwegian doctor and pharmacist', () => {
    expect(translate(CONCEPT_MAP.professionalRole, V(9060), 'LE').matches[0]).toMatchObject({ code: '221', display: 'Medical doctors' });
    expect(translate(CONCEPT_MAP.professionalRole, V(9060), 'FA1').matches[0]).toMatchObject({ code: '2262', equivalence: 'equivalent' });
    expect(translate(CONCEPT_MAP.professionalRole, V(9060), 'FA2').matches[0]).toMatchObject({ code: '2262', equivalence: 'wider' });
    expect(translate(CONCEPT_MAP.professionalRole, V(9060), 'PS').result).toBe(false);
    expect(validateCode(EHDSI_VALUE_SET.professionalRole, '2.16.840.1.113883.2.9.6.2.7', '221').result).toBe(true);
  });

  it('gives the unit of presentation of a counted container or dose form', () => {
    expect(translate(CONCEPT_MAP.containerUnitOfPresentation, V(7449), '37').matches[0]).toMatchObject({ code: '15060000', display: 'Vial' });
    expect(translate(CONCEPT_MAP.unitOfPresentation, V(7448), '25').matches[0]).toMatchObject({ code: '15054000', display: 'Tablet' });
  });
});

describe('toEuConcept', () => {
  it('puts the EU coding first and keeps the Norwegian coding and original text', () => {
    const r = toEuConcept(CONCEPT_MAP.route, { system: V(7477), code: '53', originalText: 'Oral bruk' });
    expect(r.concept.coding).toEqual([
      { system: EDQM, code: '20053000', display: 'Oral use' },
      { system: V(7477), code: '53', display: 'Oral bruk' },
    ]);
    expect(r.concept.text).toBe('Oral bruk');
    expect(r.warning).toBeUndefined();
  });

  it('never drops an unmapped code: Norwegian coding and text stay, with a warning', () => {
    const r = toEuConcept(
      CONCEPT_MAP.doseForm,
      { system: V(7448), code: '56', display: 'Tyggegummi', originalText: 'Nicotinell Tyggegummi 2 mg' },
      { expression: 'Medication.form' },
    );
    expect(r.eu).toBeUndefined();
    expect(r.concept).toEqual({ coding: [{ system: V(7448), code: '56', display: 'Tyggegummi' }], text: 'Nicotinell Tyggegummi 2 mg' });
    expect(r.warning).toMatchObject({ severity: 'warning', expression: ['Medication.form'] });
    expect(r.warning?.details?.coding?.[0]?.code).toBe('unmapped-code');
  });

  it('keeps a code unknown to every code system with a warning', () => {
    const r = toEuConcept(CONCEPT_MAP.doseForm, { system: V(7448), code: '<script>alert(1)</script>' });
    expect(r.concept.coding).toEqual([{ system: V(7448), code: '<script>alert(1)</script>' }]);
    expect(r.warning?.severity).toBe('warning');
  });

  it('notes a narrower mapping as information', () => {
    const r = toEuConcept(CONCEPT_MAP.doseForm, { system: V(7448), code: '460' });
    expect(r.eu?.code).toBe('11213000');
    expect(r.warning).toMatchObject({ severity: 'information' });
    expect(r.warning?.details?.coding?.[0]?.code).toBe('mapped-narrower');
  });
});

describe('the files themselves', () => {
  it('keeps the Volven lists as copied from the kodeverk extract', () => {
    const cs = JSON.parse(readFileSync(join(TERMINOLOGY_DIR, 'CodeSystem-volven-7448.json'), 'utf8')) as {
      count: number;
      concept: unknown[];
    };
    expect(cs.count).toBe(279);
    expect(cs.concept).toHaveLength(279);
  });
});
