// The three terminology operations as pure functions from request parameters (a GET query or a POSTed
// Parameters resource) to a FHIR Parameters response, or a problem {status, issues} the http layer turns
// into an OperationOutcome. The result shape matches Result<Parameters> of src/fhir/outcomes.ts.
import type {
  CodeableConcept,
  Coding,
  OperationOutcomeIssue,
  Parameters,
  ParametersParameter,
} from '@medplum/fhirtypes';
import { displayIn, lookup, type DisplayLanguage } from './lookup.ts';
import { canonicalSystem, getTerminology, type Terminology } from './load.ts';
import { selectConceptMaps, translate, type MapSelector, type TranslateResult } from './translate.ts';
import { hasValueSet, validateCode, type ValidateCodeResult } from './valueset.ts';

export type OperationInput = Parameters | URLSearchParams | Record<string, string | string[] | undefined>;

export type OperationResult =
  | { ok: true; value: Parameters; warnings: OperationOutcomeIssue[] }
  | { ok: false; problem: { status: number; issues: OperationOutcomeIssue[] } };

type Value = string | boolean | Coding | CodeableConcept;

class InputError extends Error {
  readonly status: number;
  readonly code: OperationOutcomeIssue['code'];
  readonly expression: string | undefined;
  constructor(status: number, code: OperationOutcomeIssue['code'], message: string, expression?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.expression = expression;
  }
}

const fail = (err: InputError): OperationResult => ({
  ok: false,
  problem: {
    status: err.status,
    issues: [
      {
        severity: 'error',
        code: err.code,
        diagnostics: err.message,
        ...(err.expression === undefined ? {} : { expression: [err.expression] }),
      },
    ],
  },
});

const success = (parameter: ParametersParameter[]): OperationResult => ({
  ok: true,
  value: { resourceType: 'Parameters', parameter },
  warnings: [],
});

const MAX_VALUE_LENGTH = 4096;

/**
 * What an operation takes: the parameters read, and the others its R4 OperationDefinition defines (refused
 * as not supported rather than ignored: an answer that skipped `version` or `date` would look like one that
 * honoured it).
 */
interface Takes {
  code: string;
  read: readonly string[];
  defined: readonly string[];
}

const LOOKUP: Takes = { code: 'lookup', read: ['system', 'code', 'coding', 'displayLanguage'], defined: ['version', 'date', 'property'] };
const VALIDATE_CODE: Takes = {
  code: 'validate-code',
  read: ['url', 'system', 'code', 'coding', 'codeableConcept', 'display'],
  defined: ['context', 'valueSet', 'valueSetVersion', 'systemVersion', 'date', 'abstract', 'displayLanguage'],
};
const TRANSLATE: Takes = {
  code: 'translate',
  read: ['url', 'conceptMap', 'source', 'target', 'targetsystem', 'system', 'code', 'coding', 'codeableConcept', 'reverse'],
  defined: ['conceptMapVersion', 'version', 'dependency'],
};

/** Query parameters the routing layer handles for every call (_format, _pretty), as for Helsebro's own operations. */
const GENERAL = new Set(['_format', '_pretty']);

function checkTaken(takes: Takes, name: string, expression: string = name): void {
  if (takes.read.includes(name)) return;
  const shown = name.length > 64 ? `${name.slice(0, 64)}...` : name;
  const list = `(it takes ${takes.read.join(', ')})`;
  if (takes.defined.includes(name)) throw new InputError(400, 'not-supported', `$${takes.code} parameter '${shown}' is not supported here ${list}`, expression);
  throw new InputError(400, 'invalid', `$${takes.code} has no parameter '${shown}' ${list}`, expression === name ? shown : expression);
}

/** Parameters by name, from either input form. Rejects unknown, oversized and nameless parameters; `single` refuses names given twice. */
function readInput(input: OperationInput, takes: Takes): Map<string, Value[]> {
  const out = new Map<string, Value[]>();
  const add = (name: string, value: Value): void => {
    checkTaken(takes, name);
    if (typeof value === 'string' && value.length > MAX_VALUE_LENGTH) {
      throw new InputError(400, 'too-long', `Parameter '${name}' is longer than ${MAX_VALUE_LENGTH} characters`, name);
    }
    out.set(name, [...(out.get(name) ?? []), value]);
  };
  if (input instanceof URLSearchParams) {
    for (const [name, value] of input) if (!GENERAL.has(name)) add(name, value);
  } else if ((input as Parameters).resourceType === 'Parameters') {
    for (const [i, p] of ((input as Parameters).parameter ?? []).entries()) {
      if (typeof p?.name !== 'string' || !p.name) throw new InputError(400, 'invalid', `Parameters.parameter[${i}] needs a name`, `Parameters.parameter[${i}]`);
      checkTaken(takes, p.name, `Parameters.parameter[${i}]`);
      const value =
        p.valueCode ?? p.valueUri ?? p.valueString ?? p.valueCanonical ?? p.valueUrl ?? p.valueDateTime ??
        p.valueDate ?? p.valueBoolean ?? p.valueCoding ?? p.valueCodeableConcept;
      if (value === undefined) throw new InputError(400, 'invalid', `Parameter '${p.name}' has no supported value[x]`, p.name);
      add(p.name, value);
    }
  } else {
    for (const [name, raw] of Object.entries(input)) {
      if (raw === undefined || GENERAL.has(name)) continue;
      for (const v of Array.isArray(raw) ? raw : [raw]) add(name, v);
    }
  }
  return out;
}

