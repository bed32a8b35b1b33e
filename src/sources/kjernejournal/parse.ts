// Upstream JSON -> validated Kj records. Any record that does not read is a malformed answer for the
// whole source: showing part of a patient's critical information as if it were all of it is worse
// than saying Kjernejournal could not be read.
import type { z } from 'zod';
import { compileShape, describeProblem as describe, type ShapeCheck } from '../check-shape.ts';
import { MalformedSourceError, SourceUnavailableError } from '../source.ts';
import {
  kjAllergyIntolerance,
  kjCondition,
  kjDeviceUseStatement,
  kjFlag,
  kjOutcome,
  kjProcedure,
  kjSearchset,
  kjStatus,
  KJ_READ_TYPES,
  type KjReadType,
  type KjStatus,
} from './types.ts';

const SCHEMA = {
  AllergyIntolerance: kjAllergyIntolerance,
  Condition: kjCondition,
  Procedure: kjProcedure,
  DeviceUseStatement: kjDeviceUseStatement,
  Flag: kjFlag,
} as const;

export type KjRecordOf<T extends KjReadType> = z.infer<(typeof SCHEMA)[T]>;

const CHECK = Object.fromEntries(KJ_READ_TYPES.map((t) => [t, compileShape(SCHEMA[t])])) as {
  [T in KjReadType]: (value: unknown) => ShapeCheck<KjRecordOf<T>>;
};
const checkStatus = compileShape(kjStatus);
const checkSearchset = compileShape(kjSearchset);
const checkOutcome = compileShape(kjOutcome);

export function parseStatus(raw: unknown, nin: string): KjStatus {
  const parsed = checkStatus(raw);
  if (!parsed.success) throw new MalformedSourceError(`Kjernejournal status: ${describe(parsed.error)}`);
  if (parsed.data.patientNIN !== undefined && parsed.data.patientNIN !== nin) {
    throw new MalformedSourceError('Kjernejournal status answered for another patient');
  }
  return parsed.data;
}

export function parseSearchset<T extends KjReadType>(type: T, raw: unknown, nin: string): KjRecordOf<T>[] {
  const bundle = checkSearchset(raw);
  if (!bundle.success) throw new MalformedSourceError(`Kjernejournal ${type}: not a searchset Bundle (${describe(bundle.error)})`);
  const out: KjRecordOf<T>[] = [];
  for (const [i, entry] of (bundle.data.entry ?? []).entries()) {
    // Search results may carry an OperationOutcome entry (search.mode = outcome): not a record, but it may say
    // the answer is not whole, and part of the critical information shown as all of it is the worst answer.
    if (entry.resource.resourceType === 'OperationOutcome') {
      const incomplete = incompleteness(entry.resource);
      if (incomplete) throw new SourceUnavailableError(`Kjernejournal ${type}: the answer is incomplete (${incomplete})`);
      continue;
    }
    const record = CHECK[type](entry.resource);
    if (!record.success) throw new MalformedSourceError(`Kjernejournal ${type} entry ${i}: ${describe(record.error)}`);
    const owner = ownerNin(record.data);
    if (owner !== undefined && owner !== nin) throw new MalformedSourceError(`Kjernejournal ${type} entry ${i} belongs to another patient`);
    out.push(record.data as KjRecordOf<T>);
  }
  // Helsebro reads one page: a further page, or a total above what came, means records are missing.
  if (bundle.data.link?.some((l) => l.relation === 'next')) throw new SourceUnavailableError(`Kjernejournal ${type}: the answer has further pages`);
  if (bundle.data.total !== undefined && bundle.data.total > out.length) {
    throw new SourceUnavailableError(`Kjernejournal ${type}: ${bundle.data.total} records match, ${out.length} came`);
  }
  return out;
}

// An error says something went wrong; these warnings say, in FHIR's words, that results were left out.
const INCOMPLETE_CODES = new Set(['incomplete', 'too-costly', 'throttled', 'timeout', 'too-long']);

/** Why an OperationOutcome entry makes the answer partial, or undefined when it only informs. */
function incompleteness(resource: unknown): string | undefined {
  const outcome = checkOutcome(resource);
  // An outcome we cannot read cannot tell us the answer is whole.
  if (!outcome.success) return 'an OperationOutcome that could not be read';
  const issue = outcome.data.issue.find((i) => i.severity === 'error' || i.severity === 'fatal' || (i.severity === 'warning' && INCOMPLETE_CODES.has(i.code)));
  return issue ? `${issue.severity} ${issue.code}` : undefined;
}

function ownerNin(record: { patient?: { identifier?: { value?: string } }; subject?: { identifier?: { value?: string } } }): string | undefined {
  return record.patient?.identifier?.value ?? record.subject?.identifier?.value;
}
