// Streaming reader for FEST M30 (2014-12-01). The national file is hundreds of megabytes, so it is read
// chunk by chunk with sax: only the catalogue entries Helsebro keeps are built into small trees (bounded in
// size), everything else streams past. Hostile input is refused: DOCTYPE/ENTITY declarations, encodings
// other than UTF-8, invalid UTF-8, unknown entities, excessive nesting and oversized entries.
import sax, { type QualifiedTag, type SAXOptions, type SAXParser } from 'sax';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CAPTURED_ENTRIES, EntryError, recordFromEntry, type FestNode } from './m30-records.ts';
import { M30_NS, type FestRecord } from './types.ts';

export type FestEvent =
  | { type: 'header'; hentetDato: string }
  | { type: 'record'; record: FestRecord; line: number }
  | { type: 'invalid'; entry: string; path: string; message: string; line: number };

export interface FestParseOptions {
  /** Characters of text and attributes one catalogue entry may hold (default 1 000 000). */
  maxEntryChars?: number;
  /** Elements one catalogue entry may hold (default 20 000). */
  maxEntryElements?: number;
  /** Element nesting depth of the document (default 64). */
  maxDepth?: number;
}

/** A FEST file that cannot be read at all. `problem` has the shape of a Problem (src/fhir/outcomes.ts). */
export class FestFormatError extends Error {
  override name = 'FestFormatError';
  readonly problem: { status: number; issues: OperationOutcomeIssue[] };
  readonly line: number | undefined;
  constructor(status: number, code: OperationOutcomeIssue['code'], message: string, line?: number, expression?: string) {
    super(line === undefined ? message : `${message} (line ${line})`);
    this.line = line;
    const issue: OperationOutcomeIssue = { severity: 'error', code, diagnostics: this.message };
    if (expression) issue.expression = [expression];
    this.problem = { status, issues: [issue] };
  }
}

const M30_PREFIX = 'http://www.kith.no/xmlstds/eresept/m30/';

type Source = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> | Uint8Array | string;

function* once(value: Uint8Array | string): Iterable<Uint8Array | string> {
  yield value;
}

/**
 * Reads a FEST M30 document and yields its header (HentetDato) and one event per kept catalogue entry:
 * a record, or `invalid` for an entry that breaks the schema (reported, not fatal). Throws FestFormatError
 * when the document itself is not acceptable.
 */
