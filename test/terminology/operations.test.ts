import { describe, expect, it } from 'vitest';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import {
  CONCEPT_MAP,
  EHDSI_VALUE_SET,
  lookupOperation,
  translateOperation,
  validateCodeOperation,
  type OperationResult,
} from '../../src/terminology/index.ts';

const V7448 = 'urn:oid:2.16.578.1.12.4.1.1.7448';

function ok(r: OperationResult): ParametersParameter[] {
  if (!r.ok) throw new Error(`expected success, got ${r.problem.status}: ${r.problem.issues[0]?.diagnostics}`);
  expect(r.value.resourceType).toBe('Parameters');
  return r.value.parameter ?? [];
}
const param = (ps: ParametersParameter[], name: string): ParametersParameter | undefined => ps.find((p) => p.name === name);
const problem = (r: OperationResult): { status: number; diagnostics: string; code: string } => {
  if (r.ok) throw new Error('expected a problem');
  const i = r.problem.issues[0];
  return { status: r.problem.status, diagnostics: i?.diagnostics ?? '', code: i?.code ?? '' };
};

describe('CodeSystem/$lookup', () => {
  it('answers a GET query with name, version and display', () => {
    const ps = ok(lookupOperation(new URLSearchParams({ system: V7448, code: '9' })));
    expect(param(ps, 'name')?.valueString).toBe('Legemiddelform (Volven 7448)');
    expect(param(ps, 'version')?.valueString).toBe('2018-10-15');
    expect(param(ps, 'display')?.valueString).toBe('Mikstur');
  });

  it('answers a POSTed Parameters with a coding, in the requested display language', () => {
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'coding', valueCoding: { system: V7448, code: '9' } },
        { name: 'displayLanguage', valueCode: 'en' },
      ],
    };
    expect(param(ok(lookupOperation(body)), 'display')?.valueString).toBe('Oral liquid');
  });

  it('returns designations as parts', () => {
    const ps = ok(lookupOperation({ system: 'http://www.whocc.no/atc', code: 'N02BE01' }));
    const designation = ps.find((p) => p.name === 'designation');
    expect(designation?.part).toEqual([
      { name: 'language', valueCode: 'nb' },
      { name: 'value', valueString: 'paracetamol' },
    ]);
  });

  it('refuses missing, repeated and oversized parameters with 400', () => {
    expect(problem(lookupOperation({ code: '9' }))).toMatchObject({ status: 400, code: 'required' });
    expect(problem(lookupOperation({}))).toMatchObject({ status: 400 });
    expect(problem(lookupOperation(new URLSearchParams(`system=${V7448}&code=9&code=53`)))).toMatchObject({ status: 400 });
    expect(problem(lookupOperation({ system: V7448, code: 'x'.repeat(5000) }))).toMatchObject({ status: 400, code: 'too-long' });
    expect(problem(lookupOperation({ system: V7448, code: '9', displayLanguage: 'fr' }))).toMatchObject({ status: 400 });
  });

  it('answers 404 for an unknown code system or code', () => {
    expect(problem(lookupOperation({ system: 'http://example.org/x', code: '9' }))).toMatchObject({ status: 404, code: 'not-found' });
    const p = problem(lookupOperation({ system: V7448, code: '<img src=x onerror=alert(1)>' }));
    expect(p.status).toBe(404);
    expect(p.diagnostics).toContain('was not found');
  });

  it('refuses parameters it does not take, from a query and from a Parameters body, and skips _format and _pretty', () => {
    const expressionOf = (r: OperationResult) => (r.ok ? undefined : r.problem.issues[0]?.expression);
    expect(expressionOf(lookupOperation(new URLSearchParams(`system=${V7448}&code=9&bogus=1`)))).toEqual(['bogus']);
    expect(problem(lookupOperation({ system: V7448, code: '9', date: '2020-01-01' }))).toMatchObject({ status: 400, code: 'not-supported' });
    const body: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'system', valueUri: V7448 }, { name: 'code', valueCode: '9' }, { name: 'property', valueCode: 'parent' }] };
    expect(expressionOf(lookupOperation(body))).toEqual(['Parameters.parameter[2]']);
    expect(expressionOf(lookupOperation({ resourceType: 'Parameters', parameter: [{ valueCode: '9' }] } as unknown as Parameters))).toEqual(['Parameters.parameter[0]']);
    expect(param(ok(lookupOperation(new URLSearchParams(`system=${V7448}&code=9&_format=json&_pretty=true`))), 'display')?.valueString).toBe('Mikstur');
    expect(problem(validateCodeOperation({ url: EHDSI_VALUE_SET.doseForm, system: V7448, code: '53', abstract: 'true' }))).toMatchObject({ status: 400 });
    expect(problem(translateOperation({ url: CONCEPT_MAP.doseForm, system: V7448, code: '53', bogus: 'x' }))).toMatchObject({ status: 400 });
  });

  it('refuses a coding given as a plain string in a GET', () => {
    expect(problem(lookupOperation({ coding: `${V7448}|9` }))).toMatchObject({ status: 400 });
  });
});

