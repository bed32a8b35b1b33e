// Length bounds on text read from incoming XML, on top of the shared readers in src/xml/read.ts.
// The parser's document-size limit bounds the whole message; these bound each field Helsebro stores
// and re-emits (names, identifiers), so that one field cannot carry megabytes into an M10 or a CDA.
import type { XmlElement } from '../xml/element.ts';
import { messageError } from '../xml/errors.ts';
import { optional, optionalText, requiredText } from '../xml/read.ts';

/** Refuses a value longer than `max` characters; `path` names where it came from. */
export function bounded(text: string, max: number, path: string): string {
  if (text.length > max) throw messageError(400, 'value', 'invalid-value', `${path} is longer than ${max} characters`, path);
  return text;
}

export function boundedText(parent: XmlElement, ns: string, name: string, max: number): string | undefined {
  const text = optionalText(parent, ns, name);
  return text === undefined ? undefined : bounded(text, max, parent.pathOf(name));
}

export function requiredBoundedText(parent: XmlElement, ns: string, name: string, max: number): string {
  return bounded(requiredText(parent, ns, name), max, parent.pathOf(name));
}

/** Follows a chain of (ns, name) steps through single children; undefined as soon as one is missing. */
export function descend(el: XmlElement | undefined, ...steps: [string, string][]): XmlElement | undefined {
  let cur = el;
  for (const [ns, name] of steps) cur = cur && optional(cur, ns, name);
  return cur;
}
