// The one reader of a custom operation's parameters: from the query string, a form body or a Parameters
// body, each checked against the operation's definition (known names, types, cardinality). A problem
// names the parameter, and for a Parameters body, where in it.
import type { Identifier, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { parseToken } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, type Problem } from '../../fhir/outcomes.ts';
import type { FhirRequest } from '../types.ts';
import type { HelsebroOperationDefinition, ParamType } from './definition.ts';

export type ParamValue = string | number | boolean | Identifier;

export interface OperationArgs {
  /** Every value of a parameter, in order (query first, then body). */
  all(name: string): ParamValue[];
  string(name: string): string | undefined;
  boolean(name: string): boolean | undefined;
  integer(name: string): number | undefined;
  identifier(name: string): Identifier | undefined;
}

/** Query parameters the routing layer handles for every call. */
export const GENERAL_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['_format', '_pretty']);
const PARAMETERS_KEYS = new Set(['resourceType', 'id', 'meta', 'implicitRules', 'language', 'parameter']);
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

const VALUE_KEY: Record<ParamType, string> = {
  string: 'valueString',
  code: 'valueCode',
  id: 'valueId',
  boolean: 'valueBoolean',
  integer: 'valueInteger',
  Identifier: 'valueIdentifier',
};

export function readOperationArgs(def: HelsebroOperationDefinition, req: Pick<FhirRequest, 'query' | 'body'>): OperationArgs | Problem {
  const inputs = new Map((def.parameter ?? []).filter((p) => p.use === 'in').map((p) => [p.name, p]));
  const values = new Map<string, ParamValue[]>();
  const add = (name: string, v: ParamValue) => values.set(name, [...(values.get(name) ?? []), v]);

  const fromText = (source: URLSearchParams, where: string): Problem | undefined => {
    for (const [name, raw] of source) {
      if (GENERAL_QUERY_PARAMETERS.has(name) && where === 'query') continue;
      const p = inputs.get(name);
      if (!p) return unknownParameter(def, name, [name]);
      const v = fromString(p.type as ParamType, raw, name);
      if (isProblem(v)) return v;
      add(name, v);
    }
    return undefined;
  };

  const queryProblem = fromText(req.query, 'query');
  if (queryProblem) return queryProblem;
  if (req.body instanceof URLSearchParams) {
    const formProblem = fromText(req.body, 'form');
    if (formProblem) return formProblem;
  } else if (req.body !== undefined) {
    const params = parametersBody(req.body);
    if (isProblem(params)) return params;
    for (const [i, pp] of (params.parameter ?? []).entries()) {
      const where = `Parameters.parameter[${i}]`;
      if (typeof pp?.name !== 'string') return badRequest(`${where} needs a name`, { expression: [where] });
      const p = inputs.get(pp.name);
      if (!p) return unknownParameter(def, pp.name, [where]);
      const v = fromParameter(p.type as ParamType, pp, where);
      if (isProblem(v)) return v;
      add(pp.name, v);
    }
  }

  for (const [name, p] of inputs) {
    const n = values.get(name)?.length ?? 0;
    if (n < (p.min ?? 0)) return badRequest(`$${def.code} needs the parameter '${name}'`, { expression: [name] });
    if (p.max === '1' && n > 1) return badRequest(`$${def.code} takes '${name}' once`, { expression: [name] });
  }
  const all = (name: string) => values.get(name) ?? [];
  return {
    all,
    string: (name) => all(name).find((v): v is string => typeof v === 'string'),
    boolean: (name) => all(name).find((v): v is boolean => typeof v === 'boolean'),
    integer: (name) => all(name).find((v): v is number => typeof v === 'number'),
    identifier: (name) => all(name).find((v): v is Identifier => typeof v === 'object'),
  };
}

function unknownParameter(def: HelsebroOperationDefinition, name: string, expression: string[]): Problem {
  const known = (def.parameter ?? []).filter((p) => p.use === 'in').map((p) => p.name);
  const shown = name.length > 64 ? `${name.slice(0, 64)}...` : name;
  return badRequest(`$${def.code} has no parameter '${shown}'${known.length ? ` (it takes ${known.join(', ')})` : ' (it takes none)'}`, { expression });
}

function fromString(type: ParamType, raw: string, name: string): ParamValue | Problem {
  const bad = (what: string) => badRequest(`Parameter '${name}' must be ${what}`, { expression: [name] });
  switch (type) {
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : bad('true or false');
    case 'integer':
      return /^-?\d{1,9}$/.test(raw) ? Number(raw) : bad('an integer');
    case 'id':
      return FHIR_ID.test(raw) ? raw : bad('a FHIR id');
    case 'code':
      return raw.trim() === raw && raw !== '' && !/\s\s/.test(raw) ? raw : bad('a code');
    case 'Identifier': {
      const t = parseToken(raw, name);
      if (isProblem(t)) return t;
      return t.value ? { ...(t.system ? { system: t.system } : {}), value: t.value } : bad('system|value');
    }
    default:
      return raw === '' ? bad('a non-empty string') : raw;
  }
}

function fromParameter(type: ParamType, pp: ParametersParameter, where: string): ParamValue | Problem {
  const key = VALUE_KEY[type];
  const value = (pp as unknown as Record<string, unknown>)[key];
  const wrong = badRequest(`${where} (${pp.name}) needs ${key}${type === 'Identifier' ? ' with a value (or valueString system|value)' : ''}`, { expression: [where] });
  if (type === 'Identifier') {
    // valueString as system|value, as in a query or form: clients (and the type-level $summary before this
    // reader) send the fødselsnummer that way too.
    if (value === undefined && typeof pp.valueString === 'string') return fromString(type, pp.valueString, pp.name);
    const ident = value as Identifier;
    const valid = typeof ident === 'object' && ident !== null && typeof ident.value === 'string' && ident.value !== '';
    return valid && (ident.system === undefined || typeof ident.system === 'string') ? ident : wrong;
  }
  if (value === undefined) return wrong;
  if (type === 'boolean') return typeof value === 'boolean' ? value : wrong;
  if (type === 'integer') return Number.isSafeInteger(value) ? (value as number) : wrong;
  if (typeof value !== 'string') return wrong;
  return fromString(type, value, pp.name);
}

/** A JSON body must be a Parameters resource with nothing but Parameters' elements. */
export function parametersBody(body: unknown): Parameters | Problem {
  const params = body as Parameters;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || params.resourceType !== 'Parameters') {
    return badRequest('The body must be a Parameters resource', { expression: ['Parameters'] });
  }
  const unknown = Object.keys(body).filter((k) => !PARAMETERS_KEYS.has(k));
  if (unknown.length) return badRequest(`Parameters has no element ${unknown.slice(0, 3).join(', ')}`, { expression: ['Parameters'] });
  if (params.parameter !== undefined && !Array.isArray(params.parameter)) return badRequest('Parameters.parameter must be an array', { expression: ['Parameters.parameter'] });
  return params;
}
