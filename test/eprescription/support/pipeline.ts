// A store prepared for conversions (the demo FEST extract and the demo population loaded, both idempotent),
// the pipeline's dependencies over it, and the official sample M1s (bare and inside M9.4).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoPatients } from '../../../src/demo/population.ts';
import type { PipelineDeps } from '../../../src/eprescription/pipeline.ts';
import { storePipelineDeps } from '../../../src/eprescription/service.ts';
import { loadDemoFest } from '../../../src/registries/fest/ingest.ts';
import type { Db } from '../../../src/store/db.ts';
import { upsertPatient } from '../../../src/store/patients.ts';
import { documentPayload, parseMsgHead } from '../../../src/xml/msghead.ts';
import { getTestDb, type Engine, openIsolatedDb } from '../../support/db.ts';

export const TEST_OID = '2.999.47';
export const TEST_OPERATOR = { name: 'Norsk helsenett SF (Helsebro test)', orgnr: '994598759' };

/**
 * A store with the demo FEST catalogue and population. `isolated`: a store of its own, for a test whose
 * outcomes depend on FEST holding exactly the demo catalogue; the worker's shared store also holds what other
 * files loaded (test/fixtures/fest/prefixed-m30.xml gives varenummer 026721, an official M1's Livostin, to a
 * paracetamol mixture).
 */
export async function preparedDb(engine: Engine, opts: { isolated?: boolean } = {}): Promise<Db> {
  const db = opts.isolated ? await openIsolatedDb(engine) : await getTestDb(engine);
  await loadDemoFest(db);
  await db.tx(async (q) => {
    for (const p of demoPatients(0)) await upsertPatient(q, p);
  });
  return db;
}

export const depsFor = (db: Db): PipelineDeps => storePipelineDeps(db, { mode: 'demo', helsebroOid: TEST_OID, operator: TEST_OPERATOR }, 'test');

export const FIXTURES = fileURLToPath(new URL('../../fixtures/m1/', import.meta.url));

export function walk(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export const fixture = (folder: string, file: string): Buffer => readFileSync(`${FIXTURES}${folder}/${file}`);
export const fixtureNames = (folder: string): string[] => readdirSync(`${FIXTURES}${folder}`).filter((f) => f.endsWith('.xml')).sort();

const isM1File = (path: string): boolean => /^(ER-)?M1(?![0-9.])[^/]*\.xml$/i.test(path.split('/').pop() ?? '');
const isM94File = (path: string): boolean => /^M94 [^/]*\.xml$/i.test(path.split('/').pop() ?? '');

/** Every official M1: bare files and the M1s M9.4 carries base64-encoded, from the fixture copies of the official samples. */
export function officialM1s(): { label: string; bytes: Buffer }[] {
  const out: { label: string; bytes: Buffer }[] = [];
  for (const file of walk(`${FIXTURES}official`)) {
    if (isM1File(file)) out.push({ label: file, bytes: readFileSync(file) });
    if (isM94File(file)) {
      const head = parseMsgHead(readFileSync(file), { expectType: 'ERM94' });
      if (!head.ok) throw new Error(`${file}: ${JSON.stringify(head.problem.issues)}`);
      head.value.head.documents.forEach((d, i) => {
        const p = documentPayload(d);
        if (p.ok && p.value.kind === 'base64') out.push({ label: `${file}#${i}`, bytes: p.value.bytes });
      });
    }
  }
  return out;
}
