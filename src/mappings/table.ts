// The field-by-field mapping tables of mappings/ (one CSV per output direction), loaded and checked so the
// emitters can be driven by the same table domain experts review. A table that names an unknown transform,
// a ConceptMap that terminology/ does not have, or a malformed path does not load.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getTerminology, type Terminology } from '../terminology/index.ts';

export const MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

export type MappingDirection = 'm1-to-mpd-fhir' | 'm1-to-ehdsi-cda' | 'm10-to-mpd-dispense' | 'm10-to-ehdsi-dispensation-cda';
export const MAPPING_DIRECTIONS: readonly MappingDirection[] = [
  'm1-to-mpd-fhir',
  'm1-to-ehdsi-cda',
  'm10-to-mpd-dispense',
  'm10-to-ehdsi-dispensation-cda',
];

export interface TransformSpec {
  description: string;
  /** Whether a row with this transform must, may or must not name a ConceptMap. */
  codeMap: 'required' | 'optional' | 'none';
}

/**
 * The transform catalogue. Each name is one function the emitters implement; the table says which applies
 * to which field. Keep it small: a new transform is a new piece of reviewed code.
 */
export const TRANSFORMS = {
  copy: { description: 'The value as it is (string, number, boolean).', codeMap: 'none' },
  constant: { description: 'A fixed value: the source column holds it after "=".', codeMap: 'none' },
  text: { description: 'Free text, kept verbatim (escaped where it enters narrative or XML).', codeMap: 'none' },
  narrative: { description: 'Human-readable section text built from the mapped values of the item (escaped).', codeMap: 'none' },
  date: { description: 'KITH xs:date (may carry a time zone) to FHIR date / CDA TS (yyyyMMdd).', codeMap: 'none' },
  datetime: { description: 'Date-time to FHIR dateTime / CDA TS with time zone (TS.EPSOS.TZ).', codeMap: 'none' },
  identifier: {
    description: 'KITH Ident (Id + TypeId of 8116/9051) or a number to a FHIR Identifier / CDA II, system by the OID of its type.',
    codeMap: 'none',
  },
  'prescription-id': { description: 'The Norwegian prescription id (M1 MsgId = ReseptId) as identifier in the prescription-id naming system.', codeMap: 'none' },
  uuid: { description: 'A new UUID (document, entry or resource id), stable for one conversion.', codeMap: 'none' },
  reference: { description: 'A reference to the resource or CDA participant built from the source element.', codeMap: 'none' },
  'person-name': { description: 'FamilyName, MiddleName, GivenName (or HPR names) to HumanName / CDA PN.', codeMap: 'none' },
  gender: { description: 'Kodeverk 3101 to FHIR administrative-gender / HL7 v3 AdministrativeGender (1->male/M, 2->female/F, else unknown/UNK).', codeMap: 'none' },
  address: { description: 'KITH Address to FHIR Address / CDA AD, country NO added.', codeMap: 'none' },
  telecom: { description: 'KITH TeleCom (tel:, mailto:) to ContactPoint / CDA TEL; nullFlavor NI when none.', codeMap: 'none' },
  'code-map': {
    description: 'A Norwegian code translated with the named ConceptMap: EU code first, Norwegian code kept as translation; unmapped = Norwegian code + original text + warning.',
    codeMap: 'required',
  },
  coding: { description: 'A code in a system the EU uses as is (ATC, ICD-10), with its English display from terminology/.', codeMap: 'none' },
  quantity: { description: 'A number with a Norwegian unit to Quantity / PQ, the unit translated with the named ConceptMap.', codeMap: 'required' },
  'package-count': { description: 'A number of packages: Quantity with unit "1" / CDA quantity unit="1".', codeMap: 'none' },
  strength: {
    description: 'FEST strength (Styrke, StyrkeNevner) to Ratio / CDA RTO, numerator unit through the named map, denominator through 7452.',
    codeMap: 'required',
  },
  dosage: { description: 'Structured Dosering (DoseFastTidspunkt, DoseEtterBehov, interval, time of day) to Dosage.timing / CDA PIVL_TS (a time of day only as text).', codeMap: 'optional' },
  'as-needed': {
    description: 'As needed: Bruk (kodeverk 9101) 3 Ved behov for the whole prescription, a DoseEtterBehov for its dose, to Dosage.asNeededBoolean true / CDA precondition PRCN; any other Bruk gives nothing.',
    codeMap: 'none',
  },
  'dispensings-remaining': {
    description: 'Dispensings left: Reiterasjon + 1 minus the dispensings so far (context); repeats after the next one where the target counts repeats.',
    codeMap: 'none',
  },
  substitution: {
    description: 'BytteresRekvirent (1101: 1 Ja = the prescriber reserves against substitution) to substitution allowed false / SUBST N; absent = allowed.',
    codeMap: 'none',
  },
  'substitution-occurred': { description: 'Whether the dispensed product differs from the prescribed one (compared with the stored EU prescription).', codeMap: 'none' },
  'dispense-status': { description: 'Annullering false -> completed; true -> the earlier dispense (AnnulleringsId) becomes entered-in-error / a discard.', codeMap: 'none' },
  omit: { description: 'Deliberately not sent; the note says why. Target is "-".', codeMap: 'none' },
} as const satisfies Record<string, TransformSpec>;

