// A real Helsebro HTTP server on a free port over the worker's shared test database, with its log
// lines captured so tests can assert on them.
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import type { DemoTokenOptions } from '../../src/auth/demo-issuer.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { Db } from '../../src/store/db.ts';
import { getTestDb, type Engine } from './db.ts';

export interface TestServer extends RunningServer {
  config: Config;
  logLines: string[];
  /** A signed demo token (clinician by default: HPR 9144889, scopes as given). */
  token(opts?: Partial<DemoTokenOptions>): Promise<string>;
  /** fetch against the server with a bearer token for the given scopes (a clinician unless opts say otherwise). */
  fetchAs(scope: string, path: string, init?: RequestInit, opts?: Partial<DemoTokenOptions>): Promise<Response>;
}

export const DEMO_HPR = '9144889';

export async function startTestServer(engine: Engine, env: Record<string, string> = {}, opts: { db?: Db } = {}): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', HELSEBRO_DATA_DIR: '/tmp/helsebro-test-data', ...env });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const db = opts.db ?? (await getTestDb(engine));
  const running = await startServer({ config, log: createLogger(config.logLevel, sink), db });
  const issuer = running.auth.demoIssuer;
  const token = async (opts: Partial<DemoTokenOptions> = {}): Promise<string> => {
    if (!issuer) throw new Error('token() needs demo mode');
    const who = opts.patient || opts.client ? {} : { hpr: DEMO_HPR };
    return issuer.issueDemoToken({ scope: 'user/Patient.rs', ...who, ...opts });
  };
  const fetchAs = async (scope: string, path: string, init: RequestInit = {}, opts: Partial<DemoTokenOptions> = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await token({ scope, ...opts })}`);
    return fetch(`${running.url}${path}`, { ...init, headers });
  };
  return { ...running, config, logLines, token, fetchAs };
}
