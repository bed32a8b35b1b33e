// Errors are values. Every module that can refuse something returns (or throws) a Problem;
// the http layer is the only place that turns one into an HTTP status and an OperationOutcome body.
import type { Coding, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];
export type IssueSeverity = OperationOutcomeIssue['severity'];

export interface Problem {
  readonly status: number;
  readonly issues: OperationOutcomeIssue[];
  /** Extra response headers the status needs (WWW-Authenticate, Retry-After ...). */
  readonly headers?: Record<string, string>;
}

export interface IssueOptions {
  /** FHIRPath-ish location of the fault, e.g. `Patient.identifier` or `MsgHead.Document.RefDoc.Content.Resept`. */
  expression?: string[];
  /** Stable machine-readable codes (e.g. export-rule codes) carried in `issue.details.coding`. */
  details?: Coding[];
  severity?: IssueSeverity;
}

/** Throwable wrapper for code paths where returning is awkward (deep inside a parser, middleware). */
export class ProblemError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.issues.map((i) => i.diagnostics ?? i.code).join('; '));
    this.name = 'ProblemError';
    this.problem = problem;
  }
}

export function issue(code: IssueCode, diagnostics: string, opts: IssueOptions = {}): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity: opts.severity ?? 'error', code, diagnostics };
  if (opts.expression?.length) out.expression = opts.expression;
  if (opts.details?.length) out.details = { coding: opts.details, text: diagnostics };
  return out;
}

export function problem(status: number, code: IssueCode, diagnostics: string, opts: IssueOptions = {}): Problem {
  return { status, issues: [issue(code, diagnostics, opts)] };
}

export const badRequest = (diagnostics: string, opts?: IssueOptions): Problem => problem(400, 'invalid', diagnostics, opts);
export const unauthorized = (diagnostics = 'Authentication required'): Problem => ({
  ...problem(401, 'security', diagnostics),
  headers: { 'WWW-Authenticate': 'Bearer realm="helsebro"' },
});
export const invalidToken = (): Problem => ({
  ...problem(401, 'security', 'Invalid or expired access token'),
  headers: { 'WWW-Authenticate': 'Bearer realm="helsebro", error="invalid_token"' },
});
export const forbidden = (diagnostics: string, opts?: IssueOptions): Problem => problem(403, 'forbidden', diagnostics, opts);
export const notFound = (diagnostics: string, opts?: IssueOptions): Problem => problem(404, 'not-found', diagnostics, opts);
export const methodNotAllowed = (diagnostics: string): Problem => problem(405, 'not-supported', diagnostics);
export const notAcceptable = (diagnostics: string): Problem => problem(406, 'not-supported', diagnostics);
export const conflict = (diagnostics: string, opts?: IssueOptions): Problem => problem(409, 'conflict', diagnostics, opts);
export const payloadTooLarge = (diagnostics: string): Problem => problem(413, 'too-costly', diagnostics);
export const unsupportedMediaType = (diagnostics: string): Problem => problem(415, 'not-supported', diagnostics);
export const unprocessable = (diagnostics: string, opts?: IssueOptions): Problem =>
  problem(422, 'business-rule', diagnostics, opts);
export const tooManyRequests = (retryAfterSeconds: number, diagnostics = 'Too many requests; slow down'): Problem => ({
  ...problem(429, 'throttled', diagnostics),
  headers: { 'Retry-After': String(retryAfterSeconds) },
});
export const serverError = (): Problem =>
  problem(500, 'exception', 'Internal server error; the request id in the X-Request-Id header identifies it in the logs');
export const unavailable = (diagnostics: string): Problem => ({
  ...problem(503, 'transient', diagnostics),
  headers: { 'Retry-After': '5' },
});

export function toOperationOutcome(p: Pick<Problem, 'issues'>): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: p.issues };
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).status === 'number' &&
    Array.isArray((value as Problem).issues)
  );
}

/** Outcome of a pure step: a value plus non-fatal warnings, or a Problem. */
export type Result<T> =
  | { ok: true; value: T; warnings: OperationOutcomeIssue[] }
  | { ok: false; problem: Problem };

export const ok = <T>(value: T, warnings: OperationOutcomeIssue[] = []): Result<T> => ({ ok: true, value, warnings });
export const fail = <T = never>(p: Problem): Result<T> => ({ ok: false, problem: p });

export const warning = (code: IssueCode, diagnostics: string, opts: Omit<IssueOptions, 'severity'> = {}): OperationOutcomeIssue =>
  issue(code, diagnostics, { ...opts, severity: 'warning' });
