// `npm start`: serve the API (and, in demo mode, the demo population) until SIGINT/SIGTERM.
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';
import { startupBanner } from './banner.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`helsebro: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const t0 = performance.now();
  const running = await startServer({ config, log });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  log.info({ url: running.url, store: running.db.engine, mode: config.mode, startupSeconds: Number(seconds) }, 'ready');
  process.stdout.write(startupBanner({ url: running.url, mode: config.mode, engine: running.db.engine, seconds }));
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`helsebro: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
