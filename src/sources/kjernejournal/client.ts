// How Helsebro talks to Kjernejournal's critical-information API. Two implementations share this
// interface: the live HTTP client below and the demo store (demo-store.ts). Both hand back the raw
// JSON the API would send; parsing and validation happen once, in the adapter, for both.
import { fetchJson, joinUrl, type HeaderProvider } from '../http.ts';
import type { KjReadType } from './types.ts';

export interface KjernejournalClient {
  /** POST /status {nin}: whether the patient has critical information, and their privacy settings. */
  status(nin: string, signal: AbortSignal): Promise<unknown>;
  /** GET /{type}: a searchset Bundle with the patient's records of that type. */
  read(type: KjReadType, nin: string, signal: AbortSignal): Promise<unknown>;
  /**
   * The status and every record type in one call, for a client that holds them in one place (the demo
   * store: one query instead of six). The live API has no such call; the adapter then asks per type.
   */
  readAll?(nin: string, signal: AbortSignal): Promise<KjAllAnswer>;
}

/** What readAll answers: the raw status and, per record type, the raw searchset, as the API would send them. */
export interface KjAllAnswer {
  status: unknown;
  records: Record<KjReadType, unknown>;
}

export interface KjHttpOptions {
  baseUrl: string;
  /** Authorization (HelseID) and the nhn-user-role / nhn-access-basis headers of the deployment. */
  headers?: HeaderProvider;
  /** Value of nhn-source-system. */
  sourceSystem?: string;
}

export function kjernejournalHttpClient(opts: KjHttpOptions): KjernejournalClient {
  const headersFor = async (nin: string): Promise<Record<string, string>> => ({
    'nhn-source-system': opts.sourceSystem ?? 'Helsebro',
    // The identity number travels in a header, never in the URL: URLs end up in access logs.
    'nhn-patient-nin': nin,
    ...(await opts.headers?.()),
  });
  return {
    async status(nin, signal) {
      return fetchJson(joinUrl(opts.baseUrl, 'status'), { method: 'POST', body: { nin }, headers: await headersFor(nin), signal });
    },
    async read(type, nin, signal) {
      return fetchJson(joinUrl(opts.baseUrl, type), { headers: await headersFor(nin), signal });
    },
  };
}
