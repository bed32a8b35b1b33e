// The Node flags `npm start` gives the server, read from package.json's start script, so that the bench's
// server process starts exactly as the product does (the compile cache, the young generation's size) and the
// two cannot drift apart.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The options between `node` and the entry script of a start script such as
 * `node --max-semi-space-size=32 --import ./bin/compile-cache.js src/main.ts`, with relative paths made
 * absolute against `root`. Anything other than one plain `node` command is refused rather than guessed at.
 */
export function startFlags(script: string, root: string): string[] {
  const words = script.trim().split(/\s+/);
  if (words[0] !== 'node' || words.length < 2 || words.some((w) => /[;&|<>$`'"]/.test(w))) {
    throw new Error(`the start script is not one plain node command: ${script}`);
  }
  const flags = words.slice(1, -1);
  return flags.map((w) => (w.startsWith('./') ? resolve(root, w) : w));
}

/** The flags of this repository's own `npm start`. */
export function serverStartFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  if (!pkg.scripts?.start) throw new Error('package.json has no start script');
  return startFlags(pkg.scripts.start, root);
}
