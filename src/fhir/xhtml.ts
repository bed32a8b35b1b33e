// Narrative XHTML. Every piece of source text passes through escapeXml before it enters markup,
// so hostile names and free text stay inert in the FHIR narrative and in the clinician view.
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeXml(text: string): string {
  // Strip characters XML 1.0 forbids (control characters other than tab, CR, LF) as well as escaping markup.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** Wraps already-escaped inner markup as a FHIR narrative div. */
export const xhtmlDiv = (inner: string, lang?: string): string =>
  `<div xmlns="http://www.w3.org/1999/xhtml"${lang ? ` lang="${escapeXml(lang)}" xml:lang="${escapeXml(lang)}"` : ''}>${inner}</div>`;
