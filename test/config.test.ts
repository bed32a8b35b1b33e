import { describe, expect, it } from 'vitest';
import { ConfigError, HELSEID_DEFAULT_SCOPE, loadConfig } from '../src/config.ts';
import { PRODUCTION_ENV } from './support/production-env.ts';

/** An arc as an operator would register it (made up for the tests). */
const PRODUCTION_OID = PRODUCTION_ENV.HELSEBRO_OID!;

describe('configuration', () => {
  it('defaults to the embedded demo on port 8080', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ mode: 'demo', port: 8080, databaseUrl: undefined, summarySourceTimeoutMs: 2000 });
    expect(c.dataDir.endsWith('/data')).toBe(true);
  });

  it('parses values into types', () => {
    const c = loadConfig({ PORT: '9090', DATABASE_URL: 'postgres://u@localhost:5432/db', SUMMARY_SOURCE_TIMEOUT_MS: '500' });
    expect(c.port).toBe(9090);
    expect(c.databaseUrl).toBe('postgres://u@localhost:5432/db');
    expect(c.summarySourceTimeoutMs).toBe(500);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  it('fails fast naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    } catch (e) {
      expect((e as Error).message).toMatch(/PORT/);
      expect((e as Error).message).toMatch(/LOG_LEVEL/);
    }
  });

  it('refuses production mode without the auth settings', () => {
    expect(() => loadConfig({ HELSEBRO_MODE: 'production' })).toThrow(/AUTH_JWKS_URL.*required[\s\S]*AUTH_ISSUER[\s\S]*AUTH_AUDIENCE/);
    expect(loadConfig(PRODUCTION_ENV).mode).toBe('production');
  });

  it.each(['HELSEID_CLIENT_ID', 'HELSEID_CLIENT_JWK', 'HELSEID_VIEW_AUDIENCE', 'PUBLIC_BASE_URL'])('refuses production mode without %s (the view sign-in)', (key) => {
    const env: Record<string, string> = { ...PRODUCTION_ENV };
    delete env[key];
    expect(() => loadConfig(env)).toThrow(new RegExp(`${key}: is required when HELSEBRO_MODE=production`));
  });

  it('reads the HelseID sign-in settings, with the identity scopes by default and session timeouts', () => {
    const c = loadConfig(PRODUCTION_ENV);
    expect(c.helseid).toMatchObject({ clientId: 'helsebro-view', viewAudience: 'nhn:helsebro/view', scope: HELSEID_DEFAULT_SCOPE });
    expect(c.helseid?.clientJwk).toMatchObject({ kty: 'EC', kid: 'helsebro-test' });
    expect(c.viewSession).toEqual({ idleSec: 900, maxSec: 28_800 });
    expect(loadConfig({ VIEW_SESSION_IDLE_SEC: '60', VIEW_SESSION_MAX_SEC: '3600' }).viewSession).toEqual({ idleSec: 60, maxSec: 3600 });
    expect(loadConfig({}).helseid).toBeUndefined();
  });

  it('refuses a view audience equal to the API audience, a public key or junk as the client key, and bad scopes', () => {
    expect(() => loadConfig({ ...PRODUCTION_ENV, HELSEID_VIEW_AUDIENCE: PRODUCTION_ENV.AUTH_AUDIENCE! })).toThrow(/HELSEID_VIEW_AUDIENCE: must differ from AUTH_AUDIENCE/);
    const publicOnly = JSON.parse(PRODUCTION_ENV.HELSEID_CLIENT_JWK!) as Record<string, unknown>;
    delete publicOnly.d;
    for (const jwk of [JSON.stringify(publicOnly), 'not json', '[1]', '{"kty":"oct","d":"x"}', '<jwk/>']) {
      expect(() => loadConfig({ ...PRODUCTION_ENV, HELSEID_CLIENT_JWK: jwk }), jwk).toThrow(/HELSEID_CLIENT_JWK: must be a private JWK/);
    }
    expect(() => loadConfig({ ...PRODUCTION_ENV, HELSEID_SCOPE: 'profile\nopenid' })).toThrow(/HELSEID_SCOPE/);
    expect(() => loadConfig({ VIEW_SESSION_IDLE_SEC: '0' })).toThrow(/VIEW_SESSION_IDLE_SEC/);
  });

  it('refuses production mode while the OID arc is the 2.999 placeholder', () => {
    const prod: Record<string, string> = { ...PRODUCTION_ENV };
    delete prod.HELSEBRO_OID;
    expect(() => loadConfig(prod)).toThrow(/HELSEBRO_OID: is the 2\.999 placeholder arc/);
    expect(() => loadConfig({ ...prod, HELSEBRO_OID: '2.999.1.2' })).toThrow(/HELSEBRO_OID/);
    expect(loadConfig({ ...prod, HELSEBRO_OID: PRODUCTION_OID }).helsebroOid).toBe(PRODUCTION_OID);
    // Demo mode keeps the placeholder default.
    expect(loadConfig({}).helsebroOid).toBe('2.999.47');
  });
});
