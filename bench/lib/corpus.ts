// The M1 corpus the conversion cases run over: the valid hand-made messages and the official samples.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const M1_FIXTURES = fileURLToPath(new URL('../../test/fixtures/m1/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : name.endsWith('.xml') ? [p] : [];
  });
}

export interface CorpusMessage {
  name: string;
  bytes: Buffer;
}

/** Valid M1 messages (test/fixtures/m1/valid and the official M1 samples; M94 downloads are left out). */
export function m1Corpus(): CorpusMessage[] {
  const valid = walk(join(M1_FIXTURES, 'valid'));
  const official = walk(join(M1_FIXTURES, 'official')).filter((p) => /\/M1 [^/]*\.xml$/.test(p));
  return [...valid, ...official].sort().map((p) => ({ name: p.slice(M1_FIXTURES.length), bytes: readFileSync(p) }));
}
