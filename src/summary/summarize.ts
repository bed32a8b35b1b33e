// One call for the route handler: ask the sources, then assemble. Access decisions (withheld) and the
// response language come from the http layer; the result carries the document and the warnings for
// the response's OperationOutcome.
import type { Patient } from '@medplum/fhirtypes';
import type { SummarySource, Lang } from '../sources/source.ts';
import { assembleSummary, type AssembledSummary } from './assemble.ts';
import { fetchAll, type FetchAllOptions, type SourceResult } from './fetch-all.ts';
import type { WithheldDecision } from './resources.ts';

export interface SummarizeOptions {
  sources: readonly SummarySource[];
  timeoutMs: number;
  lang: Lang;
  operator: { name: string; orgnr: string };
  withheld?: WithheldDecision;
  now?: () => Date;
  signal?: AbortSignal;
  onSourceError?: FetchAllOptions['onError'];
  softwareVersion?: string;
  /** Applied to the sources' answers before assembly (the http layer hides records a caller may not see). */
  adjust?: (results: SourceResult[]) => SourceResult[];
}

export interface Summarized extends AssembledSummary {
  sourceResults: SourceResult[];
}

/** The patient must carry its fødselsnummer or D-nummer as an identifier. */
export async function summarizePatient(patient: Patient & { id: string }, fnr: string, opts: SummarizeOptions): Promise<Summarized> {
  const sourceResults = await fetchAll(opts.sources, { id: patient.id, fnr, resource: patient }, {
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onSourceError ? { onError: opts.onSourceError } : {}),
  });
  const assembled = assembleSummary({
    patient,
    sourceResults: opts.adjust ? opts.adjust(sourceResults) : sourceResults,
    lang: opts.lang,
    now: (opts.now ?? (() => new Date()))(),
    operator: opts.operator,
    ...(opts.withheld ? { withheld: opts.withheld } : {}),
    ...(opts.softwareVersion ? { softwareVersion: opts.softwareVersion } : {}),
  });
  return { ...assembled, sourceResults };
}
