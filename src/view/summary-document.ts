// Reading a $summary document (IPS Bundle) the way any consumer of it would: the Composition's sections
// by LOINC code, their entries resolved inside the Bundle, their emptyReason and narrative, and the
// OperationOutcome entry's warnings matched to the sections they name. Pure; the view never asks a
// source itself, so it can never show something the document does not say.
import type { Bundle, Composition, CompositionSection, OperationOutcome, OperationOutcomeIssue, Patient, Resource } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import { sourcesLineOf } from '../fhir/xhtml.ts';

/** The sections of the view, most critical first (the national concept sketch's order), by IPS LOINC code. */
export const VIEW_SECTIONS = [
  { key: 'alerts', loinc: '104605-1' },
  { key: 'allergies', loinc: '48765-2' },
  { key: 'devices', loinc: '46264-8' },
  { key: 'medications', loinc: '10160-0' },
  { key: 'problems', loinc: '11450-4' },
  { key: 'procedures', loinc: '47519-4' },
] as const;

export type ViewSectionKey = (typeof VIEW_SECTIONS)[number]['key'];

// Canonical URLs Helsebro publishes inside its documents (written by src/sources/ and src/summary/; a test
// keeps them equal). The view reads them from the document like any other consumer would.
export { EPISODE_SUMMARY_EXT, KJ_TYPE_SYSTEM, SOURCE_TAG_SYSTEM } from '../sections/read.ts';
export const SUMMARY_ISSUE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/summary-issue`;
export const ACCESS_RULE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/access-rule`;

/** Why a section has no entries, as the view tells it apart. */
export type SectionState = 'entries' | 'empty' | 'unavailable' | 'withheld' | 'not-asked';

/** A warning of the document about one section: a source that failed or was withheld, or an access rule. */
export type SectionNotice =
  | { kind: 'source'; status: 'failed' | 'timeout' | 'malformed' | 'withheld'; source: string; diagnostics?: string | undefined }
  | { kind: 'rule'; rule: string; diagnostics?: string | undefined }
  | { kind: 'other'; severity: OperationOutcomeIssue['severity']; diagnostics: string };

export interface ReadSection {
  key: ViewSectionKey;
  loinc: string;
  /** False when the document has no such section: an optional section is left out when its sources had nothing. */
  present: boolean;
  state: SectionState;
  entries: Resource[];
  emptyReason?: { code?: string | undefined; text?: string | undefined } | undefined;
  notices: SectionNotice[];
  /** The narrative's closing line naming every source asked and how it answered, as plain text. */
  sourcesLine?: string | undefined;
}

export interface ReadSummary {
  composition: Composition;
  patient: Patient | undefined;
  sections: Record<ViewSectionKey, ReadSection>;
  /** Warnings that name no section. */
  otherNotices: SectionNotice[];
  /** A resource of the document by its fullUrl (`urn:uuid:...`). */
  resolve(reference: string | undefined): Resource | undefined;
}

