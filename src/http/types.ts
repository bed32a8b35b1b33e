// The contract between the FHIR routing layer and the handlers: handlers receive a parsed request and a
// context, and return a response or a Problem. They never touch express objects.
import type { IncomingHttpHeaders } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { AccessDecision, AccessTarget, PatientFacts } from '../auth/access-rules.ts';
import type { Principal } from '../auth/principal.ts';
import type { ScopeNeed } from '../auth/scopes.ts';
import type { AuditAction } from '../audit/build.ts';
import type { Config } from '../config.ts';
import type { Problem } from '../fhir/outcomes.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';

/** Response language: Norwegian (bokmål) by default, English on request (Accept-Language). */
export type { Lang } from '../sources/source.ts';
import type { Lang } from '../sources/source.ts';

export interface FhirRequest {
  method: string;
  /** Path parameters from the route pattern (`:id`). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON for JSON bodies, text for XML bodies, URLSearchParams for forms, undefined when there is no body. */
  body: unknown;
  /** `json` or `xml`, when a body was sent. */
  bodyKind: BodyKind | undefined;
  headers: IncomingHttpHeaders;
  /** Absolute base of the FHIR API, e.g. `http://localhost:8080/fhir`. */
  baseUrl: string;
  lang: Lang;
  requestId: string;
}

export type FhirResponse =
  | { status: number; resource: Resource; headers?: Record<string, string> }
  | { status: number; body: string | Uint8Array; contentType: string; headers?: Record<string, string> };

export type HandlerResult = FhirResponse | Problem;

/** What a handler tells the audit trail about the request it served (filled as it learns it). */
export interface AuditNotes {
  patient?: { id?: string | undefined; fnr?: string | undefined } | undefined;
  resourceId?: string | undefined;
  /** Access-rule codes that withheld content from the response. */
  withheld?: string[] | undefined;
  /** Set by handlers that wrote their AuditEvent inside their own write transaction. */
  recorded?: boolean | undefined;
}

/** Everything a handler may use; the app builds one per request. */
export interface RouteContext {
  db: Db;
  config: Config;
  log: Logger;
  /** The authenticated caller; undefined only on public routes. */
  principal: Principal | undefined;
  audit: AuditNotes;
  /** The access-rule facts about a patient (reservations, restrictions) from the national sources. */
  patientFacts(patient: { id: string; fnr: string }): Promise<PatientFacts>;
  /** Runs the access rules for the caller (accessProblem turns a deny into the 403 to return). */
  decide(patient: PatientFacts | undefined, target: AccessTarget): AccessDecision;
}

export type Handler = (req: FhirRequest, ctx: RouteContext) => Promise<HandlerResult>;

export type BodyKind = 'json' | 'xml' | 'form';
export type Produces = 'fhir' | 'xml' | 'html' | 'document';

export type Interaction = 'read' | 'search-type' | 'create' | 'update' | 'delete' | 'operation';

export interface SearchParamDoc {
  name: string;
  type: 'token' | 'reference' | 'string' | 'date' | 'number' | 'special';
  documentation: string;
}

/**
 * Who may call a route. `public`: anyone (metadata). Otherwise a valid token whose scopes grant `scope`;
 * `audit` names the action recorded as an AuditEvent for every call (routes touching personal data).
 */
export type RouteAccess = 'public' | { scope: ScopeNeed; audit: AuditAction | false };

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to /fhir, with `:name` parameters, e.g. `/Patient/:id/$summary`. */
  path: string;
  resourceType: string;
  interaction: Interaction;
  /** For operations: the name without `$`, and whether it is invoked on an instance or the type. */
  operation?: { name: string; level: 'instance' | 'type'; definition?: string };
  /** Request bodies this route takes (omit for none). */
  accepts?: BodyKind[];
  produces?: Produces;
  searchParams?: SearchParamDoc[];
  documentation: string;
  access: RouteAccess;
  handler: Handler;
}
