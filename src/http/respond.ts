// The one boundary where results and Problems become HTTP responses.
import type { Response } from 'express';
import { isProblem, toOperationOutcome, type Problem } from '../fhir/outcomes.ts';
import { CONTENT_TYPE } from './negotiate.ts';
import type { HandlerResult } from './types.ts';

export function sendResult(res: Response, result: HandlerResult, pretty: boolean): void {
  if (isProblem(result)) return sendProblem(res, result, pretty);
  for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
  res.status(result.status);
  if ('resource' in result) {
    res.setHeader('Content-Type', CONTENT_TYPE.fhir);
    // Most resources are in order already; a scan of them is far cheaper than stringify with a replacer.
    const ordered = result.inFhirOrder === true || inFhirOrder(result.resource);
    res.send(JSON.stringify(result.resource, ordered ? undefined : resourceTypeFirst, pretty ? 2 : undefined));
  } else {
    res.setHeader('Content-Type', result.contentType);
    res.send(typeof result.body === 'string' ? result.body : Buffer.from(result.body));
  }
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

export function sendProblem(res: Response, problem: Problem, pretty = false): void {
  for (const [k, v] of Object.entries(problem.headers ?? {})) res.setHeader(k, v);
  res.status(problem.status);
  res.setHeader('Content-Type', CONTENT_TYPE.fhir);
  res.send(JSON.stringify(toOperationOutcome(problem), null, pretty ? 2 : undefined));
}
