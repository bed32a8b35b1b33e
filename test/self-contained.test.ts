// The repository is self-contained: a fresh clone on a machine with nothing beside it must pass its own
// tests. This guard fails on any source, test, bench or script file that names a path outside the clone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FOLDERS = ['src', 'test', 'bench', 'scripts', 'bin'];
const CODE = /\.(ts|js|mjs|cjs|json|sh)$/;

/** Absolute machine paths (a system browser included), and the sibling reference folder of the workplace. */
const ABSOLUTE = [/\/wor[k]\//, /\.\.\/share[d]\b/, /\/home\/[a-z]/, /\/Users\/[A-Za-z]/, /\/usr\/bin\/chromium/];
/** A quoted relative path that climbs: resolved from the file's folder, it must stay inside the clone. */
const CLIMBING = /['"`]((?:\.\.\/)+[^'"`]*)['"`]/g;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = FOLDERS.flatMap((f) => walk(join(ROOT, f))).filter((f) => CODE.test(f));

/** Lines that name a path outside the clone, as `file:line: text`. */
export function outsidePaths(text: string, file: string): string[] {
  const folder = dirname(join(ROOT, file));
  const leaves = (line: string): boolean =>
    ABSOLUTE.some((re) => re.test(line)) || [...line.matchAll(CLIMBING)].some((m) => relative(ROOT, resolve(folder, m[1]!)).startsWith('..'));
  return text.split('\n').flatMap((line, i) => (leaves(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

describe('the repository is self-contained', () => {
  it('finds its files (the guard is not looking at nothing)', () => {
    expect(files.length).toBeGreaterThan(200);
    expect(files.some((f) => f.endsWith('src/main.ts'))).toBe(true);
  });

  it('no source, test, bench or script file names a path outside the clone', () => {
    // This file's own examples below are what the guard must refuse, so it is not scanned.
    const self = fileURLToPath(import.meta.url);
    const found = files.filter((f) => f !== self).flatMap((f) => outsidePaths(readFileSync(f, 'utf8'), relative(ROOT, f)));
    expect(found).toEqual([]);
  });

  it('recognises the paths it must refuse', () => {
    // Built from parts, so this file does not itself name the paths it refuses.
    const machine = ['', 'work', 'shared', 'reference', 'eu', 'cda', ''].join('/');
    const sibling = ['..', 'shared', 'reference', 'x.xml'].join('/');
    expect(outsidePaths(`const EU = '${machine}';`, 'x.ts')).toHaveLength(1);
    expect(outsidePaths(`readFileSync('${sibling}')`, 'x.ts')).toHaveLength(1);
    expect(outsidePaths("executablePath: '/usr/bin/chromium'", 'x.ts')).toHaveLength(1);
    expect(outsidePaths("new URL('../../../reference/x', import.meta.url)", 'test/a/x.ts')).toHaveLength(1);
    expect(outsidePaths("import { parseXml } from '../../../src/xml/parse.ts';", 'test/a/b/x.ts')).toEqual([]);
    expect(outsidePaths("new URL('../../fixtures/m1/', import.meta.url)", 'test/a/x.ts')).toEqual([]);
  });
});
