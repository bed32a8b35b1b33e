#!/usr/bin/env node
// Entry point for `npx helsebro ...`; the commands live in src/cli.ts (run by Node's type stripping). The
// compile cache goes on first, and src/cli.ts is imported dynamically: a static import would be loaded, and
// its types stripped, before this module's body runs.
import './compile-cache.js';

await import('../src/cli.ts');
