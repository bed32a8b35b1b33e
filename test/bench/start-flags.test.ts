import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverStartFlags, startFlags } from '../../bench/lib/start-flags.ts';

describe("the bench server's start flags", () => {
  it('are the options between node and the entry script, relative paths made absolute', () => {
    expect(startFlags('node --max-semi-space-size=32 --import ./bin/compile-cache.js src/main.ts', '/repo')).toEqual([
      '--max-semi-space-size=32',
      '--import',
      '/repo/bin/compile-cache.js',
    ]);
    expect(startFlags('node src/main.ts', '/repo')).toEqual([]);
  });

  it('refuse a start script that is not one plain node command', () => {
    expect(() => startFlags('tsx src/main.ts', '/repo')).toThrow(/not one plain node command/);
    expect(() => startFlags('node a.js && node b.js', '/repo')).toThrow(/not one plain node command/);
    expect(() => startFlags('node', '/repo')).toThrow(/not one plain node command/);
  });

  it("are this repository's npm start: the compile cache and a capped young generation", () => {
    const root = resolve(import.meta.dirname, '../..');
    const flags = serverStartFlags(root);
    expect(flags).toContain('--max-semi-space-size=32');
    expect(flags).toContain(resolve(root, 'bin/compile-cache.js'));
  });
});
