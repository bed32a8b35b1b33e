// Value set membership ($validate-code). Supports what Helsebro's own value sets use: enumerated
// concepts, whole code systems, other value sets, exclusions, and the implicit "all codes" value set
// that a CodeSystem names in CodeSystem.valueSet. Filters are refused rather than guessed.
import type { ValueSetComposeInclude } from '@medplum/fhirtypes';
import { canonicalSystem, findCodeSystem, findConcept, getTerminology, type Terminology } from './load.ts';

export type ValidateCodeReason =
  | 'valid'
  | 'unknown-value-set'
  | 'unsupported-value-set'
  | 'not-in-value-set'
  | 'unknown-code'
  | 'display-mismatch';

export interface ValidateCodeResult {
  result: boolean;
  reason: ValidateCodeReason;
  /** Canonical system the code was checked in. */
  system: string;
  code: string;
  /** The recommended display for the code (its code system display). */
  display?: string;
  message?: string;
}

/** Membership of a value set: per canonical system, either every code of the system or a set of codes. */
interface Expansion {
  systems: Map<string, 'all' | Set<string>>;
  excluded: Map<string, Set<string>>;
}

const expansionCache = new WeakMap<Terminology, Map<string, Expansion | Error>>();

class UnsupportedValueSet extends Error {}

function expansionOf(url: string, t: Terminology, visiting: Set<string> = new Set()): Expansion | undefined {
  let cache = expansionCache.get(t);
  if (!cache) {
    cache = new Map();
    expansionCache.set(t, cache);
  }
  const hit = cache.get(url);
  if (hit instanceof Error) throw hit;
  if (hit) return hit;

  const implicitSystem = t.implicitValueSets.get(url);
  let expansion: Expansion;
  if (implicitSystem) {
    expansion = { systems: new Map([[implicitSystem, 'all']]), excluded: new Map() };
  } else {
    const vs = t.valueSets.get(url);
    if (!vs) return undefined;
    if (visiting.has(url)) throw new UnsupportedValueSet(`Value set ${url} includes itself`);
    visiting.add(url);
    try {
      expansion = { systems: new Map(), excluded: new Map() };
      for (const include of vs.compose?.include ?? []) addInclude(expansion, include, t, visiting, 'include');
      for (const exclude of vs.compose?.exclude ?? []) addInclude(expansion, exclude, t, visiting, 'exclude');
    } catch (err) {
      if (err instanceof UnsupportedValueSet) cache.set(url, err);
      throw err;
    } finally {
      visiting.delete(url);
    }
  }
  cache.set(url, expansion);
  return expansion;
}

function addInclude(
  into: Expansion,
  include: ValueSetComposeInclude,
  t: Terminology,
  visiting: Set<string>,
  mode: 'include' | 'exclude',
): void {
  if (include.filter?.length) throw new UnsupportedValueSet('Value set filters are not supported');
  if (include.valueSet?.length) {
    if (mode === 'exclude') throw new UnsupportedValueSet('Excluding a whole value set is not supported');
    if (include.system) throw new UnsupportedValueSet('include with both system and valueSet is not supported');
    for (const ref of include.valueSet) {
      const inner = expansionOf(ref, t, visiting);
      if (!inner) throw new UnsupportedValueSet(`Included value set ${ref} is not known`);
      for (const [system, codes] of inner.systems) mergeInclude(into, system, codes === 'all' ? 'all' : [...codes]);
      for (const [system, codes] of inner.excluded) mergeExclude(into, system, [...codes]);
    }
    return;
  }
  if (!include.system) throw new UnsupportedValueSet('include without system or valueSet');
  const system = canonicalSystem(include.system, t);
  const codes = include.concept?.map((c) => c.code).filter((c): c is string => !!c);
  if (mode === 'exclude') {
    if (!codes?.length) throw new UnsupportedValueSet('Excluding a whole code system is not supported');
    mergeExclude(into, system, codes);
  } else {
    mergeInclude(into, system, codes?.length ? codes : 'all');
  }
}

