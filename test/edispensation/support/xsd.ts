// Validates M10 messages with a real XSD validator (xmllint from libxml2-utils) against the official
// eResept 2.5 schemas copied into schemas/kith/. A missing xmllint is a test failure, never a skip:
// CI installs it (.ci/run), and an unvalidated M10 proves nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCHEMA_DIR = fileURLToPath(new URL('../../../schemas/kith/', import.meta.url));
const ENTRY = `${SCHEMA_DIR}msghead-m10.xsd`;
const CATALOG = `${SCHEMA_DIR}catalog.xml`;

export interface XsdResult {
  valid: boolean;
  /** xmllint's diagnostics (stderr), for assertion messages. */
  output: string;
}

function requireXmllint(): void {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error('xmllint is not installed: run `apt-get install -y libxml2-utils` (CI installs it in .ci/run)');
  }
}

/** Validates a complete MsgHead document holding an M10 against MsgHead v1.2 + ER-M10-2013-10-08. */
export function validateM10(xml: string): XsdResult {
  requireXmllint();
  const run = spawnSync('xmllint', ['--nonet', '--noout', '--schema', ENTRY, '-'], {
    input: xml,
    env: { ...process.env, XML_CATALOG_FILES: CATALOG },
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  const output = `${run.stderr}`.trim();
  // Status 3/4 = invalid document; 5 = the schema itself failed to compile (a broken test setup).
  if (run.status === 5) throw new Error(`The XSD did not compile:\n${output}`);
  return { valid: run.status === 0 && /validates$/m.test(output), output };
}
