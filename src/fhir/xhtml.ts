// Narrative XHTML. Every piece of source text passes through escapeXml before it enters markup,
// so hostile names and free text stay inert in the FHIR narrative and in the clinician view.
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// eslint-disable-next-line no-control-regex
const NEEDS_WORK = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF&<>"']/;

export function escapeXml(text: string): string {
  // Most text has nothing to strip or escape: one test, no copies.
  if (!NEEDS_WORK.test(text)) return text;
  // Strip characters XML 1.0 forbids (control characters other than tab, CR, LF) as well as escaping markup.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/**
 * Wraps already-escaped inner markup as a FHIR narrative div. Characters beyond Latin-1 (the en dash of a
 * date range, say) become character references, which read the same: V8 keeps a string with even one of
 * them at two bytes per character, and so the whole JSON document the narrative is serialised into, which
 * doubles that string's memory and makes serialising it a third slower.
 */
export const xhtmlDiv = (inner: string, lang?: string): string =>
  `<div xmlns="http://www.w3.org/1999/xhtml"${lang ? ` lang="${escapeXml(lang)}" xml:lang="${escapeXml(lang)}"` : ''}>${latin1(inner)}</div>`;

const BEYOND_LATIN1 = /[^\u0000-\u00FF]/u;
const BEYOND_LATIN1_ALL = /[^\u0000-\u00FF]/gu;

function latin1(markup: string): string {
  if (!BEYOND_LATIN1.test(markup)) return markup;
  return markup.replace(BEYOND_LATIN1_ALL, characterReference);
}

// A lone surrogate is no character XML allows: it becomes U+FFFD, as a UTF-8 encoder would have made it.
// Explicit direction controls are dropped (see withoutDirectionControls).
function characterReference(c: string): string {
  const cp = c.codePointAt(0)!;
  if (isDirectionControl(cp)) return '';
  return cp >= 0xd800 && cp <= 0xdfff ? '&#65533;' : `&#${cp};`;
}

const isDirectionControl = (cp: number): boolean => (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/**
 * Text for a reader's eyes without the explicit direction controls (embeddings, overrides, isolates). An
 * override left open turns "Penicillin V" into "V nillicineP" for the rest of its paragraph: text shown to
 * a clinician or pharmacist must read as it was recorded. Right-to-left scripts still run right to left:
 * their letters carry their direction themselves.
 */
export function withoutDirectionControls(text: string): string {
  return text.replace(DIRECTION_CONTROLS, '');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of a narrative's closing "Sources asked" paragraph (`<p><i>...</i></p>`), tags removed, entities decoded. */
export function sourcesLineOf(div: string): string | undefined {
  const m = /<p><i>((?:(?!<\/i><\/p>).)*)<\/i><\/p>\s*<\/div>\s*$/s.exec(div);
  if (!m?.[1]) return undefined;
  return decodeEntities(m[1].replace(/<[^>]*>/g, '')).trim() || undefined;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return safeCodePoint(parseInt(name.slice(2), 16)) ?? whole;
    if (name.startsWith('#')) return safeCodePoint(parseInt(name.slice(1), 10)) ?? whole;
    return ENTITIES[name] ?? whole;
  });
}

const safeCodePoint = (n: number): string | undefined => (Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined);
