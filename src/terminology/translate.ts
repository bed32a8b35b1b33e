// ConceptMap translation, and the policy every emitter follows with its result: the EU code goes first,
// the Norwegian code always stays in the CodeableConcept, and an unmapped code is a warning, never a drop.
import type {
  CodeableConcept,
  Coding,
  ConceptMap,
  ConceptMapGroup,
  Extension,
  OperationOutcomeIssue,
} from '@medplum/fhirtypes';
import { lookup } from './lookup.ts';
import { canonicalSystem, getTerminology, type Terminology } from './load.ts';

export type Equivalence = NonNullable<NonNullable<ConceptMapGroup['element']>[number]['target']>[number]['equivalence'];

export const REVIEW_STATUS_EXTENSION = 'https://helsebro.no/fhir/StructureDefinition/mapping-review-status';
export const TERMINOLOGY_ISSUE_SYSTEM = 'https://helsebro.no/fhir/CodeSystem/terminology-issue';

export interface TranslateMatch {
  equivalence: Equivalence;
  system: string;
  code: string;
  display?: string;
  comment?: string;
  /** Canonical url of the ConceptMap that gave the match. */
  source: string;
}

export interface ReviewStatus {
  status: string;
  note?: string;
}

export type TranslateReason = 'mapped' | 'unmatched' | 'not-in-map' | 'no-map';

export interface TranslateResult {
  /** True when at least one usable target exists (anything but `unmatched`/`disjoint`). */
  result: boolean;
  reason: TranslateReason;
  /** Usable targets, best first (in map order: the first target of a row is the preferred one). */
  matches: TranslateMatch[];
  source: { system: string; code: string; display?: string };
  /** The ConceptMap(s) consulted. */
  conceptMaps: { url: string; version?: string; status?: string; review?: ReviewStatus }[];
  /** Why the code has no usable target (the map's `unmatched` comment, or a generated reason). */
  message?: string;
}

/** Which map to use: its canonical url, or a source/target pair (value set urls or code system urls). */
export type MapSelector = string | { source?: string; target?: string };

/** The ConceptMaps a selector names (one for a url; every map whose source and target match for a pair). */
export function selectConceptMaps(selector: MapSelector, t: Terminology = getTerminology()): ConceptMap[] {
  if (typeof selector === 'string') {
    const map = t.conceptMaps.get(selector);
    return map ? [map] : [];
  }
  const matchesUri = (uri: string | undefined, systems: (string | undefined)[], wanted: string | undefined): boolean => {
    if (wanted === undefined) return true;
    if (uri === wanted) return true;
    const canonical = canonicalSystem(wanted, t);
    return systems.some((s) => s !== undefined && canonicalSystem(s, t) === canonical);
  };
  return [...t.conceptMaps.values()].filter(
    (map) =>
      matchesUri(map.sourceUri ?? map.sourceCanonical, (map.group ?? []).map((g) => g.source), selector.source) &&
      matchesUri(map.targetUri ?? map.targetCanonical, (map.group ?? []).map((g) => g.target), selector.target),
  );
}

export function reviewStatus(map: ConceptMap): ReviewStatus | undefined {
  const ext = map.extension?.find((e) => e.url === REVIEW_STATUS_EXTENSION);
  const part = (name: string): Extension | undefined => ext?.extension?.find((e) => e.url === name);
  const status = part('status')?.valueCode;
  if (!status) return undefined;
  const note = part('note')?.valueString;
  return note === undefined ? { status } : { status, note };
}

/**
 * Translates (system, code) with the selected ConceptMap(s). `targetSystem` keeps only groups towards
 * that system (e.g. UCUM when a unit map also has EDQM targets).
 */