function single(params: Map<string, Value[]>, name: string): Value | undefined {
  const values = params.get(name);
  if (!values?.length) return undefined;
  if (values.length > 1) throw new InputError(400, 'invalid', `Parameter '${name}' may appear only once`, name);
  return values[0];
}

function str(params: Map<string, Value[]>, name: string): string | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InputError(400, 'invalid', `Parameter '${name}' must be a primitive value`, name);
  return v;
}

function bool(params: Map<string, Value[]>, name: string): boolean | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new InputError(400, 'invalid', `Parameter '${name}' must be true or false`, name);
}

function coding(params: Map<string, Value[]>, name: string): Coding | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || 'coding' in v || 'text' in v) {
    throw new InputError(400, 'invalid', `Parameter '${name}' must be a Coding (POST a Parameters resource)`, name);
  }
  return v as Coding;
}

function codeableConcept(params: Map<string, Value[]>, name: string): CodeableConcept | undefined {
  const v = single(params, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || !('coding' in v || 'text' in v)) {
    throw new InputError(400, 'invalid', `Parameter '${name}' must be a CodeableConcept (POST a Parameters resource)`, name);
  }
  return v as CodeableConcept;
}

/** The codings to act on: `code`+`system`, or `coding`, or every coding of `codeableConcept`. */
function codingsOf(params: Map<string, Value[]>): Coding[] {
  const code = str(params, 'code');
  const system = str(params, 'system');
  const c = coding(params, 'coding');
  const cc = codeableConcept(params, 'codeableConcept');
  const given = [code !== undefined, c !== undefined, cc !== undefined].filter(Boolean).length;
  if (given === 0) throw new InputError(400, 'required', 'One of code (with system), coding or codeableConcept is required', 'code');
  if (given > 1) throw new InputError(400, 'invalid', 'Give only one of code, coding or codeableConcept');
  if (code !== undefined) {
    if (system === undefined) throw new InputError(400, 'required', "Parameter 'system' is required with 'code'", 'system');
    return [{ system, code }];
  }
  const list = c ? [c] : (cc?.coding ?? []);
  const usable = list.filter((x) => x.system && x.code);
  if (!usable.length) throw new InputError(400, 'required', 'The coding needs both system and code', c ? 'coding' : 'codeableConcept');
  return usable;
}

function language(params: Map<string, Value[]>): DisplayLanguage | undefined {
  const lang = str(params, 'displayLanguage');
  if (lang === undefined) return undefined;
  const l = lang.toLowerCase();
  if (l === 'en' || l.startsWith('en-')) return 'en';
  if (l === 'nb' || l === 'no' || l.startsWith('nb-') || l.startsWith('no-')) return 'nb';
  throw new InputError(400, 'not-supported', `displayLanguage '${lang}' is not supported (en, nb)`, 'displayLanguage');
}

function run(fn: () => OperationResult): OperationResult {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) return fail(err);
    throw err;
  }
}

/** CodeSystem/$lookup. */
export function lookupOperation(input: OperationInput, t: Terminology = getTerminology()): OperationResult {
  return run(() => {
    const params = readInput(input, LOOKUP);
    const [c] = codingsOf(params);
    const lang = language(params);
    if (!c?.system || !c.code) throw new InputError(400, 'required', 'system and code are required');
    const found = lookup(c.system, c.code, undefined, t);
    if (!found) {
      const known = t.codeSystems.has(canonicalSystem(c.system, t));
      throw new InputError(
        404,
        'not-found',
        known ? `Code '${c.code}' was not found in ${canonicalSystem(c.system, t)}` : `Code system ${c.system} is not known`,
        known ? 'code' : 'system',
      );
    }
    const out: ParametersParameter[] = [{ name: 'name', valueString: found.name }];
    if (found.version) out.push({ name: 'version', valueString: found.version });
    const shown = lang ? (displayIn(found.system, found.code, lang, t)?.value ?? found.display) : found.display;
    if (shown !== undefined) out.push({ name: 'display', valueString: shown });
    if (found.definition) out.push({ name: 'definition', valueString: found.definition });
    for (const d of found.designations) {
      if (!d.value) continue;
      const part: ParametersParameter[] = [];
      if (d.language) part.push({ name: 'language', valueCode: d.language });
      if (d.use) part.push({ name: 'use', valueCoding: d.use });
      part.push({ name: 'value', valueString: d.value });
      out.push({ name: 'designation', part });
    }
    if (found.parent) {
      out.push({ name: 'property', part: [{ name: 'code', valueCode: 'parent' }, { name: 'value', valueCode: found.parent }] });
    }
    for (const p of found.properties) {
      const { code, ...rest } = p;
      const valueKey = Object.keys(rest).find((k) => k.startsWith('value')) as keyof typeof rest | undefined;
      if (!code || !valueKey) continue;
      out.push({ name: 'property', part: [{ name: 'code', valueCode: code }, { name: 'value', [valueKey]: rest[valueKey] }] });
    }
    return success(out);
  });
}

