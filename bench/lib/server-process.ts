// Starts bench/serve.ts in a child process and talks to it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServeMessage, ServeRequest } from '../serve.ts';
import { serverStartFlags } from './start-flags.ts';

const SERVE = fileURLToPath(new URL('../serve.ts', import.meta.url));
// Started as `npm start` starts the server: its Node flags (the compile cache, the young generation's size).
const START_FLAGS = serverStartFlags(fileURLToPath(new URL('../../', import.meta.url)));

export interface BenchServerOptions {
  store: 'pglite' | 'postgres';
  /** PostgreSQL connection string and schema (store postgres). */
  pgUrl?: string;
  pgSchema?: string;
  /** Data dir for the demo issuer's key and PGlite's files. */
  dataDir: string;
  /** GET paths (under /fhir) the baseline app answers with precomputed bytes. */
  precompute?: string[];
  logFile?: string;
  env?: Record<string, string>;
}

export interface BenchServer {
  pid: number;
  url: string;
  baselineUrl: string;
  token: string;
  engine: string;
  precomputed: string[];
  memory(): Promise<Omit<Extract<ServeMessage, { type: 'memory' }>, 'type'>>;
  tokenFor(scope: string, client?: string): Promise<string>;
  /** CPU-profiles the server while `during` runs; the profile (V8 .cpuprofile JSON) goes to `file`. */
  profile<T>(file: string, during: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export async function startBenchServer(opts: BenchServerOptions): Promise<BenchServer> {
  const child = fork(SERVE, [], {
    execPath: process.execPath,
    execArgv: START_FLAGS,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_STORE: opts.store,
      BENCH_DATA_DIR: opts.dataDir,
      BENCH_PRECOMPUTE: JSON.stringify(opts.precompute ?? []),
      ...(opts.pgUrl ? { BENCH_PG_URL: opts.pgUrl } : {}),
      ...(opts.pgSchema ? { BENCH_PG_SCHEMA: opts.pgSchema } : {}),
      ...(opts.logFile ? { BENCH_LOG_FILE: opts.logFile } : {}),
      ...opts.env,
    },
  });
  const ready = await new Promise<Extract<ServeMessage, { type: 'ready' }>>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`bench server exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.on('message', (m: ServeMessage) => {
      if (m.type === 'ready') {
        child.off('exit', onExit);
        resolve(m);
      } else if (m.type === 'failed') {
        child.off('exit', onExit);
        reject(new Error(`bench server failed to start: ${m.message}`));
      }
    });
  });
  let nextId = 0;
  const ask = <T extends ServeMessage['type']>(req: ServeRequest, type: T, id?: number): Promise<Extract<ServeMessage, { type: T }>> =>
    new Promise((resolve) => {
      const on = (m: ServeMessage): void => {
        if (m.type === type && (id === undefined || (m as { id?: number }).id === id)) {
          child.off('message', on);
          resolve(m as Extract<ServeMessage, { type: T }>);
        }
      };
      child.on('message', on);
      child.send(req);
    });
  return {
    pid: child.pid!,
    url: ready.url,
    baselineUrl: ready.baselineUrl,
    token: ready.token,
    engine: ready.engine,
    precomputed: ready.precomputed,
    memory: async () => {
      const { type: _type, ...m } = await ask({ type: 'memory' }, 'memory');
      return m;
    },
    tokenFor: async (scope, client) => {
      const id = ++nextId;
      return (await ask({ type: 'token', scope, id, ...(client ? { client } : {}) }, 'token', id)).token;
    },
    profile: async (file, during) => {
      child.send({ type: 'profile-start' } satisfies ServeRequest);
      const result = await during();
      await ask({ type: 'profile-stop', file }, 'profile');
      return result;
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: 'stop' } satisfies ServeRequest);
    else child.kill('SIGTERM');
  });
}