export async function* parseFest(source: Source, opts: FestParseOptions = {}): AsyncGenerator<FestEvent> {
  const maxEntryChars = opts.maxEntryChars ?? 1_000_000;
  const maxEntryElements = opts.maxEntryElements ?? 20_000;
  const maxDepth = opts.maxDepth ?? 64;

  const queue: FestEvent[] = [];
  // strictEntities (only XML's five named entities) is a sax option @types/sax does not list.
  const options: SAXOptions & { strictEntities: boolean } = { xmlns: true, position: true, strictEntities: true };
  const parser: SAXParser = sax.parser(true, options);
  const lineNo = (): number => parser.line + 1;

  const stack: { uri: string; local: string }[] = [];
  let sawRoot = false;
  let headerText: string | undefined;
  // The entry being captured: its root and the path of open nodes inside it.
  let capture: { root: FestNode; open: FestNode[]; chars: number; elements: number } | undefined;

  parser.onerror = (err) => {
    const first = err.message.split('\n')[0] ?? 'XML error';
    throw new FestFormatError(400, 'structure', `FEST file is not well-formed XML: ${first}`, lineNo());
  };
  parser.ondoctype = () => {
    throw new FestFormatError(400, 'security', 'DOCTYPE and ENTITY declarations are not allowed in a FEST file', lineNo());
  };
  parser.onopentag = (tag: QualifiedTag) => {
    const parent = stack[stack.length - 1];
    stack.push({ uri: tag.uri, local: tag.local });
    if (stack.length > maxDepth) {
      throw new FestFormatError(413, 'too-costly', `FEST file nests elements deeper than ${maxDepth}`, lineNo());
    }
    if (!sawRoot) {
      sawRoot = true;
      checkRoot(tag, lineNo());
      return;
    }
    if (capture) {
      if (++capture.elements > maxEntryElements) {
        throw new FestFormatError(413, 'too-costly', `A FEST entry has more than ${maxEntryElements} elements`, lineNo(), capture.root.name);
      }
      const node = nodeOf(tag, lineNo());
      capture.chars += Object.values(node.attrs).reduce((n, v) => n + v.length, 0);
      capture.open[capture.open.length - 1]?.children.push(node);
      capture.open.push(node);
      return;
    }
    if (tag.uri === M30_NS && stack.length === 2 && tag.local === 'HentetDato') headerText = '';
    if (tag.uri === M30_NS && CAPTURED_ENTRIES[tag.local] && parent?.uri === M30_NS && parent.local.startsWith('Kat')) {
      const root = nodeOf(tag, lineNo());
      capture = { root, open: [root], chars: 0, elements: 1 };
    }
  };
  const onText = (t: string): void => {
    if (capture) {
      capture.chars += t.length;
      if (capture.chars > maxEntryChars) {
        throw new FestFormatError(413, 'too-costly', `A FEST entry holds more than ${maxEntryChars} characters`, lineNo(), capture.root.name);
      }
      const node = capture.open[capture.open.length - 1];
      if (node) node.text += t;
    } else if (headerText !== undefined) {
      headerText += t;
    }
  };
  parser.ontext = onText;
  parser.oncdata = onText;
  parser.onclosetag = () => {
    const closed = stack.pop();
    if (capture) {
      capture.open.pop();
      if (capture.open.length === 0) {
        const { root } = capture;
        capture = undefined;
        try {
          const record = recordFromEntry(root);
          if (record) queue.push({ type: 'record', record, line: root.line });
        } catch (err) {
          if (!(err instanceof EntryError)) throw err;
          queue.push({ type: 'invalid', entry: root.name, path: err.path, message: err.message, line: root.line });
        }
      }
      return;
    }
    if (headerText !== undefined && closed?.local === 'HentetDato') {
      queue.push({ type: 'header', hentetDato: headerText.trim() });
      headerText = undefined;
    }
  };

  const decoder = new TextDecoder('utf-8', { fatal: true });
  let prologChecked = false;
  const chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> =
    typeof source === 'string' || source instanceof Uint8Array ? once(source) : source;
  for await (const chunk of chunks) {
    let text: string;
    try {
      text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    } catch {
      throw new FestFormatError(400, 'structure', 'FEST file is not valid UTF-8', lineNo());
    }
    if (!prologChecked && text.length) {
      checkProlog(text);
      prologChecked = true;
    }
    parser.write(text);
    while (queue.length) yield queue.shift() as FestEvent;
  }
  try {
    const rest = decoder.decode();
    if (rest) parser.write(rest);
  } catch (err) {
    if (err instanceof FestFormatError) throw err;
    throw new FestFormatError(400, 'structure', 'FEST file is not valid UTF-8', lineNo());
  }
  if (!sawRoot) throw new FestFormatError(400, 'structure', 'FEST file is empty: no root element');
  parser.close();
  while (queue.length) yield queue.shift() as FestEvent;
}

function nodeOf(tag: QualifiedTag, line: number): FestNode {
  const attrs: Record<string, string> = {};
  for (const a of Object.values(tag.attributes)) {
    // Namespace declarations and namespaced (xsi:...) attributes are not data.
    if (a.uri === '' && a.prefix === '') attrs[a.local] = a.value;
  }
  return { ns: tag.uri, name: tag.local, attrs, children: [], text: '', line };
}

function checkRoot(tag: QualifiedTag, line: number): void {
  if (tag.local === 'FEST' && tag.uri === M30_NS) return;
  if (tag.local === 'FEST' && tag.uri.startsWith(M30_PREFIX)) {
    throw new FestFormatError(400, 'not-supported', `FEST version ${tag.uri} is not supported; expected ${M30_NS}`, line, 'FEST');
  }
  throw new FestFormatError(
    400,
    'structure',
    `Not a FEST M30 file: the root element is {${tag.uri}}${tag.local}, expected {${M30_NS}}FEST`,
    line,
    tag.local,
  );
}

// The XML declaration and anything before the root element, checked before sax sees the document.
function checkProlog(start: string): void {
  const head = start.slice(0, 4096);
  const rootAt = head.search(/<[A-Za-z_]/);
  const prolog = rootAt < 0 ? head : head.slice(0, rootAt);
  if (/<!(DOCTYPE|ENTITY)/i.test(prolog)) {
    throw new FestFormatError(400, 'security', 'DOCTYPE and ENTITY declarations are not allowed in a FEST file', 1);
  }
  const encoding = /^\s*<\?xml[^>]*\sencoding\s*=\s*["']([^"']+)["']/.exec(prolog)?.[1];
  if (encoding && !/^utf-?8$/i.test(encoding)) {
    throw new FestFormatError(400, 'not-supported', `FEST file declares encoding ${encoding}; only UTF-8 is supported`, 1);
  }
}