export type TransformName = keyof typeof TRANSFORMS;

export type SourceKind = 'message' | 'fest' | 'hpr' | 'registry' | 'context' | 'constant';

export interface MappingRow {
  /** Line in the CSV file (header is line 1). */
  line: number;
  source: string;
  sourceKind: SourceKind;
  /** The source without its prefix (FEST:, HPR:, REG:, CTX:, =). */
  sourcePath: string;
  /** FHIR path or CDA XPath; "-" for an omitted element. */
  target: string;
  transform: TransformName;
  /** ConceptMap canonical url. */
  codeMap?: string;
  required: boolean;
  note: string;
}

export interface MappingTable {
  direction: MappingDirection;
  file: string;
  output: 'fhir' | 'cda';
  rows: MappingRow[];
}

export interface MappingIssue {
  line: number;
  column?: string;
  message: string;
}

export class MappingTableError extends Error {
  override name = 'MappingTableError';
  readonly issues: MappingIssue[];
  constructor(file: string, issues: MappingIssue[]) {
    super(`${file}: ${issues.map((i) => `line ${i.line}${i.column ? ` (${i.column})` : ''}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

export const COLUMNS = ['source_path', 'target_path', 'transform', 'code_map', 'required', 'note'] as const;

interface DirectionSpec {
  output: 'fhir' | 'cda';
  messageRoots: readonly string[];
  resources: readonly string[];
}

const DIRECTIONS: Record<MappingDirection, DirectionSpec> = {
  'm1-to-mpd-fhir': {
    output: 'fhir',
    messageRoots: ['MsgHead', 'Resept'],
    resources: ['MedicationRequest', 'Medication', 'Patient', 'Practitioner', 'PractitionerRole', 'Organization'],
  },
  'm1-to-ehdsi-cda': { output: 'cda', messageRoots: ['MsgHead', 'Resept'], resources: [] },
  'm10-to-mpd-dispense': {
    output: 'fhir',
    messageRoots: ['MsgHead', 'Utleveringsrapport'],
    resources: ['MedicationDispense', 'Medication', 'Patient', 'Practitioner', 'PractitionerRole', 'Organization'],
  },
  'm10-to-ehdsi-dispensation-cda': { output: 'cda', messageRoots: ['MsgHead', 'Utleveringsrapport'], resources: [] },
};

// Fields the enrichment sources offer (FestProduct in src/registries/fest/types.ts, HprPerson in
// src/registries/hpr.ts, the FHIR Patient of the population registry) and the conversion context.
const FEST_FIELDS = new Set([
  'kind', 'festId', 'status', 'varenr', 'name', 'brandName', 'atc', 'prescriptionGroup', 'productType', 'doseForm',
  'doseFormText', 'routes', 'soleRoute', 'doseUnits', 'ingredients', 'package', 'manufacturer', 'prescriptionValidity', 'storage', 'merkevareId',
]);
const HPR_FIELDS = new Set(['hpr', 'given', 'family', 'authorizations', 'specialities', 'workplaces']);
const REGISTRY_FIELDS = new Set(['identifier', 'name', 'birthDate', 'gender', 'address', 'telecom']);
const CONTEXT_FIELDS = new Set(['now', 'documentId', 'entryId', 'dispensingsSoFar', 'operator', 'ncp', 'euPrescription', 'language', 'patientIdentity']);

const NAME = '[A-Za-z_][A-Za-z0-9_.-]*';
const MESSAGE_SEGMENT = new RegExp(`^(${NAME}|\\((${NAME})(\\|${NAME})+\\))$`);
const ATTRIBUTE = /^@[A-Za-z]+$/;
const FIELD_PATH = /^[a-zA-Z][a-zA-Z0-9]*(\[\])?(\.[a-zA-Z][a-zA-Z0-9]*(\[\])?)*$/;
const FHIR_PATH = /^[A-Z][A-Za-z]+(\.[a-z][A-Za-z0-9]*(\[[A-Za-z0-9:_-]+\])?)+$/;
const CDA_STEP = /^(@[A-Za-z:]+|[A-Za-z]+:?[A-Za-z]*(\[[^\]]+\])*)$/;

/** RFC 4180 CSV: comma-separated, double-quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.some((x) => x !== '')) rows.push({ cells, line: rowLine });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else {
      cell += c;
    }
  }
  if (quoted) throw new MappingTableError('csv', [{ line: rowLine, message: 'unterminated quoted field' }]);
  cells.push(cell);
  if (cells.some((x) => x !== '')) rows.push({ cells, line: rowLine });
  return rows;
}

function classifySource(source: string, spec: DirectionSpec): { kind: SourceKind; path: string } | string {
  if (source.startsWith('=')) return source.length > 1 ? { kind: 'constant', path: source.slice(1) } : 'a constant needs a value after "="';
  const prefixed: [string, SourceKind, Set<string>][] = [
    ['FEST:', 'fest', FEST_FIELDS],
    ['HPR:', 'hpr', HPR_FIELDS],
    ['REG:', 'registry', REGISTRY_FIELDS],
    ['CTX:', 'context', CONTEXT_FIELDS],
  ];
  for (const [prefix, kind, fields] of prefixed) {
    if (!source.startsWith(prefix)) continue;
    const path = source.slice(prefix.length);
    if (!FIELD_PATH.test(path)) return `malformed ${prefix} path '${path}'`;
    const first = path.split('.')[0]?.replace('[]', '') ?? '';
    if (!fields.has(first)) return `${prefix} has no field '${first}' (known: ${[...fields].join(', ')})`;
    return { kind, path };
  }
  const segments = source.split('/');
  if (!spec.messageRoots.includes(segments[0] ?? '')) {
    return `a message path must start with ${spec.messageRoots.join(' or ')} (or use FEST:, HPR:, REG:, CTX:, =)`;
  }
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (!(MESSAGE_SEGMENT.test(seg) || (last && ATTRIBUTE.test(seg)))) return `malformed path step '${seg}'`;
  }
  return { kind: 'message', path: source };
}

function checkTarget(target: string, transform: TransformName, spec: DirectionSpec): string | undefined {
  if (transform === 'omit') return target === '-' ? undefined : 'an omitted element has target "-"';
  if (target === '-') return 'target "-" is only for transform omit';
  if (spec.output === 'fhir') {
    if (!FHIR_PATH.test(target)) return `malformed FHIR path '${target}'`;
    const resource = target.split('.')[0] ?? '';
    if (!spec.resources.includes(resource)) return `resource ${resource} is not an output of this direction (${spec.resources.join(', ')})`;
    return undefined;
  }
  if (!target.startsWith('/ClinicalDocument')) return 'a CDA target starts with /ClinicalDocument';
  // Split on "/" outside predicates.
  const steps: string[] = [];
  let depth = 0;
  let step = '';
  for (const ch of target.slice(1)) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === '/' && depth === 0) {
      steps.push(step);
      step = '';
    } else step += ch;
  }
  steps.push(step);
  if (depth !== 0) return `unbalanced predicate in '${target}'`;
  const bad = steps.find((s, i) => !CDA_STEP.test(s) || (s.startsWith('@') && i !== steps.length - 1));
  return bad === undefined ? undefined : `malformed CDA step '${bad}'`;
}

/** Checks the cells of a table (header row first) and returns its rows, or every issue found. */
export function validateMappingTable(
  direction: MappingDirection,
  csv: { cells: string[]; line: number }[],
  t: Terminology = getTerminology(),
): { table?: MappingTable; issues: MappingIssue[] } {
  const spec = DIRECTIONS[direction];
  const issues: MappingIssue[] = [];
  const [header, ...body] = csv;
  if (!header || header.cells.join(',') !== COLUMNS.join(',')) {
    return { issues: [{ line: header?.line ?? 1, message: `the header must be ${COLUMNS.join(',')}` }] };
  }
  const rows: MappingRow[] = [];
  const seen = new Map<string, number>();
  for (const { cells, line } of body) {
    if (cells.length !== COLUMNS.length) {
      issues.push({ line, message: `expected ${COLUMNS.length} columns, found ${cells.length}` });
      continue;
    }
    const [source = '', target = '', transformRaw = '', codeMapRaw = '', requiredRaw = '', note = ''] = cells.map((c) => c.trim());
    const before = issues.length;
    if (!(transformRaw in TRANSFORMS)) {
      issues.push({ line, column: 'transform', message: `unknown transform '${transformRaw}' (known: ${Object.keys(TRANSFORMS).join(', ')})` });
      continue;
    }
    const transform = transformRaw as TransformName;
    const classified = classifySource(source, spec);
    if (typeof classified === 'string') issues.push({ line, column: 'source_path', message: classified });
    else if ((classified.kind === 'constant') !== (transform === 'constant')) {
      issues.push({ line, column: 'source_path', message: 'a constant source ("=...") goes with transform constant, and only there' });
    }
    const targetProblem = checkTarget(target, transform, spec);
    if (targetProblem) issues.push({ line, column: 'target_path', message: targetProblem });
    const codeMap = codeMapRaw === '' || codeMapRaw === 'none' ? undefined : codeMapRaw;
    const rule = TRANSFORMS[transform].codeMap;
    if (rule === 'required' && !codeMap) issues.push({ line, column: 'code_map', message: `transform ${transform} needs a ConceptMap` });
    if (rule === 'none' && codeMap) issues.push({ line, column: 'code_map', message: `transform ${transform} takes no ConceptMap` });
    if (codeMap && !t.conceptMaps.has(codeMap)) issues.push({ line, column: 'code_map', message: `ConceptMap ${codeMap} is not in terminology/` });
    if (requiredRaw !== 'required' && requiredRaw !== 'optional') {
      issues.push({ line, column: 'required', message: `required is "required" or "optional", not '${requiredRaw}'` });
    }
    if (transform === 'omit' && !note) issues.push({ line, column: 'note', message: 'an omitted element needs a note saying why' });
    const key = `${source} -> ${target}`;
    const previous = seen.get(key);
    if (previous !== undefined && target !== '-') issues.push({ line, message: `same source and target as line ${previous}` });
    seen.set(key, line);
    if (issues.length > before || typeof classified === 'string') continue;
    const row: MappingRow = {
      line,
      source,
      sourceKind: classified.kind,
      sourcePath: classified.path,
      target,
      transform,
      required: requiredRaw === 'required',
      note,
    };
    if (codeMap) row.codeMap = codeMap;
    rows.push(row);
  }
  if (!rows.length && !issues.length) issues.push({ line: 1, message: 'the table has no rows' });
  if (issues.length) return { issues };
  return { table: { direction, file: `${direction}.csv`, output: spec.output, rows }, issues };
}

const cache = new Map<string, MappingTable>();

/** Reads and checks mappings/<direction>.csv once; throws MappingTableError listing every problem. */
export function loadMappingTable(direction: MappingDirection, dir: string = MAPPINGS_DIR, t: Terminology = getTerminology()): MappingTable {
  const key = `${dir}\0${direction}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const file = `${direction}.csv`;
  const { table, issues } = validateMappingTable(direction, parseCsv(readFileSync(dir + file, 'utf8')), t);
  if (!table) throw new MappingTableError(file, issues);
  table.file = file;
  cache.set(key, table);
  return table;
}

export function loadAllMappingTables(dir: string = MAPPINGS_DIR): Record<MappingDirection, MappingTable> {
  return Object.fromEntries(MAPPING_DIRECTIONS.map((d) => [d, loadMappingTable(d, dir)])) as Record<MappingDirection, MappingTable>;
}

/** The rows that fill a target (a FHIR resource type, a path prefix, or a CDA XPath prefix). */
export function rowsForTarget(table: MappingTable, prefix: string): MappingRow[] {
  return table.rows.filter((r) => r.target === prefix || r.target.startsWith(prefix.endsWith('/') || prefix.endsWith('.') ? prefix : `${prefix}${table.output === 'fhir' ? '.' : '/'}`));
}
