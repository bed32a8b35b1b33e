// Helsebro in production mode signing in at the in-process HelseID (test/support/helseid-provider.ts).
// Helsebro's port is chosen first, because its public base URL is both its redirect URI at the provider
// and the `iss` an EPJ launches it with.
import { createServer } from 'node:net';
import { demoPatients } from '../../../src/demo/population.ts';
import { VIEW_SCOPES } from '../../../src/http/view/router.ts';
import { upsertPatient } from '../../../src/store/patients.ts';
import { seedDemoSummarySources } from '../../../src/summary/seed.ts';
import { getTestDb, type Engine } from '../../support/db.ts';
import { startHelseIdProvider, type HelseIdTestProvider } from '../../support/helseid-provider.ts';
import { startTestServer, type TestServer } from '../../support/server.ts';
import { PRODUCTION_ENV } from '../../support/production-env.ts';

export const API_AUDIENCE = 'nhn:helsebro';
export const VIEW_AUDIENCE = 'nhn:helsebro/view';

export interface HelseIdSetup {
  srv: TestServer;
  provider: HelseIdTestProvider;
  close(): Promise<void>;
}

/** A port held open until `release`, so that the provider, started meanwhile, cannot be given it too. */
async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  return { port, release: () => new Promise<void>((r) => s.close(() => r())) };
}

export async function startWithHelseId(engine: Engine, env: Record<string, string> = {}): Promise<HelseIdSetup> {
  // Production mode seeds nothing: the personas and their source records, as the national sources would hold them.
  const db = await getTestDb(engine);
  for (const p of demoPatients(0)) await upsertPatient(db, p);
  await seedDemoSummarySources(db);
  const { port, release } = await reservePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startHelseIdProvider({ helsebroBase: base, viewAudience: VIEW_AUDIENCE, viewScopes: VIEW_SCOPES });
  await release();
  const srv = await startTestServer(engine, {
    HELSEBRO_MODE: 'production',
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    AUTH_ISSUER: provider.issuer,
    AUTH_JWKS_URL: provider.jwksUri,
    AUTH_AUDIENCE: API_AUDIENCE,
    HELSEID_CLIENT_ID: provider.client.clientId,
    HELSEID_CLIENT_JWK: JSON.stringify(provider.client.privateJwk),
    HELSEID_VIEW_AUDIENCE: VIEW_AUDIENCE,
    HELSEBRO_OID: PRODUCTION_ENV.HELSEBRO_OID!,
    ...env,
  });
  return {
    srv,
    provider,
    async close() {
      await srv.close();
      await provider.close();
    },
  };
}