/** ValueSet/$validate-code (type level with `url`, or instance level with the value set's id). */
export function validateCodeOperation(
  input: OperationInput,
  ctx: { valueSetId?: string } = {},
  t: Terminology = getTerminology(),
): OperationResult {
  return run(() => {
    const params = readInput(input, VALIDATE_CODE);
    let url = str(params, 'url');
    if (ctx.valueSetId !== undefined) {
      const vs = t.byId.ValueSet.get(ctx.valueSetId);
      if (!vs?.url) throw new InputError(404, 'not-found', `ValueSet/${ctx.valueSetId} is not known`);
      url = vs.url;
    }
    if (url === undefined) throw new InputError(400, 'required', "Parameter 'url' (the value set) is required", 'url');
    if (!hasValueSet(url, t)) throw new InputError(404, 'not-found', `Value set ${url} is not known`, 'url');
    const codings = codingsOf(params);
    const displayParam = str(params, 'display');
    let chosen: ValidateCodeResult | undefined;
    for (const c of codings) {
      const r = validateCode(url, c.system ?? '', c.code ?? '', displayParam ?? c.display, t);
      if (r.reason === 'unsupported-value-set') throw new InputError(422, 'not-supported', r.message ?? 'Unsupported value set', 'url');
      if (!chosen || (r.result && !chosen.result)) chosen = r;
    }
    if (!chosen) throw new InputError(400, 'required', 'No coding to validate');
    const out: ParametersParameter[] = [{ name: 'result', valueBoolean: chosen.result }];
    if (chosen.message) out.push({ name: 'message', valueString: chosen.message });
    if (chosen.display) out.push({ name: 'display', valueString: chosen.display });
    return success(out);
  });
}

/** ConceptMap/$translate (type level with `url` or `source`/`target`/`targetsystem`, or instance level). */
export function translateOperation(
  input: OperationInput,
  ctx: { conceptMapId?: string } = {},
  t: Terminology = getTerminology(),
): OperationResult {
  return run(() => {
    const params = readInput(input, TRANSLATE);
    if (bool(params, 'reverse') === true) throw new InputError(400, 'not-supported', 'Reverse translation is not supported', 'reverse');
    const targetSystem = str(params, 'targetsystem');
    let selector: MapSelector;
    if (ctx.conceptMapId !== undefined) {
      const map = t.byId.ConceptMap.get(ctx.conceptMapId);
      if (!map?.url) throw new InputError(404, 'not-found', `ConceptMap/${ctx.conceptMapId} is not known`);
      selector = map.url;
    } else {
      const url = str(params, 'url') ?? str(params, 'conceptMap');
      if (url !== undefined) {
        if (!t.conceptMaps.has(url)) throw new InputError(404, 'not-found', `ConceptMap ${url} is not known`, 'url');
        selector = url;
      } else {
        const source = str(params, 'source');
        const target = str(params, 'target');
        if (source === undefined && target === undefined && targetSystem === undefined) {
          throw new InputError(400, 'required', 'Name the map: url, or source and/or target (or targetsystem)', 'url');
        }
        selector = {};
        if (source !== undefined) selector.source = source;
        if (target !== undefined) selector.target = target;
        if (target === undefined && targetSystem !== undefined) selector.target = targetSystem;
        if (!selectConceptMaps(selector, t).length) {
          return success([
            { name: 'result', valueBoolean: false },
            { name: 'message', valueString: 'No ConceptMap matches the given source and target' },
          ]);
        }
      }
    }
    const codings = codingsOf(params);
    const results: TranslateResult[] = codings.map((c) =>
      translate(selector, c.system ?? '', c.code ?? '', targetSystem === undefined ? {} : { targetSystem }, t),
    );
    const matched = results.filter((r) => r.result);
    const out: ParametersParameter[] = [{ name: 'result', valueBoolean: matched.length > 0 }];
    const messages = results.map((r) => r.message).filter((m): m is string => !!m);
    if (!matched.length && messages.length) out.push({ name: 'message', valueString: messages.join('; ') });
    for (const r of matched) {
      for (const m of r.matches) {
        const concept: Coding = { system: m.system, code: m.code };
        if (m.display) concept.display = m.display;
        const part: ParametersParameter[] = [
          { name: 'equivalence', valueCode: m.equivalence },
          { name: 'concept', valueCoding: concept },
          { name: 'source', valueUri: m.source },
        ];
        if (m.comment) part.push({ name: 'comment', valueString: m.comment });
        out.push({ name: 'match', part });
      }
    }
    return success(out);
  });
}
