import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { festIngestCommand } from '../../src/registries/fest/cli.ts';
import { engines, getTestDb } from '../support/db.ts';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe.each(engines)('npx helsebro ingest fest (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });
  const run = async (args: string[]) => {
    const out = capture();
    const err = capture();
    const code = await festIngestCommand(args, db, { stdout: out.stream, stderr: err.stream });
    return { code, out: out.text(), err: err.text() };
  };

  it('loads a file, reports counts and invalid entries, and exits 1 when entries were left out', async () => {
    const r = await run([new URL('../fixtures/fest/prefixed-m30.xml', import.meta.url).pathname, '--force']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FEST 2026-09-01T05:30:00: 4 records loaded \(1 merkevare, 1 pakning, 1 virkestoff, 1 virkestoff-med-styrke, 0 legemiddel-virkestoff\), 1 invalid/);
    expect(r.out).toContain('Varenr is required');
  });

  it('says so when the same file was loaded before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helsebro-fest-cli-'));
    const path = join(dir, 'fest.xml');
    writeFileSync(path, '<FEST xmlns="http://www.kith.no/xmlstds/eresept/m30/2014-12-01"><HentetDato>2026-01-02T00:00:00</HentetDato></FEST>');
    expect((await run([path])).code).toBe(0);
    const again = await run([path]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/was loaded before/);
  });

  it('exits 2 for usage errors, unreadable files and unacceptable files', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['a', 'b'])).err).toMatch(/usage/);
    const missing = await run(['/nonexistent/fest.xml']);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toMatch(/cannot read/);
    const dir = mkdtempSync(join(tmpdir(), 'helsebro-fest-cli-'));
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>');
    const refused = await run([bad]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/DOCTYPE/);
  });
});
