// $summary documents for the rendering tests, built without a store or network: each persona's demo data
// through the sources' own mappers and the real assembler, plus the notes section with the OperationOutcome
// the http layer adds (src/summary/outcome-section.ts), with fixed ids and time so pages can be compared.
import type { Bundle, Composition, Condition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { PersonaKey } from '../../../src/demo/personas.ts';
import { assembleSummary } from '../../../src/summary/assemble.ts';
import { withOutcomeSection } from '../../../src/summary/outcome-section.ts';
import type { SourceResult } from '../../../src/summary/fetch-all.ts';
import type { WithheldDecision } from '../../../src/summary/resources.ts';
import { counterIds, demoResults, personaResource } from '../../fixtures/summary/results.ts';

export const FIXED_NOW = new Date('2026-11-23T12:00:00Z');
export const OPERATOR = { name: 'Norsk helsenett SF (Helsebro demo)', orgnr: '994598759' };

export interface DocumentOptions {
  lang?: 'nb' | 'en';
  /** Replace what the demo sources answered (e.g. a failed Kjernejournal). */
  results?: (demo: SourceResult[]) => SourceResult[];
  withheld?: WithheldDecision;
  /** Issues beyond the assembler's warnings (access-rule withholds, as the http layer adds them). */
  extraIssues?: OperationOutcomeIssue[];
}

export function personaDocument(key: PersonaKey, opts: DocumentOptions = {}): Bundle {
  const demo = demoResults(key);
  const { bundle, warnings } = assembleSummary({
    patient: personaResource(key),
    sourceResults: opts.results ? opts.results(demo) : demo,
    lang: opts.lang ?? 'nb',
    now: FIXED_NOW,
    operator: OPERATOR,
    newId: counterIds(),
    ...(opts.withheld ? { withheld: opts.withheld } : {}),
  });
  return withOutcomeSection(bundle, [...warnings, ...(opts.extraIssues ?? [])], opts.lang ?? 'nb');
}

/** Kjernejournal could not be reached; the other sources answered as in the demo. */
export const kjernejournalDown = (demo: SourceResult[]): SourceResult[] =>
  demo.map((r) => (r.source === 'kjernejournal' ? { source: 'kjernejournal', status: 'failed', message: 'connect ECONNREFUSED 127.0.0.1:9' } : r));

/** Adds `n` more registry diagnoses to the problems section (for long lists). */
export function withManyProblems(bundle: Bundle, n: number): Bundle {
  const out = structuredClone(bundle);
  const composition = out.entry![0]!.resource as Composition;
  const problems = composition.section!.find((s) => s.code?.coding?.[0]?.code === '11450-4')!;
  const template = out.entry!.find((e) => e.fullUrl === problems.entry![0]!.reference)!.resource as Condition;
  const extra = Array.from({ length: n }, (_, i) => ({
    fullUrl: `urn:uuid:00000000-0000-4000-8000-1000000000${String(i).padStart(2, '0')}`,
    resource: { ...template, id: `extra-${i}`, code: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7110', code: `Z0${i}` }], text: `Ekstra ${i}` } },
  }));
  problems.entry!.push(...extra.map((e) => ({ reference: e.fullUrl })));
  out.entry!.splice(1, 0, ...extra);
  return out;
}
