// XSD validation with libxml2 compiled to WebAssembly (xmllint-wasm): the same validator an NCP or the
// prescription chain runs, brought by `npm ci`, so no system xmllint is needed. Schemas are the official
// ones copied into schemas/ (see the README there); they are read once per test worker.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';

/**
 * `m10`: an M10 Utleveringsrapport inside MsgHead v1.2 (eResept 2.5, schemas/kith/).
 * `m97`, `m98`, `m91`, `m92`: the prescription chain's query and answer messages, likewise inside MsgHead.
 * `cda`: any eHDSI CDA (PS, eP, eD, Level 1 or 3) against CDA R2 with the pharm extension
 * (schemas/eu/cda-schema/CDA_Pharma.xsd), the schema an NCP parses with before anything else.
 */
export type SchemaId = 'm10' | 'm97' | 'm98' | 'm91' | 'm92' | 'cda';

const SCHEMAS: Record<SchemaId, { root: string; entry: string }> = {
  m10: { root: 'kith', entry: 'msghead-m10.xsd' },
  // The prescription chain's query messages (src/sources/reseptformidleren/), each inside MsgHead v1.2.
  m97: { root: 'kith', entry: 'msghead-m97.xsd' },
  m98: { root: 'kith', entry: 'msghead-m98.xsd' },
  m91: { root: 'kith', entry: 'msghead-m91.xsd' },
  m92: { root: 'kith', entry: 'msghead-m92.xsd' },
  cda: { root: 'eu/cda-schema', entry: 'CDA_Pharma.xsd' },
};

const SCHEMA_ROOT = fileURLToPath(new URL('../../schemas/', import.meta.url));

export interface XsdResult {
  valid: boolean;
  /** The validity errors, one line each ("line N: message"), for assertion messages. */
  errors: string[];
  /** Everything libxml2 printed, warnings included. */
  output: string;
}

const loaded = new Map<SchemaId, { entry: XMLFileInfo; preload: XMLFileInfo[] }>();

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function schemaFiles(id: SchemaId): { entry: XMLFileInfo; preload: XMLFileInfo[] } {
  let files = loaded.get(id);
  if (!files) {
    const { root, entry } = SCHEMAS[id];
    const dir = join(SCHEMA_ROOT, root);
    // Relative names, so the schemas' own relative schemaLocations resolve inside the validator's file system.
    const all = walk(dir)
      .filter((f) => f.endsWith('.xsd'))
      .map((f) => ({ fileName: relative(dir, f), contents: readFileSync(f, 'utf8') }));
    const main = all.find((f) => f.fileName === entry);
    if (!main) throw new Error(`schemas/${root}/${entry} is missing`);
    files = { entry: main, preload: all.filter((f) => f !== main) };
    loaded.set(id, files);
  }
  return files;
}

/** Validates several documents against one schema in one run (the schema compiles once). */
export async function validateXmlAll(documents: readonly string[], schema: SchemaId): Promise<XsdResult[]> {
  if (documents.length === 0) return [];
  const { entry, preload } = schemaFiles(schema);
  const names = documents.map((_, i) => `document-${i}.xml`);
  let output: string;
  let errors: { fileName: string | undefined; line: string }[];
  try {
    const r = await validateXML({
      xml: documents.map((contents, i) => ({ fileName: names[i]!, contents })),
      schema: entry,
      preload,
    });
    output = r.rawOutput;
    errors = r.errors.map((e) => ({ fileName: e.loc?.fileName, line: e.loc ? `line ${e.loc.lineNumber}: ${e.message}` : e.message }));
  } catch (err) {
    // xmllint-wasm rejects when the schema itself does not compile or a document is not well-formed XML.
    const message = err instanceof Error ? err.message : String(err);
    if (/failed to compile/.test(message)) throw new Error(`The XSD did not compile:\n${message}`);
    if (documents.length > 1) return Promise.all(documents.map((d) => validateXml(d, schema)));
    return [{ valid: false, errors: [message], output: message }];
  }
  return names.map((name) => {
    const own = errors.filter((e) => e.fileName === name).map((e) => e.line);
    const validates = new RegExp(`^${name.replace('.', '\\.')} validates$`, 'm').test(output);
    return { valid: own.length === 0 && validates, errors: own, output };
  });
}

export async function validateXml(document: string, schema: SchemaId): Promise<XsdResult> {
  const [r] = await validateXmlAll([document], schema);
  return r!;
}
