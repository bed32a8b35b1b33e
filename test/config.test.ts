import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

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
    expect(
      loadConfig({
        HELSEBRO_MODE: 'production',
        AUTH_JWKS_URL: 'https://helseid-sts.nhn.no/.well-known/openid-configuration/jwks',
        AUTH_ISSUER: 'https://helseid-sts.nhn.no',
        AUTH_AUDIENCE: 'nhn:helsebro',
        PUBLIC_BASE_URL: 'https://helsebro.nhn.no',
      }).mode,
    ).toBe('production');
  });

  it('refuses production mode without PUBLIC_BASE_URL, so links are never built from the Host header', () => {
    const auth = { AUTH_JWKS_URL: 'https://helseid-sts.nhn.no/jwks', AUTH_ISSUER: 'https://helseid-sts.nhn.no', AUTH_AUDIENCE: 'nhn:helsebro' };
    expect(() => loadConfig({ HELSEBRO_MODE: 'production', ...auth })).toThrow(/PUBLIC_BASE_URL: is required/);
    expect(loadConfig({ HELSEBRO_MODE: 'production', ...auth, PUBLIC_BASE_URL: 'https://helsebro.nhn.no/' }).publicBaseUrl).toBe('https://helsebro.nhn.no');
  });
});
