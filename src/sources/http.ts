// JSON (and, for the prescription chain, XML) over HTTP for the live source clients. An upstream can fail
// in three ways that matter to the caller: it is unreachable or answers with an error status
// (SourceUnavailableError), it answers with something that is not JSON or is too large to be a sane answer
// (MalformedSourceError), or it hangs (the caller's signal aborts). Upstream response text is never copied into messages: it may hold
// personal data and the messages reach logs and OperationOutcomes.
import { MalformedSourceError, SourceUnavailableError } from './source.ts';

export interface JsonRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  signal: AbortSignal;
  /** Largest response body accepted; larger answers are malformed. */
  maxBytes?: number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** Supplies per-request headers a deployment needs (HelseID access token, nhn-* headers). */
export type HeaderProvider = () => Promise<Record<string, string>> | Record<string, string>;

export async function fetchJson(url: string, req: JsonRequest): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/fhir+json, application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(req.body);
  }
  const text = await fetchText(url, { method: req.method ?? 'GET', headers, body, signal: req.signal, maxBytes: req.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedSourceError('upstream answer is not JSON');
  }
}

export interface XmlRequest {
  /** The XML document to send (a whole MsgHead message). */
  body: string;
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** Largest response body accepted; larger answers are malformed. */
  maxBytes: number;
}

/**
 * POSTs an XML document and answers with the text the upstream sent back. The text is not parsed here:
 * the caller reads it with the hardened XML reader (src/xml/), which refuses what is not XML.
 */
export function postXml(url: string, req: XmlRequest): Promise<string> {
  const headers: Record<string, string> = { accept: 'application/xml', 'content-type': 'application/xml; charset=utf-8', ...req.headers };
  return fetchText(url, { method: 'POST', headers, body: req.body, signal: req.signal, maxBytes: req.maxBytes });
}

async function fetchText(
  url: string,
  req: { method: 'GET' | 'POST'; headers: Record<string, string>; body: string | undefined; signal: AbortSignal; maxBytes: number },
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { method: req.method, headers: req.headers, body: req.body, signal: req.signal, redirect: 'error' });
  } catch (err) {
    if (req.signal.aborted) throw req.signal.reason ?? err;
    throw new SourceUnavailableError(`upstream not reachable (${errorCode(err)})`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new SourceUnavailableError(`upstream answered HTTP ${res.status}`);
  }
  return readLimited(res, req.maxBytes, req.signal);
}

async function readLimited(res: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new MalformedSourceError(`upstream answer larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new MalformedSourceError('upstream answer is not UTF-8');
    }
  };
  let total = 0;
  let text = '';
  for (;;) {
    let part: ReadableStreamReadResult<Uint8Array>;
    try {
      part = await reader.read();
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      throw new SourceUnavailableError('upstream connection broke off');
    }
    if (part.done) break;
    total += part.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new MalformedSourceError(`upstream answer larger than ${maxBytes} bytes`);
    }
    text += decode(part.value);
  }
  text += decode();
  return text;
}

function errorCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

/** Joins a configured base URL and a path without doubling or dropping the slash. */
export const joinUrl = (base: string, path: string): string => `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