/** Undefined when the Bundle is not a document with a Composition first. */
export function readSummary(bundle: Bundle): ReadSummary | undefined {
  const entries = bundle.entry ?? [];
  const composition = entries[0]?.resource;
  if (bundle.type !== 'document' || composition?.resourceType !== 'Composition') return undefined;
  const byUrl = new Map<string, Resource>();
  for (const e of entries) if (e.fullUrl && e.resource) byUrl.set(e.fullUrl, e.resource);
  const resolve = (ref: string | undefined): Resource | undefined => (ref ? byUrl.get(ref) : undefined);
  const subject = resolve(composition.subject?.reference);
  const patient = subject?.resourceType === 'Patient' ? subject : undefined;

  const docSections = composition.section ?? [];
  const loincOf = (s: CompositionSection | undefined): string | undefined => s?.code?.coding?.find((c) => c.system === 'http://loinc.org')?.code;
  const outcomes = entries.map((e) => e.resource).filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome');
  const issuesBySection = new Map<string, SectionNotice[]>();
  const otherNotices: SectionNotice[] = [];
  for (const issue of outcomes.flatMap((o) => o.issue ?? [])) {
    const notice = noticeOf(issue);
    const targets = new Set((issue.expression ?? []).map((x) => sectionOfExpression(x, (i) => loincOf(docSections[i]))).filter((x): x is string => !!x));
    if (!targets.size) otherNotices.push(notice);
    for (const loinc of targets) {
      const list = issuesBySection.get(loinc) ?? [];
      // One notice per distinct statement: a rule that withholds two resource types of a section is one line.
      if (!list.some((x) => JSON.stringify(x) === JSON.stringify(notice))) list.push(notice);
      issuesBySection.set(loinc, list);
    }
  }

  const sections = {} as Record<ViewSectionKey, ReadSection>;
  for (const { key, loinc } of VIEW_SECTIONS) {
    const s = docSections.find((x) => loincOf(x) === loinc);
    const notices = issuesBySection.get(loinc) ?? [];
    const sectionEntries = (s?.entry ?? []).map((r) => resolve(r.reference)).filter((r): r is Resource => r !== undefined);
    const emptyReason = s?.emptyReason ? { code: s.emptyReason.coding?.[0]?.code, text: s.emptyReason.text } : undefined;
    sections[key] = {
      key,
      loinc,
      present: s !== undefined,
      state: stateOf(sectionEntries.length, emptyReason?.code, notices),
      entries: sectionEntries,
      emptyReason,
      notices,
      sourcesLine: s?.text?.div ? sourcesLineOf(s.text.div) : undefined,
    };
  }
  return { composition, patient, sections, otherNotices, resolve };
}

function stateOf(entries: number, emptyCode: string | undefined, notices: SectionNotice[]): SectionState {
  if (entries) return 'entries';
  if (emptyCode === 'withheld') return 'withheld';
  if (emptyCode === 'notasked') return 'not-asked';
  // `unavailable` is also the document's code for "the sources answered with nothing" (as the IPS example
  // does); only a failed source makes the section unavailable in the view's sense.
  if (notices.some((n) => n.kind === 'source' && n.status !== 'withheld')) return 'unavailable';
  if (notices.some((n) => n.kind === 'source' || n.kind === 'rule')) return 'withheld';
  return 'empty';
}

const SECTION_INDEX = /^Bundle\.entry\[0\]\.resource\.section\[(\d+)\]$/;
const SECTION_CODE = /^Composition\.section\.where\(code\.coding\.code='([0-9-]+)'\)$/;

function sectionOfExpression(expr: string, loincAt: (index: number) => string | undefined): string | undefined {
  const byIndex = SECTION_INDEX.exec(expr);
  if (byIndex) return loincAt(Number(byIndex[1]));
  return SECTION_CODE.exec(expr)?.[1];
}

const ISSUE_STATUS = /^source-(failed|timeout|malformed|withheld)$/;

function noticeOf(issue: OperationOutcomeIssue): SectionNotice {
  const codings = issue.details?.coding ?? [];
  const summaryIssue = codings.find((c) => c.system === SUMMARY_ISSUE_SYSTEM && ISSUE_STATUS.test(c.code ?? ''));
  if (summaryIssue) {
    const status = ISSUE_STATUS.exec(summaryIssue.code!)![1] as 'failed' | 'timeout' | 'malformed' | 'withheld';
    // The display names the source by its tag code: "Source failed: kjernejournal".
    const source = /:\s*([a-z][a-z0-9-]*)$/.exec(summaryIssue.display ?? '')?.[1] ?? '';
    return { kind: 'source', status, source, diagnostics: issue.diagnostics };
  }
  const rule = codings.find((c) => c.system === ACCESS_RULE_SYSTEM)?.code;
  if (rule) return { kind: 'rule', rule, diagnostics: issue.diagnostics };
  return { kind: 'other', severity: issue.severity, diagnostics: issue.diagnostics ?? issue.details?.text ?? issue.code };
}

export { sourcesLineOf } from '../fhir/xhtml.ts';
