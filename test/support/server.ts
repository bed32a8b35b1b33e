// A real Helsebro HTTP server on a free port over the worker's shared test database, with its log
// lines captured so tests can assert on them.
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { getTestDb, type Engine } from './db.ts';

export interface TestServer extends RunningServer {
  config: Config;
  logLines: string[];
}

export async function startTestServer(engine: Engine, env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', HELSEBRO_DATA_DIR: '/tmp/helsebro-test-data', ...env });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const db = await getTestDb(engine);
  const running = await startServer({ config, log: createLogger(config.logLevel, sink), db });
  return { ...running, config, logLines };
}
