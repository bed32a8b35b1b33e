// The contract between the FHIR routing layer and the handlers: handlers receive a parsed request and a
// context, and return a response or a Problem. They never touch express objects.
import type { IncomingHttpHeaders } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { AccessDecision, AccessOutcome, AccessTarget, DataSource, PatientFacts } from '../auth/access-rules.ts';
import type { Principal } from '../auth/principal.ts';
import type { Role } from '../auth/roles.ts';
import type { ScopeNeed } from '../auth/scopes.ts';
import type { AuditAction } from '../audit/build.ts';
import type { Config } from '../config.ts';
import type { Problem } from '../fhir/outcomes.ts';
import type { Logger } from '../log.ts';
import type { ReseptformidlerenSource } from '../sources/reseptformidleren/adapter.ts';
import type { Db } from '../store/db.ts';
import type { PersonNumbers } from './person-numbers.ts';

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
  | {
      status: number;
      resource: Resource;
      headers?: Record<string, string>;
      /**
       * The handler built every resource in it with resourceType first (as the summary assembler does), so
       * the response need not scan it for resources read back from jsonb in jsonb's key order.
       */
      inFhirOrder?: true;
    }
  | { status: number; body: string | Uint8Array; contentType: string; headers?: Record<string, string> };

export type HandlerResult = FhirResponse | Problem;

/** What a handler tells the audit trail about the request it served (filled as it learns it). */
export interface AuditNotes {
  patient?: { id?: string | undefined; fnr?: string | undefined } | undefined;
  /** A patient Helsebro knows by no Norwegian key: an EU patient, by the identifier their prescription names. */
  foreignPatient?: { system?: string | undefined; value: string } | undefined;
  /** The prescription the request concerns (a dispensation's, or an M10's, refused or not): `MedicationRequest/{id}`. */
  prescription?: string | undefined;
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
  /** The person numbers patient ids stood for, shared by the app's requests (see person-numbers.ts). */
  personNumbers?: PersonNumbers | undefined;
  /** Reseptformidleren, asked for a Norwegian prescription's state (built from the configuration when absent). */
  prescriptionChain?: ReseptformidlerenSource | undefined;
}

export type BodyKind = 'json' | 'xml' | 'form';
export type Produces = 'fhir' | 'xml' | 'html' | 'document';

export type Interaction = 'read' | 'search-type' | 'create' | 'update' | 'delete' | 'operation';

export interface SearchParamDoc {
  name: string;
  type: 'token' | 'reference' | 'string' | 'date' | 'number' | 'special';
  documentation: string;
}

/** A patient as the access decision knows it: the fødselsnummer (or D-nummer), and the Helsebro id when stored. */
export interface PatientRef {
  id?: string | undefined;
  fnr: string;
}

/**
 * What a route's patient locator found: the patient the request is about (undefined when it names no
 * single patient, e.g. an auditor listing the whole log, or names one Helsebro does not hold) and what it
 * loaded on the way (the stored resource, the parsed body), so the handler need not load it again.
 */
export interface Found<T> {
  patient: PatientRef | undefined;
  loaded: T;
}

/** How a route's patient is found; `from` is what the docs and the generated access matrix read. */
export type PatientFrom =
  /** `:id` in the path is the Patient's id. */
  | 'path-id'
  /** A search or operation parameter (query or form): `patient`, `patient:identifier` or `identifier`. */
  | 'identifier'
  /** A Parameters (or form) body naming the patient by identifier. */
  | 'parameters-body'
  /** A message in the body (M1, M10, MPD, eHDSI CDA) whose prescription or subject names the patient. */
  | 'message-body'
  /** The stored resource `:id` names: its own patient, loaded before the decision. */
  | 'stored'
  /** The caller themself when the request names no one (a citizen's own audit log). */
  | 'caller'
  /** The route touches no person's data (terminology, outbox counts). */
  | 'none';

export interface PatientLocator<T> {
  from: PatientFrom;
  /** The parameter, body kind or stored type, for the docs and the access matrix test (e.g. `patient`, `m10`, `MedicationDispense`). */
  via?: string;
  find(req: FhirRequest, ctx: RouteContext): Promise<Found<T> | Problem>;
}

declare const decided: unique symbol;

/**
 * The router's decision, handed to the handler: only the router makes one (src/http/decide.ts), after
 * authentication, patient resolution and the access rules, so a handler cannot run without it. `decision`
 * is allow or withhold, never deny.
 */
export interface Decided<T> {
  readonly [decided]: true;
  readonly principal: Principal;
  readonly patient: PatientRef | undefined;
  readonly facts: PatientFacts | undefined;
  readonly decision: AccessDecision;
  readonly loaded: T;
}

/**
 * A protected route's declaration (see src/http/README.md): who it admits, the scope it needs, how its
 * patient is found, its own rules beyond the common ones, and the AuditEvent action of every call.
 */
export interface Access<T> {
  admits: readonly [Role, ...Role[]];
  scope: ScopeNeed;
  patient: PatientLocator<T>;
  /** AuditEvent action recorded for every call; false only for routes that touch no person's data. */
  audit: AuditAction | false;
  /** The data source the route serves (restriction rules key on it). */
  source?: DataSource | undefined;
  /** Route-specific rules (access-rules.ts), run with the common ones on what the locator loaded. */
  rules?: readonly ((who: Principal, found: Found<T>, target: AccessTarget) => AccessOutcome[])[] | undefined;
}

interface RouteShape {
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
}

/** Anyone may call it (the CapabilityStatement). */
export interface PublicRoute extends RouteShape {
  access: 'public';
  handler: (req: FhirRequest, ctx: RouteContext) => Promise<HandlerResult>;
}

export interface ProtectedRoute<T> extends RouteShape {
  access: Access<T>;
  handler: (req: FhirRequest, ctx: RouteContext, decided: Decided<T>) => Promise<HandlerResult>;
}

/**
 * One entry of the route table. There is no optional access field: a route is public or declares its
 * access, and a protected route's handler takes the router's decision. Declare protected routes with
 * `route()` so the locator's and the handler's types agree.
 */
export type RouteDef = PublicRoute | ProtectedRoute<unknown>;

/** Declares a protected route; checks that the handler takes what the locator loads. */
export function route<T>(def: ProtectedRoute<T>): RouteDef {
  // The table holds routes of different T; each was checked here, where T is still known.
  return def as unknown as ProtectedRoute<unknown>;
}
