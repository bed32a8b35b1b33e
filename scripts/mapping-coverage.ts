// `npm run coverage:mappings`: how much of Volven 7448 (dose forms), 7449 (package types) and 7452 (package
// units) the ConceptMaps cover, and of the codes the demo FEST extract uses, written between the coverage
// markers of mappings/README.md. `--check` only compares (exit 1 when the README is out of date).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFestRecords } from '../src/eprescription/fest-memory.ts';
import { DEMO_FEST_FILE } from '../src/registries/fest/demo-file.ts';
import { festCodes, mappingCoverageRows } from '../src/eprescription/code-coverage.ts';
import { coverageMarkdown } from '../src/terminology/coverage.ts';
import { getTerminology } from '../src/terminology/index.ts';

const README = fileURLToPath(new URL('../mappings/README.md', import.meta.url));
const START = '<!-- coverage:start (npm run coverage:mappings) -->';
const END = '<!-- coverage:end -->';

const rows = mappingCoverageRows(getTerminology(), festCodes(await readFestRecords(DEMO_FEST_FILE)));
const text = readFileSync(README, 'utf8');
const at = text.indexOf(START);
const end = text.indexOf(END);
if (at < 0 || end < at) throw new Error(`mappings/README.md has no ${START} ... ${END} section`);
const next = `${text.slice(0, at + START.length)}\n${coverageMarkdown(rows)}${text.slice(end)}`;
if (process.argv.includes('--check')) {
  if (next !== text) {
    process.stderr.write('mappings/README.md: the coverage figures are out of date; run npm run coverage:mappings\n');
    process.exit(1);
  }
} else {
  writeFileSync(README, next);
  process.stdout.write(coverageMarkdown(rows));
}