function mergeInclude(into: Expansion, system: string, codes: 'all' | string[]): void {
  const current = into.systems.get(system);
  if (current === 'all') return;
  if (codes === 'all') {
    into.systems.set(system, 'all');
    return;
  }
  const set = current ?? new Set<string>();
  for (const c of codes) set.add(c);
  into.systems.set(system, set);
}

function mergeExclude(into: Expansion, system: string, codes: string[]): void {
  const set = into.excluded.get(system) ?? new Set<string>();
  for (const c of codes) set.add(c);
  into.excluded.set(system, set);
}

/** True when the value set is known here (explicitly or as a code system's implicit value set). */
export function hasValueSet(url: string, t: Terminology = getTerminology()): boolean {
  return t.valueSets.has(url) || t.implicitValueSets.has(url);
}

/**
 * Is (system, code) in the value set? When `display` is given and differs from the code system's display
 * (or a designation), the code is still valid but the result says so, as $validate-code does.
 */
export function validateCode(
  valueSetUrl: string,
  system: string,
  code: string,
  display?: string,
  t: Terminology = getTerminology(),
): ValidateCodeResult {
  const canonical = canonicalSystem(system, t);
  const base = { system: canonical, code };
  let expansion: Expansion | undefined;
  try {
    expansion = expansionOf(valueSetUrl, t);
  } catch (err) {
    if (!(err instanceof UnsupportedValueSet)) throw err;
    return { ...base, result: false, reason: 'unsupported-value-set', message: `Value set ${valueSetUrl} cannot be evaluated here: ${err.message}` };
  }
  if (!expansion) {
    return { ...base, result: false, reason: 'unknown-value-set', message: `Value set ${valueSetUrl} is not known` };
  }
  const members = expansion.systems.get(canonical);
  const cs = findCodeSystem(canonical, t);
  if (members === 'all' && !cs) {
    return { ...base, result: false, reason: 'unsupported-value-set', message: `Code system ${canonical} is not available here` };
  }
  const concept = cs ? findConcept(cs, code) : undefined;
  const actualCode = concept?.concept.code ?? code;
  const inSystemPart = members === 'all' ? concept !== undefined : members?.has(actualCode) === true;
  const excluded = expansion.excluded.get(canonical)?.has(actualCode) === true;
  if (!members || !inSystemPart || excluded) {
    const unknown = members === 'all' && cs !== undefined && concept === undefined;
    return {
      ...base,
      result: false,
      reason: unknown ? 'unknown-code' : 'not-in-value-set',
      message: unknown
        ? `Code '${code}' is not known in ${canonical}${cs?.resource.version ? ` version ${cs.resource.version}` : ''}`
        : `Code '${code}' from ${canonical} is not in value set ${valueSetUrl}`,
    };
  }
  const recommended = concept?.concept.display ?? displayFromValueSet(valueSetUrl, canonical, actualCode, t);
  const result: ValidateCodeResult = { ...base, code: actualCode, result: true, reason: 'valid' };
  if (recommended !== undefined) result.display = recommended;
  if (display !== undefined && recommended !== undefined) {
    const known = [recommended, ...(concept?.concept.designation ?? []).map((d) => d.value)];
    if (!known.some((k) => k?.trim().toLowerCase() === display.trim().toLowerCase())) {
      result.reason = 'display-mismatch';
      result.message = `Display '${display}' does not match '${recommended}' for code '${actualCode}'`;
    }
  }
  return result;
}

function displayFromValueSet(url: string, system: string, code: string, t: Terminology): string | undefined {
  for (const include of t.valueSets.get(url)?.compose?.include ?? []) {
    if (include.system && canonicalSystem(include.system, t) === system) {
      const hit = include.concept?.find((c) => c.code === code);
      if (hit?.display) return hit.display;
    }
  }
  return undefined;
}
