// HTML as values: the `html` tag escapes every interpolated string with escapeXml (src/fhir/xhtml.ts) and
// passes through only what another `html` call produced. Markup can therefore come from template text
// written here, never from data: a patient name full of <script> stays text however it is interpolated, and
// one with a right-to-left override reads as recorded (withoutDirectionControls).
import { escapeXml, withoutDirectionControls } from '../fhir/xhtml.ts';

export interface SafeHtml {
  readonly __html: string;
}

export type Interpolation = string | number | SafeHtml | undefined | null | false | readonly Interpolation[];

// Only values this module made count as markup: an object from parsed data that merely has an __html
// property is text like any other.
const made = new WeakSet<object>();
const isSafe = (v: unknown): v is SafeHtml => typeof v === 'object' && v !== null && made.has(v);

function piece(v: Interpolation): string {
  if (v === undefined || v === null || v === false) return '';
  if (Array.isArray(v)) return v.map(piece).join('');
  if (isSafe(v)) return v.__html;
  return escapeXml(withoutDirectionControls(String(v)));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += piece(v) + (strings[i + 1] ?? '');
  });
  const result = Object.freeze({ __html: out });
  made.add(result);
  return result;
}

export const renderHtml = (h: SafeHtml): string => h.__html;

/** Query strings for links the view builds itself: keys and values are percent-encoded. */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
