// Loaded before any TypeScript (`node --import ./bin/compile-cache.js src/main.ts`, and first thing in
// bin/helsebro.js): turns on Node's on-disk compile cache. Node strips TypeScript types with a WebAssembly
// compiler that each thread loads for itself the first time it meets a .ts file, about 30 MB of resident
// memory per thread that stays for the thread's life. With the cache warm, the stripped code and its V8
// bytecode come from disk and the compiler is never loaded: in the server, and in every convert-m1 worker
// thread. Entries are keyed by Node version and source hash, so an edited file is simply compiled again.
//
// The cache lives inside the installation (node_modules/.cache, where build tools keep theirs). Where that is
// not writable Node reports a failure and everything runs as without the cache. NODE_COMPILE_CACHE set by
// the operator wins, and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  const dir = fileURLToPath(new URL('../node_modules/.cache/node-compile-cache', import.meta.url));
  // Worker threads and child processes read the variable when they start; this thread needs the call.
  process.env.NODE_COMPILE_CACHE = dir;
  enableCompileCache(dir);
}
