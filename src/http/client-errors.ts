// Requests Node's HTTP parser refuses before express ever sees them (a malformed request line or header,
// headers over the size limit, a bad Content-Length or chunk) still get an OperationOutcome like every other
// refusal, instead of a bare status line. And requests the client abandons while sending are told apart from
// failures of ours.
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { problem, toOperationOutcome } from '../fhir/outcomes.ts';

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const diagnostics =
      status === 431 ? 'Request headers are larger than this server accepts' : status === 408 ? 'The request took too long to arrive' : 'Malformed HTTP request';
    const body = JSON.stringify(toOperationOutcome(problem(status, status === 408 ? 'timeout' : 'invalid', diagnostics)));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/fhir+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n' +
        body,
    );
  });
}

/**
 * The client closed the connection before its request had arrived: raw-body's "request aborted" (type
 * request.aborted) or Node's own reset of the request stream ("aborted", ECONNRESET). Both carry network
 * error codes a database driver raises too (ECONNABORTED, ECONNRESET), so they are recognised by what
 * only the HTTP side sets, and must be asked about before any store-outage check. Nothing failed here,
 * and no answer can reach the client.
 */
export function isClientAbort(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { type?: unknown; code?: unknown; message?: unknown };
  return e.type === 'request.aborted' || (e.code === 'ECONNRESET' && e.message === 'aborted');
}

/** What a log line says about an abandoned request: how much of the body came, never any of it. */
export function abortDetails(err: unknown): { received?: number; expected?: number } {
  const e = err as { received?: unknown; expected?: unknown };
  return {
    ...(typeof e.received === 'number' ? { received: e.received } : {}),
    ...(typeof e.expected === 'number' ? { expected: e.expected } : {}),
  };
}
