// Requests Node's HTTP parser refuses before express ever sees them (a malformed request line or header,
// headers over the size limit, a bad Content-Length or chunk) still get an OperationOutcome like every other
// refusal, instead of a bare status line.
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
