// A minimal HTTP/1.1 client over a raw socket: hostile cases must reach the server byte for byte, without a
// client library normalising the path (../, %2e%2e), refusing header values, or fixing the encoding.
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent, e.g. `/fhir/Patient/..%2F..%2Fetc%2Fpasswd?x=1`. */
  target: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Raw header lines appended as they are (for header-injection cases). */
  rawHeaderLines?: string[];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Header names in the order and case received, repeated names included. */
  headerNames: string[];
  body: Buffer;
  text: string;
}

export async function rawRequest(origin: string, req: RawRequest, timeoutMs = 20_000): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
  const headers: Record<string, string> = { host: `${hostname}:${port}`, connection: 'close', ...req.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')) {
    headers['content-length'] = String(body.length);
  }
  const head =
    `${req.method} ${req.target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    (req.rawHeaderLines ?? []).map((l) => `${l}\r\n`).join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${req.method} ${req.target.slice(0, 120)}`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(Buffer.from(head, 'latin1'));
      if (body) socket.write(body);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may answer and close before it has read a huge body; what it answered is what counts.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (chunks.length && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return;
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`incomplete HTTP response (${raw.length} bytes): ${raw.toString('latin1').slice(0, 200)}`);
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP status line: ${statusLine.slice(0, 100)}`);
  const headers: Record<string, string> = {};
  const headerNames: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    headerNames.push(name);
    headers[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = dechunk(body);
  return { status: Number(m[1]), headers, headerNames, body, text: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break;
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(out);
}
