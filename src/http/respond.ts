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
    res.send(JSON.stringify(result.resource, null, pretty ? 2 : undefined));
  } else {
    res.setHeader('Content-Type', result.contentType);
    res.send(result.body);
  }
}

export function sendProblem(res: Response, problem: Problem, pretty = false): void {
  for (const [k, v] of Object.entries(problem.headers ?? {})) res.setHeader(k, v);
  res.status(problem.status);
  res.setHeader('Content-Type', CONTENT_TYPE.fhir);
  res.send(JSON.stringify(toOperationOutcome(problem), null, pretty ? 2 : undefined));
}
