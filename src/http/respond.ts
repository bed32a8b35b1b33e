// The one boundary where results and Problems become HTTP responses.
import type { Response } from 'express';
import { isProblem, toOperationOutcome, type Problem } from '../fhir/outcomes.ts';
import { CONTENT_TYPE } from './negotiate.ts';
import type { HandlerResult } from './types.ts';

/** An answer ready to go: status, headers and the body already serialised. */
export interface PreparedResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** What the audit record needs of an answer: its status and, for a Problem, the codes of its issues. */
export interface AnsweredOutcome {
  status: number;
  issueCodes?: string | undefined;
}

export function outcomeOf(result: HandlerResult): AnsweredOutcome {
  return isProblem(result) ? { status: result.status, issueCodes: result.issues.map((i) => i.code).join(', ') } : { status: result.status };
}

export function prepareResult(result: HandlerResult, pretty: boolean): PreparedResponse {
  if (isProblem(result)) return prepareProblem(result, pretty);
  const headers: Record<string, string> = { ...result.headers };
  if ('resource' in result) {
    headers['Content-Type'] = CONTENT_TYPE.fhir;
    // Most resources are in order already; a scan of them is far cheaper than stringify with a replacer.
    const ordered = result.inFhirOrder === true || inFhirOrder(result.resource);
    return { status: result.status, headers, body: JSON.stringify(result.resource, ordered ? undefined : resourceTypeFirst, pretty ? 2 : undefined) };
  }
  headers['Content-Type'] = result.contentType;
  return { status: result.status, headers, body: result.body };
}

export function sendPrepared(res: Response, prepared: PreparedResponse): void {
  for (const k in prepared.headers) res.setHeader(k, prepared.headers[k]!);
  res.status(prepared.status);
  const body = prepared.body;
  res.send(typeof body === 'string' || Buffer.isBuffer(body) ? body : Buffer.from(body));
}

/**
 * Resources read back from jsonb come with their keys in jsonb's order; put resourceType first again in
 * every resource (top level, entries, contained) so the JSON reads as FHIR JSON is written.
 */
function resourceTypeFirst(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  if (typeof v.resourceType !== 'string') return value;
  for (const k in v) return k === 'resourceType' ? value : { resourceType: v.resourceType, ...v };
  return value;
}

/** Whether every object with a resourceType has it as its first key. */
export function inFhirOrder(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const v of value) if (!inFhirOrder(v)) return false;
    return true;
  }
  if (value === null || typeof value !== 'object') return true;
  const isResource = typeof (value as { resourceType?: unknown }).resourceType === 'string';
  let first = true;
  for (const k in value) {
    if (first && isResource && k !== 'resourceType') return false;
    first = false;
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null && !inFhirOrder(v)) return false;
  }
  return true;
}

function prepareProblem(problem: Problem, pretty: boolean): PreparedResponse {
  return {
    status: problem.status,
    headers: { ...problem.headers, 'Content-Type': CONTENT_TYPE.fhir },
    body: JSON.stringify(toOperationOutcome(problem), null, pretty ? 2 : undefined),
  };
}

export function sendProblem(res: Response, problem: Problem, pretty = false): void {
  sendPrepared(res, prepareProblem(problem, pretty));
}
