// Small, strict readers over an XmlElement tree: cardinality, allowed children and XML Schema
// value forms. They throw a ProblemError naming the element path, so a message reader can be
// written top-down; `readResult` at its entry point turns that back into a Result.
import { fail, ok, ProblemError, type Result } from '../fhir/outcomes.ts';
import type { XmlElement } from './element.ts';
import { messageError, messageProblem } from './errors.ts';

/** Runs a throwing reader and returns its value or the Problem it raised; never throws. */
export function readResult<T>(read: () => T): Result<T> {
  try {
    return ok(read());
  } catch (err) {
    if (err instanceof ProblemError) return fail(err.problem);
    return fail(messageProblem(500, 'exception', 'invalid-value', 'The message reader failed unexpectedly on this document'));
  }
}

export const missing = (parent: XmlElement, name: string, why = ''): ProblemError =>
  messageError(400, 'required', 'missing-element', `Missing mandatory element ${name} in ${parent.name}${why}`, parent.pathOf(name));

/** None of a choice's alternatives is there; the path is the parent's, the alternatives are named. */
export const missingChoice = (parent: XmlElement, names: readonly string[]): ProblemError =>
  messageError(400, 'required', 'missing-element', `${parent.name} needs one of ${names.join(', ')}`, parent.path);

export const invalidValue = (el: XmlElement, message: string): ProblemError =>
  messageError(400, 'value', 'invalid-value', `${el.name}: ${message}`, el.path);

export const unexpected = (el: XmlElement, message: string): ProblemError =>
  messageError(400, 'structure', 'unexpected-element', message, el.path);

/** At most one child of this name; a second one is an error rather than silently ignored. */
export function optional(parent: XmlElement, ns: string, name: string): XmlElement | undefined {
  const found = parent.all(ns, name);
  const second = found[1];
  if (second) throw unexpected(second, `${name} may occur only once in ${parent.name}`);
  return found[0];
}

export function required(parent: XmlElement, ns: string, name: string): XmlElement {
  const el = optional(parent, ns, name);
  if (!el) throw missing(parent, name);
  return el;
}

export function repeated(parent: XmlElement, ns: string, name: string, min = 0): XmlElement[] {
  const found = parent.all(ns, name);
  if (found.length < min) throw missing(parent, name, min > 1 ? ` (at least ${min} needed)` : '');
  return found;
}

/** Trimmed text of an optional child; an empty element counts as absent. */
export function optionalText(parent: XmlElement, ns: string, name: string): string | undefined {
  const text = optional(parent, ns, name)?.text;
  return text ? text : undefined;
}

export function requiredText(parent: XmlElement, ns: string, name: string): string {
  const el = required(parent, ns, name);
  if (!el.text) throw missing(parent, name, ' (it is empty)');
  return el.text;
}

/**
 * Refuses children that the schema does not allow here (misspellings, elements in the wrong
 * namespace). `allowed` maps a namespace URI to the local names permitted from it; namespaces in
 * `foreign` may contribute anything (extension points).
 */
export function allowOnly(el: XmlElement, allowed: Record<string, readonly string[]>, foreign: readonly string[] = []): void {
  for (const c of el.children) {
    if (foreign.includes(c.ns)) continue;
    if (allowed[c.ns]?.includes(c.name)) continue;
    const nsNote = Object.keys(allowed).includes(c.ns) ? '' : c.ns ? ` (namespace ${c.ns})` : ' (no namespace)';
    throw unexpected(c, `Element ${c.name}${nsNote} is not allowed in ${el.name}`);
  }
}

/** Exactly one of the named alternatives (an XML Schema choice). */
export function choice<N extends string>(parent: XmlElement, ns: string, names: readonly N[]): { name: N; el: XmlElement } {
  const present = names.flatMap((n) => parent.all(ns, n).map((el) => ({ name: n, el })));
  const first = present[0];
  if (!first) throw missingChoice(parent, names);
  const second = present[1];
  if (second) throw unexpected(second.el, `${parent.name} may hold only one of ${names.join(', ')}`);
  return first;
}

// ---------------------------------------------------------------------------------------------
// XML Schema value forms

export function bool(el: XmlElement): boolean {
  switch (el.text) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw invalidValue(el, `"${clip(el.text)}" is not a boolean (true/false)`);
  }
}

export const optionalBool = (parent: XmlElement, ns: string, name: string): boolean | undefined => {
  const el = optional(parent, ns, name);
  return el ? bool(el) : undefined;
};

export function int(el: XmlElement, text = el.text): number {
  if (!/^[+-]?\d{1,15}$/.test(text)) throw invalidValue(el, `"${clip(text)}" is not an integer`);
  return Number(text);
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const DOUBLE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function decimal(el: XmlElement, text = el.text): number {
  const n = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(n)) throw invalidValue(el, `"${clip(text)}" is not a decimal number (use a decimal point)`);
  return n;
}

export function double(el: XmlElement, text: string): number {
  const n = Number(text);
  if (!DOUBLE.test(text) || !Number.isFinite(n)) throw invalidValue(el, `"${clip(text)}" is not a number (use a decimal point)`);
  return n;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

function isCalendarDate(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return (
    Number(y) >= 1 &&
    date.getUTCFullYear() === Number(y) &&
    date.getUTCMonth() === Number(m) - 1 &&
    date.getUTCDate() === Number(d)
  );
}

const isClock = (h: string, mi: string, s: string): boolean => Number(h) <= 23 && Number(mi) <= 59 && Number(s) <= 59;

/**
 * xs:date as the calendar day 'YYYY-MM-DD'. KITH senders add their UTC offset
 * ("2019-07-17+02:00"); the day is what the prescriber meant, so the offset is dropped.
 */
export function xsDate(el: XmlElement, text = el.text): string {
  const m = DATE.exec(text);
  if (!m || !isCalendarDate(m[1] ?? '', m[2] ?? '', m[3] ?? '')) throw invalidValue(el, `"${clip(text)}" is not a date (YYYY-MM-DD)`);
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** xs:dateTime, validated and returned as sent (the offset, when present, is kept). */
export function xsDateTime(el: XmlElement, text = el.text): string {
  const m = DATE_TIME.exec(text);
  if (!m || !isCalendarDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') || !isClock(m[4] ?? '', m[5] ?? '', m[6] ?? '')) {
    throw invalidValue(el, `"${clip(text)}" is not a date-time (YYYY-MM-DDThh:mm:ss)`);
  }
  return text;
}

export function xsTime(el: XmlElement, text = el.text): string {
  const m = TIME.exec(text);
  if (!m || !isClock(m[1] ?? '', m[2] ?? '', m[3] ?? '')) throw invalidValue(el, `"${clip(text)}" is not a time of day (hh:mm:ss)`);
  return text;
}

/** Any of the forms a KITH TS may take: dateTime, date, gYearMonth, gYear or time. */
export function timestamp(el: XmlElement, text: string): string {
  if (DATE_TIME.test(text)) return xsDateTime(el, text);
  if (DATE.test(text)) return xsDate(el, text);
  if (TIME.test(text)) return xsTime(el, text);
  if (/^\d{4}(-(0[1-9]|1[0-2]))?(Z|[+-]\d{2}:\d{2})?$/.test(text)) return text;
  throw invalidValue(el, `"${clip(text)}" is not a date or time`);
}

/** Values echoed into diagnostics are clipped: they are attacker-controlled. */
export const clip = (s: string, n = 40): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Drops keys whose value is undefined, so optional fields are absent rather than present-but-empty. */
export function defined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as (keyof T)[]) if (o[key] === undefined) delete o[key];
  return o;
}
