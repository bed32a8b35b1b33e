#!/usr/bin/env node
// Entry point for `npx helsebro ...`; the commands live in src/cli.ts (run by Node's type stripping).
import '../src/cli.ts';
