// Starting and stopping the whole service: configuration -> store (+ migrations) -> demo data -> HTTP.
// main.ts calls this for `npm start`; tests call it to get a real server on a free port.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuth, type AuthSetup } from './auth/setup.ts';
import type { Config } from './config.ts';
import { seedDemo } from './demo/seed.ts';
import { buildSummarySources } from './summary/build-sources.ts';
import { seedDemoSummarySources } from './summary/seed.ts';
import { demoPrescriptionSeedStep } from './eprescription/demo.ts';
import { startOutboxWorkers } from './edispensation/outbox/start.ts';
import { outboxFigures } from './edispensation/outbox/repository.ts';
import { watchOutbox } from './metrics/registry.ts';
import { ensureAuditPartitions, keepAuditPartitionsAhead } from './audit/partitions.ts';
import { createApp } from './http/app.ts';
import { patientFactsFrom } from './http/patient-facts.ts';
import { folkeregisteretFor } from './registries/folkeregisteret/index.ts';
import { kjernejournalHttpClient, type KjernejournalClient } from './sources/kjernejournal/client.ts';
import { kjernejournalStoreClient } from './sources/kjernejournal/demo-store.ts';
import { answerClientErrors } from './http/client-errors.ts';
import { reseptformidlerenFor } from './sources/reseptformidleren/index.ts';
import { recordDemoM10, seedDemoReseptformidleren } from './sources/reseptformidleren/demo-store.ts';
import { fhirRoutes } from './http/routes.ts';
import type { Logger } from './log.ts';
import type { Db } from './store/db.ts';
import { openStore } from './store/open.ts';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface RunningServer {
  url: string;
  db: Db;
  auth: AuthSetup;
  server: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  log: Logger;
  /** Use an already-open store (tests share one per worker); otherwise open one from the config. */
  db?: Db;
}

export async function startServer({ config, log, db: given }: StartOptions): Promise<RunningServer> {
  // Auth first: production without its settings must refuse to start before touching anything else.
  const auth = await createAuth(config, { onReject: (reason) => log.info({ reason }, 'token refused') });
  const db = given ?? (await openStore(config));
  if (config.mode === 'demo') {
    await seedDemo(db, config.demoPopulationSize, [
      { name: 'summary-sources', run: seedDemoSummarySources },
      demoPrescriptionSeedStep(config),
      { name: 'prescription-chain', run: seedDemoReseptformidleren },
    ]);
  }
  if (!config.prescriptionChain.baseUrl && config.mode !== 'demo') {
    log.warn('RESEPTFORMIDLEREN_BASE_URL is not set: no Norwegian prescription is served abroad, since its dispensings remaining cannot be checked');
  }
  const prescriptionChain = reseptformidlerenFor(config, db, { log });
  const summarySources = buildSummarySources(config, db);
  const routes = fhirRoutes({ summarySources, version: VERSION });
  const patientFacts = patientFactsFrom({
    population: folkeregisteretFor(config, db),
    kjernejournal: kjernejournalStatusClient(config, db),
    timeoutMs: config.summarySourceTimeoutMs,
    log,
  });
  const app = createApp({ config, db, log, routes, version: VERSION, auth, patientFacts, view: { summarySources }, prescriptionChain });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // Once the store is open and the port is ours: the outbox workers also deliver what earlier runs left behind.
  // In the demo, the prescription chain's stand-in counts the M10s the outbox delivers, as RF would.
  const demoChain = config.mode === 'demo' && !config.prescriptionChain.baseUrl;
  const outbox = startOutboxWorkers(config, db, log, demoChain ? { demoM10Receiver: (payload) => recordDemoM10(db, payload) } : {});
  await ensureAuditPartitions(db);
  watchOutbox(() => outboxFigures(db));
  const auditPartitions = keepAuditPartitionsAhead(db, (err) => log.warn({ err: String(err) }, 'audit partitions not extended'));
  // Requests the HTTP parser refuses are answered with an OperationOutcome too.
  answerClientErrors(server);
  // Slow-loris protection and bounded keep-alive; requests themselves are short.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    db,
    auth,
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      auditPartitions.stop();
      await outbox.stop();
      if (!given) await db.close();
    },
  };
}

/** Kjernejournal for its status call, chosen as the summary's source is (live, demo store, or failing). */
function kjernejournalStatusClient(config: Config, db: Db): KjernejournalClient {
  const baseUrl = config.sources.kjernejournalBaseUrl;
  if (baseUrl) return kjernejournalHttpClient({ baseUrl });
  if (config.mode === 'demo') return kjernejournalStoreClient(db);
  const fail = async (): Promise<never> => {
    throw new Error('Kjernejournal is not configured (KJERNEJOURNAL_BASE_URL is not set)');
  };
  return { status: fail, read: fail };
}
