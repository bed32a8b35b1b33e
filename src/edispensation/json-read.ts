// Defensive reading of untrusted JSON with FHIRPath-style locations, so every refusal can say
// where the fault is. The parsers collect issues here instead of throwing at the first one.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, warning, type IssueCode } from '../fhir/outcomes.ts';

export type Json = Record<string, unknown>;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 40;
const MAX_NODES = 20_000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Finds the first key that could pollute a prototype when the value is later copied or merged, or a
 * structure too deep or too large to be a real resource. Returns the location of the fault.
 */
export function findHostileStructure(value: unknown, root: string): { path: string; reason: string } | undefined {
  let nodes = 0;
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: root, depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    // FHIR strings exclude control characters other than tab, CR and LF; PostgreSQL's jsonb cannot even store NUL.
    if (typeof v === 'string' && CONTROL.test(v)) return { path, reason: 'a string contains a control character' };
    if (typeof v !== 'object' || v === null) continue;
    if (++nodes > MAX_NODES) return { path: root, reason: `more than ${MAX_NODES} objects` };
    if (depth > MAX_DEPTH) return { path, reason: `nested deeper than ${MAX_DEPTH} levels` };
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]`, depth: depth + 1 }));
      continue;
    }
    // Own keys only: JSON.parse makes `__proto__` an own property, which is exactly what must be caught.
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: `${path}.${key}`, reason: `key '${key}' is not allowed` };
      stack.push({ v: (v as Json)[key], path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Collects errors and warnings while a parser walks a document. */
export class IssueLog {
  readonly errors: OperationOutcomeIssue[] = [];
  readonly warnings: OperationOutcomeIssue[] = [];

  error(code: IssueCode, message: string, path: string): undefined {
    this.errors.push(issue(code, message, { expression: [path] }));
    return undefined;
  }

  warn(message: string, path: string): void {
    this.warnings.push(warning('informational', message, { expression: [path] }));
  }
}

export interface StringOptions {
  required?: boolean;
  max?: number;
}

/** Reads an optional (or required) string member, refusing other types and oversized text. */
export function readString(log: IssueLog, obj: Json, key: string, path: string, opts: StringOptions = {}): string | undefined {
  const v = obj[key];
  const at = `${path}.${key}`;
  if (v === undefined || v === null) {
    if (opts.required) log.error('required', `${at} is required`, at);
    return undefined;
  }
  if (typeof v !== 'string') return log.error('invalid', `${at} must be a string`, at);
  const max = opts.max ?? 1000;
  if (v.length > max) return log.error('too-long', `${at} is longer than ${max} characters`, at);
  if (opts.required && !v.trim()) return log.error('required', `${at} is empty`, at);
  return v;
}

/** Reads an array member; a single non-array value is refused rather than guessed at. */
export function readArray(log: IssueLog, obj: Json, key: string, path: string, max = 100): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  const at = `${path}.${key}`;
  if (!Array.isArray(v)) {
    log.error('invalid', `${at} must be an array`, at);
    return [];
  }
  if (v.length > max) {
    log.error('too-costly', `${at} has more than ${max} entries`, at);
    return [];
  }
  return v;
}

export function readObject(log: IssueLog, obj: Json, key: string, path: string, required = false): Json | undefined {
  const v = obj[key];
  const at = `${path}.${key}`;
  if (v === undefined || v === null) {
    if (required) log.error('required', `${at} is required`, at);
    return undefined;
  }
  if (!isObject(v)) return log.error('invalid', `${at} must be an object`, at);
  return v;
}
