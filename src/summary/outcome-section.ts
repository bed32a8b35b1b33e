// The warnings of a partial summary (a source that failed, content withheld) inside the document itself.
// A FHIR document bundle holds only what its Composition references (R4 Bundle, type document), so the
// OperationOutcome is the single entry of a last Composition section of its own, "Notes on this summary",
// whose narrative states the same warnings for a human reader. Section-specific warnings keep their
// expression (Composition.section[n]), so a reader can still show them at the section they concern.
import type { Bundle, Composition, CompositionSection, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import { toOperationOutcome } from '../fhir/outcomes.ts';
import { derivedUuid } from '../fhir/resource-id.ts';
import { escapeXml, xhtmlDiv } from '../fhir/xhtml.ts';
import type { Lang } from '../sources/source.ts';

export const DOCUMENT_SECTION_SYSTEM = `${HELSEBRO_NS}/CodeSystem/document-section`;
export const NOTES_SECTION_CODE = 'production-notes';

const TITLE: Record<Lang, string> = { nb: 'Merknader om sammendraget', en: 'Notes on this summary' };

export function withOutcomeSection(bundle: Bundle, issues: readonly OperationOutcomeIssue[], lang: Lang): Bundle {
  const first = bundle.entry?.[0];
  const composition = first?.resource;
  if (!issues.length || composition?.resourceType !== 'Composition') return bundle;
  // Derived from the document's own id: one document, one outcome id, whoever renders it again.
  const outcome = { ...toOperationOutcome({ issues: [...issues] }), id: derivedUuid('summary-outcome', bundle.id ?? composition.id ?? '') };
  const fullUrl = `urn:uuid:${outcome.id}`;
  const items = issues.map((i) => `<li>${escapeXml(i.diagnostics ?? i.code)}</li>`).join('');
  const section: CompositionSection = {
    title: TITLE[lang],
    code: { coding: [{ system: DOCUMENT_SECTION_SYSTEM, code: NOTES_SECTION_CODE, display: 'Notes on how this summary was produced' }] },
    text: { status: 'generated', div: xhtmlDiv(`<ul>${items}</ul>`) },
    entry: [{ reference: fullUrl }],
  };
  const withSection: Composition = { ...composition, section: [...(composition.section ?? []), section] };
  return { ...bundle, entry: [{ ...first, resource: withSection }, ...(bundle.entry ?? []).slice(1), { fullUrl, resource: outcome }] };
}
