import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/auth/claims.ts';
import { DEMO_AUDIENCE, DEMO_ISSUER, loadDemoIssuer } from '../../src/auth/demo-issuer.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { runTokenCommand } from '../../src/auth/token-cli.ts';
import { createTokenVerifier } from '../../src/auth/verify.ts';
import { PERSONAS } from '../../src/demo/personas.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'helsebro-token-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTokenCommand(argv, { dataDir, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

async function verifyPrinted(stdout: string): Promise<Principal> {
  const issuer = await loadDemoIssuer(dataDir);
  const verify = createTokenVerifier({ jwks: issuer.jwks(), issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE });
  return (await verify(`Bearer ${stdout.trim()}`)) as Principal;
}

describe('npx helsebro token', () => {
  it('--hpr prints a clinician token, alone on stdout', async () => {
    const r = await run('--scope', 'user/Patient.rs user/AllergyIntolerance.rs', '--hpr', '9876543', '--org', '310000019');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(r.stderr).toContain('clinician token');
    expect(await verifyPrinted(r.stdout)).toMatchObject({ kind: 'clinician', hpr: '9876543', orgnr: '310000019' });
  });

  it('--patient takes a fødselsnummer or a persona key and prints a citizen token', async () => {
    const byKey = await run('--patient', 'addison', '--scope', 'patient/Patient.r patient/AuditEvent.rs');
    expect(byKey.code).toBe(0);
    expect(await verifyPrinted(byKey.stdout)).toMatchObject({ kind: 'citizen', fnr: PERSONAS.addison.fnr });
    const byFnr = await run('--patient', PERSONAS.ms.fnr, '--scope', 'patient/Patient.r');
    expect(await verifyPrinted(byFnr.stdout)).toMatchObject({ kind: 'citizen', fnr: PERSONAS.ms.fnr });
  });

  it('--client alone prints a system token', async () => {
    const r = await run('--client', 'ncp-no', '--scope', 'system/Patient.r system/MedicationRequest.rs');
    expect(r.code).toBe(0);
    const p = await verifyPrinted(r.stdout);
    expect(p).toMatchObject({ kind: 'system', clientId: 'ncp-no' });
    expect(p.scopes.map((s) => s.raw)).toEqual(['system/Patient.r', 'system/MedicationRequest.rs']);
  });

  it('--acting-for and --relation make a guardian token; --claims shows the claims on stderr', async () => {
    const r = await run('--patient', 'knee', '--acting-for', 'child', '--scope', 'patient/Patient.r', '--claims');
    expect(r.code).toBe(0);
    expect(decodeJwt(r.stdout.trim())[CLAIM.actingFor]).toBe(PERSONAS.child.fnr);
    expect(r.stderr).toContain(CLAIM.representation);
  });

  it('--ttl sets the lifetime', async () => {
    const r = await run('--client', 'x', '--scope', 'system/Patient.r', '--ttl', '120');
    const c = decodeJwt(r.stdout.trim());
    expect((c.exp ?? 0) - (c.iat ?? 0)).toBe(120);
  });

  it('refuses in production mode and writes no key', async () => {
    const prodDir = mkdtempSync(join(tmpdir(), 'helsebro-token-prod-'));
    let stderr = '';
    const code = await runTokenCommand(['--hpr', '9876543', '--scope', 'user/Patient.r'], {
      dataDir: prodDir,
      mode: 'production',
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
    });
    expect(code).toBe(2);
    expect(stderr).toContain('demo mode only');
    expect(existsSync(join(prodDir, 'demo-issuer'))).toBe(false);
    rmSync(prodDir, { recursive: true, force: true });
  });

  it('--help prints usage and succeeds', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: npx helsebro token');
  });

  it.each([
    [['--hpr', '9876543'], /--scope is required/],
    [['--scope', 'user/Patient.r'], /Say who/],
    [['--scope', 'user/Patient.r', '--hpr', '9876543', '--patient', 'addison'], /one of them/],
    [['--scope', 'system/Patient.r', '--hpr', '9876543'], /user\/ scopes/],
    [['--scope', 'user/Patient.r', '--hpr', '9876543', '--unknown'], /Unknown option/],
    [['--scope', 'user/Patient.r', '--hpr', '9876543', 'stray'], /positional/],
    [['--scope', 'user/Patient.r', '--hpr', '9876543', '--ttl', '1h'], /--ttl/],
    [['--scope', 'patient/Patient.r', '--patient', 'nobody'], /--patient/],
    [['--scope', 'patient/Patient.r', '--patient', 'knee', '--acting-for', 'child', '--relation', 'friend'], /--relation/],
  ])('usage error for %j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