describe('ValueSet/$validate-code', () => {
  it('validates at type level with url', () => {
    const ps = ok(validateCodeOperation({ url: EHDSI_VALUE_SET.route, system: 'http://standardterms.edqm.eu', code: '20053000' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(true);
    expect(param(ps, 'display')?.valueString).toBe('Oral use');
  });

  it('validates at instance level by value set id', () => {
    const ps = ok(validateCodeOperation({ system: 'http://unitsofmeasure.org', code: 'mL' }, { valueSetId: 'ehdsi-unit' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(true);
    expect(problem(validateCodeOperation({ system: 'a', code: 'b' }, { valueSetId: 'nope' }))).toMatchObject({ status: 404 });
  });

  it('answers result=false with a message for a code outside the value set (200, not an error)', () => {
    const ps = ok(validateCodeOperation({ url: EHDSI_VALUE_SET.doseForm, system: V7448, code: '53' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(false);
    expect(param(ps, 'message')?.valueString).toMatch(/not in value set/);
  });

  it('accepts a CodeableConcept when any coding is in the value set', () => {
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: EHDSI_VALUE_SET.doseForm },
        {
          name: 'codeableConcept',
          valueCodeableConcept: {
            coding: [
              { system: V7448, code: '53' },
              { system: 'http://standardterms.edqm.eu', code: '12200' },
            ],
          },
        },
      ],
    };
    expect(param(ok(validateCodeOperation(body)), 'result')?.valueBoolean).toBe(true);
  });

  it('reports a display mismatch as a message on a valid code', () => {
    const ps = ok(validateCodeOperation({ url: EHDSI_VALUE_SET.doseForm, system: 'http://standardterms.edqm.eu', code: '12200', display: 'Kapsel' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(true);
    expect(param(ps, 'message')?.valueString).toContain('Kapsel');
  });

  it('answers 404 for an unknown value set and 400 without url', () => {
    expect(problem(validateCodeOperation({ url: 'http://example.org/vs', system: 'a', code: 'b' }))).toMatchObject({ status: 404 });
    expect(problem(validateCodeOperation({ system: 'a', code: 'b' }))).toMatchObject({ status: 400 });
  });
});

describe('ConceptMap/$translate', () => {
  it('translates with a map url and returns every match with equivalence and source', () => {
    const ps = ok(translateOperation({ url: CONCEPT_MAP.doseForm, system: V7448, code: '435' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(true);
    const matches = ps.filter((p) => p.name === 'match');
    expect(matches).toHaveLength(2);
    expect(matches[0]?.part).toEqual(
      expect.arrayContaining([
        { name: 'equivalence', valueCode: 'narrower' },
        { name: 'concept', valueCoding: { system: 'http://standardterms.edqm.eu', code: '11207000', display: 'Powder and solvent for solution for injection' } },
        { name: 'source', valueUri: CONCEPT_MAP.doseForm },
      ]),
    );
  });

  it('translates at instance level and by source/target value sets', () => {
    const byId = ok(translateOperation({ system: 'urn:oid:2.16.578.1.12.4.1.1.7477', code: '62' }, { conceptMapId: 'volven-7477-to-edqm-route' }));
    expect(byId.find((p) => p.name === 'match')?.part?.find((x) => x.name === 'concept')?.valueCoding?.code).toBe('20066000');
    const byPair = ok(
      translateOperation({
        source: 'https://helsebro.no/fhir/ValueSet/volven-7477',
        target: EHDSI_VALUE_SET.route,
        system: 'urn:oid:2.16.578.1.12.4.1.1.7477',
        code: '62',
      }),
    );
    expect(param(byPair, 'result')?.valueBoolean).toBe(true);
  });

  it('filters by targetsystem', () => {
    const ps = ok(translateOperation({ url: CONCEPT_MAP.doseUnit, system: 'urn:oid:2.16.578.1.12.4.1.1.7480', code: '3', targetsystem: 'http://unitsofmeasure.org' }));
    const codes = ps.filter((p) => p.name === 'match').map((m) => m.part?.find((x) => x.name === 'concept')?.valueCoding?.code);
    expect(codes).toEqual(['[drp]']);
  });

  it('answers result=false with the reason for an unmatched code', () => {
    const ps = ok(translateOperation({ url: CONCEPT_MAP.doseForm, system: V7448, code: 'K' }));
    expect(param(ps, 'result')?.valueBoolean).toBe(false);
    expect(param(ps, 'message')?.valueString).toMatch(/Combination packs/);
    expect(ps.some((p) => p.name === 'match')).toBe(false);
  });

  it('answers result=false when no map matches a source/target pair, 404 for an unknown url, 400 for reverse', () => {
    expect(param(ok(translateOperation({ source: 'http://example.org/a', target: 'http://example.org/b', system: 'x', code: 'y' })), 'result')?.valueBoolean).toBe(false);
    expect(problem(translateOperation({ url: 'http://example.org/cm', system: 'x', code: 'y' }))).toMatchObject({ status: 404 });
    expect(problem(translateOperation({ url: CONCEPT_MAP.doseForm, system: V7448, code: '53', reverse: 'true' }))).toMatchObject({ status: 400 });
    expect(problem(translateOperation({ system: V7448, code: '53' }))).toMatchObject({ status: 400 });
  });

  it('refuses a Parameters value of an unsupported type', () => {
    const body = { resourceType: 'Parameters', parameter: [{ name: 'code', valueInteger: 3 }] } as Parameters;
    expect(problem(translateOperation(body))).toMatchObject({ status: 400 });
  });
});
