// The contract between the FHIR routing layer and the handlers: handlers receive a parsed request and a
// context, and return a response or a Problem. They never touch express objects.
import type { IncomingHttpHeaders } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { Config } from '../config.ts';
import type { Problem } from '../fhir/outcomes.ts';
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';

export type Lang = 'nb' | 'en';

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
  | { status: number; body: string; contentType: string; headers?: Record<string, string> };

export type HandlerResult = FhirResponse | Problem;

/** Everything a handler may use; the app builds one per request. */
export interface RouteContext {
  db: Db;
  config: Config;
  log: Logger;
}

export type Handler = (req: FhirRequest, ctx: RouteContext) => Promise<HandlerResult>;

export type BodyKind = 'json' | 'xml' | 'form';
export type Produces = 'fhir' | 'xml' | 'html';

export type Interaction = 'read' | 'search-type' | 'create' | 'update' | 'delete' | 'operation';

export interface SearchParamDoc {
  name: string;
  type: 'token' | 'reference' | 'string' | 'date' | 'number' | 'special';
  documentation: string;
}

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
  handler: Handler;
}