export function translate(
  selector: MapSelector,
  system: string,
  code: string,
  opts: { targetSystem?: string } = {},
  t: Terminology = getTerminology(),
): TranslateResult {
  const sourceSystem = canonicalSystem(system, t);
  const sourceDisplay = lookup(sourceSystem, code, undefined, t)?.display;
  const source = sourceDisplay === undefined ? { system: sourceSystem, code } : { system: sourceSystem, code, display: sourceDisplay };
  const maps = selectConceptMaps(selector, t);
  const consulted = maps.map((m) => {
    const info: TranslateResult['conceptMaps'][number] = { url: m.url ?? '' };
    if (m.version !== undefined) info.version = m.version;
    if (m.status !== undefined) info.status = m.status;
    const review = reviewStatus(m);
    if (review) info.review = review;
    return info;
  });
  if (!maps.length) {
    const name = typeof selector === 'string' ? selector : `source ${selector.source ?? '*'} and target ${selector.target ?? '*'}`;
    return { result: false, reason: 'no-map', matches: [], source, conceptMaps: [], message: `No ConceptMap for ${name}` };
  }
  const wantedTarget = opts.targetSystem === undefined ? undefined : canonicalSystem(opts.targetSystem, t);
  const matches: TranslateMatch[] = [];
  const unmatchedComments: string[] = [];
  let listed = false;
  let otherTargetsOnly = false;
  for (const map of maps) {
    for (const group of map.group ?? []) {
      if (!group.source || canonicalSystem(group.source, t) !== sourceSystem) continue;
      const groupTarget = group.target === undefined ? undefined : canonicalSystem(group.target, t);
      const element = group.element?.find((e) => e.code === code);
      if (!element) continue;
      for (const target of element.target ?? []) {
        if (target.equivalence === 'unmatched' || target.equivalence === 'disjoint' || !target.code || !groupTarget) {
          listed = true;
          if (target.comment) unmatchedComments.push(target.comment);
          continue;
        }
        if (wantedTarget !== undefined && groupTarget !== wantedTarget) {
          otherTargetsOnly = true;
          continue;
        }
        listed = true;
        const match: TranslateMatch = { equivalence: target.equivalence, system: groupTarget, code: target.code, source: map.url ?? '' };
        const targetDisplay = target.display ?? lookup(groupTarget, target.code, undefined, t)?.display;
        if (targetDisplay !== undefined) match.display = targetDisplay;
        if (target.comment !== undefined) match.comment = target.comment;
        matches.push(match);
      }
    }
  }
  if (matches.length) return { result: true, reason: 'mapped', matches, source, conceptMaps: consulted };
  let message: string;
  if (listed) {
    message = `Code '${code}' of ${sourceSystem} has no EU equivalent${unmatchedComments.length ? `: ${unmatchedComments.join(' ')}` : ''}`;
  } else if (otherTargetsOnly) {
    message = `Code '${code}' of ${sourceSystem} has no target in ${wantedTarget}`;
  } else {
    message = `Code '${code}' of ${sourceSystem} is not in ${consulted.map((c) => c.url).join(', ')}`;
  }
  return {
    result: false,
    reason: listed || otherTargetsOnly ? 'unmatched' : 'not-in-map',
    matches,
    source,
    conceptMaps: consulted,
    message,
  };
}

export interface EuConcept {
  concept: CodeableConcept;
  /** The EU coding chosen (first coding of `concept`), when the code was mapped. */
  eu?: Coding;
  /** The translation behind the result, for provenance. */
  translation: TranslateResult;
  /** Set when the code could not be mapped or the mapping is not exact: the caller adds it to its warnings. */
  warning?: OperationOutcomeIssue;
}

/**
 * A CodeableConcept for an EU document from a Norwegian coding: the mapped EU coding first (English display),
 * then the Norwegian coding as it arrived, and `text` from the original text. Unmapped codes keep the
 * Norwegian coding and text and come with a warning; nothing is dropped.
 */
export function toEuConcept(
  selector: MapSelector,
  source: { system: string; code: string; display?: string | undefined; originalText?: string | undefined },
  opts: { targetSystem?: string; expression?: string } = {},
  t: Terminology = getTerminology(),
): EuConcept {
  const translation = translate(selector, source.system, source.code, opts.targetSystem === undefined ? {} : { targetSystem: opts.targetSystem }, t);
  const national: Coding = { system: canonicalSystem(source.system, t), code: source.code };
  const nationalDisplay = source.display ?? translation.source.display;
  if (nationalDisplay !== undefined) national.display = nationalDisplay;
  const text = source.originalText ?? nationalDisplay;
  const best = translation.matches[0];
  const concept: CodeableConcept = { coding: [] };
  let eu: Coding | undefined;
  if (best) {
    eu = { system: best.system, code: best.code };
    if (best.display !== undefined) eu.display = best.display;
    concept.coding?.push(eu);
  }
  concept.coding?.push(national);
  if (text !== undefined) concept.text = text;
  const out: EuConcept = { concept, translation };
  if (eu) out.eu = eu;
  const where = opts.expression === undefined ? {} : { expression: [opts.expression] };
  if (!best) {
    out.warning = {
      severity: 'warning',
      code: 'code-invalid',
      diagnostics: `${(translation.message ?? 'Not mapped').replace(/\.$/, '')}; the Norwegian code and text are sent instead`,
      details: {
        coding: [{ system: TERMINOLOGY_ISSUE_SYSTEM, code: 'unmapped-code' }],
        text: translation.message ?? 'Not mapped',
      },
      ...where,
    };
  } else if (best.equivalence !== 'equivalent' && best.equivalence !== 'equal') {
    out.warning = {
      severity: 'information',
      code: 'informational',
      diagnostics: `'${source.code}' of ${national.system} mapped to '${best.code}' (${best.display ?? best.system}) as ${best.equivalence}${best.comment ? `: ${best.comment}` : ''}`,
      details: { coding: [{ system: TERMINOLOGY_ISSUE_SYSTEM, code: `mapped-${best.equivalence}` }] },
      ...where,
    };
  }
  return out;
}
