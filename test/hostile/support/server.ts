// A real Helsebro server on its own freshly migrated store: hostile writes (imports, dispensations with
// injected content) land there and never in the worker's shared test database other suites rely on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { loadConfig, type Config } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { startServer, type RunningServer } from '../../../src/server.ts';
import type { Db } from '../../../src/store/db.ts';
import { openIsolatedDb, type Engine } from '../../support/db.ts';
import type { Credentials } from './corpus.ts';

export interface HostileServer extends RunningServer {
  config: Config;
  /** Log lines at error level (a handler that threw, an unhandled error). */
  errorLines: string[];
  /** The Authorization header value for a case's credentials, for a route whose working token kind is known. */
  authorization(c: Credentials, kind: TokenKind): Promise<string | undefined>;
}

export type TokenKind = 'clinician' | 'system';

const workerId = process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? '0';

export async function startHostileServer(engine: Engine): Promise<HostileServer> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    HELSEBRO_DATA_DIR: '/tmp/helsebro-test-data',
    // Hundreds of requests from one client in seconds: the limit would otherwise answer most of them.
    RATE_LIMIT_PER_MINUTE: '1000000',
  });
  const errorLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (/"level":"(error|fatal)"/.test(line)) errorLines.push(line);
      cb();
    },
  });
  const db = await openIsolatedDb(engine);
  const running = await startServer({ config, log: createLogger(config.logLevel, sink), db });
  const demo = running.auth.demoIssuer;
  if (!demo) throw new Error('the hostile suite needs demo mode');
  const issuer = demo;
  const trustedJwk = JSON.parse(readFileSync(join(config.dataDir, 'demo-issuer', 'signing-key.jwk.json'), 'utf8')) as JWK;
  const trustedKey = await importJWK(trustedJwk, 'ES256');
  const foreignKey = (await generateKeyPair('ES256')).privateKey;
  const tokens = new Map<string, string>();
  const issue = async (kind: TokenKind, extra: { now?: Date; ttlSec?: number } = {}): Promise<string> =>
    kind === 'clinician'
      ? issuer.issueDemoToken({ scope: 'user/*.cruds', hpr: '9144889', ...extra })
      : issuer.issueDemoToken({ scope: 'system/*.cruds', client: 'ncp-no', ...extra });
  const cached = async (key: string, make: () => Promise<string>): Promise<string> => {
    let t = tokens.get(key);
    if (!t) tokens.set(key, (t = await make()));
    return t;
  };
  const payloadOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

  async function authorization(c: Credentials, kind: TokenKind): Promise<string | undefined> {
    if (typeof c === 'object') return c.header;
    const good = await cached(kind, () => issue(kind));
    switch (c) {
      case 'none':
        return undefined;
      case 'route':
        return `Bearer ${good}`;
      case 'expired':
        return `Bearer ${await cached(`${kind}:expired`, () => issue(kind, { now: new Date(Date.now() - 3 * 3600_000), ttlSec: 600 }))}`;
      case 'foreign-key':
        return `Bearer ${await cached(`${kind}:foreign`, () => resign(payloadOf(good), foreignKey, issuer.kid))}`;
      case 'wrong-audience':
        return `Bearer ${await cached(`${kind}:aud`, () => resign({ ...payloadOf(good), aud: 'urn:some:other:api' }, trustedKey, issuer.kid))}`;
      case 'tampered': {
        // A valid signature over other claims: the payload is swapped for one with more scopes.
        const [h, , s] = good.split('.');
        const p = Buffer.from(JSON.stringify({ ...payloadOf(good), scope: 'system/*.cruds user/*.cruds' })).toString('base64url');
        return `Bearer ${h}.${p}.${s}`;
      }
      case 'alg-none': {
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const p = Buffer.from(JSON.stringify(payloadOf(good))).toString('base64url');
        return `Bearer ${h}.${p}.`;
      }
    }
  }

  return {
    ...running,
    config,
    errorLines,
    authorization,
    async close() {
      await running.close();
      await db.close();
    },
  };
}

async function resign(claims: Record<string, unknown>, key: CryptoKey | Uint8Array, kid: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
}
