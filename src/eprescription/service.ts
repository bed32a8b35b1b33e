// The pipeline with the store around it: import an M1 (idempotently), and serve stored prescriptions to the
// NCP with the dispensings remaining as they are now. Used by the HTTP handlers and the demo seed.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle, BundleEntry, MedicationRequest, Resource } from '@medplum/fhirtypes';
import type { Config } from '../config.ts';
import { conflict, isProblem, type Problem } from '../fhir/outcomes.ts';
import { festDrugRegistry, type DrugRegistry } from '../registries/drugs.ts';
import type { FestProduct } from '../registries/fest/types.ts';
import { demoHprRegistry, hprRegistryFromTable } from '../registries/hpr.ts';
import { folkeregisteretFor } from '../registries/folkeregisteret/index.ts';
import { storePopulationRegistry } from '../registries/population.ts';
import type { Db, Queryable } from '../store/db.ts';
import { countConversion } from '../metrics/registry.ts';
import { convertM1, sha256, type ChainFacts, type Conversion, type ConversionIds, type Converted, type PipelineDeps } from './pipeline.ts';
import { chainAllowsExport, type ExportDecision } from './rules.ts';
import { parseXml } from '../xml/parse.ts';
import {
  findImportByHash,
  findImportByPrescriptionId,
  insertImport,
  readImport,
  replaceOutputs,
  sourceXmlOf,
  type ExportRow,
} from './store.ts';

/** The version the Provenance names Helsebro by. */
export const HELSEBRO_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * FEST answers, kept for a few minutes per store: a conversion asks FEST up to five queries deep, the
 * catalogue changes once a day, and the same products are prescribed again and again.
 */
export function cachedDrugRegistry(inner: DrugRegistry, opts: { ttlMs?: number; max?: number } = {}): DrugRegistry {
  const ttl = opts.ttlMs ?? 5 * 60_000;
  const max = opts.max ?? 5000;
  const entries = new Map<string, { at: number; value: Promise<FestProduct | undefined> }>();
  const cached = (key: string, load: () => Promise<FestProduct | undefined>): Promise<FestProduct | undefined> => {
    const hit = entries.get(key);
    const now = Date.now();
    if (hit && now - hit.at < ttl) return hit.value;
    const value = load();
    // A failed lookup is not remembered.
    value.catch(() => entries.delete(key));
    entries.delete(key);
    entries.set(key, { at: now, value });
    if (entries.size > max) entries.delete(entries.keys().next().value!);
    return value;
  };
  return {
    byVarenr: (v) => cached(`v:${v}`, () => inner.byVarenr(v)),
    byFestId: (id) => cached(`f:${id}`, () => inner.byFestId(id)),
  };
}

const storeDrugRegistries = new WeakMap<Queryable, DrugRegistry>();

/** The pipeline's dependencies over a store: FEST and the population registry in it, HPR per mode. */
export function storePipelineDeps(
  q: Queryable,
  config: Pick<Config, 'mode' | 'helsebroOid' | 'operator'> & { sources?: { folkeregisteretBaseUrl: string | undefined } },
  version = HELSEBRO_VERSION,
): PipelineDeps {
  return {
    registries: {
      drugs: drugsFor(q),
      // Production plugs in NHN's HPR service here; until then no register answers and the message's own
      // data describe the prescriber (with a warning).
      prescribers: config.mode === 'demo' ? demoHprRegistry() : hprRegistryFromTable([]),
      population: storePopulationRegistry(q, folkeregisteretFor({ mode: config.mode, sources: { folkeregisteretBaseUrl: config.sources?.folkeregisteretBaseUrl } }, q)),
    },
    helsebroOid: config.helsebroOid,
    operator: config.operator,
    version,
  };
}

/**
 * `created` and `repeat` are prescriptions whose M1 may leave Norway; `served` says whether the prescription
 * chain lets it be dispensed abroad now (the outputs to answer with) or not (the decision with the chain's
 * reasons). `refused` is an M1 that may never leave (its refusal is stored).
 */
export type ImportOutcome =
  | { kind: 'created'; row: ExportRow; conversion: Converted; served: Served }
  | { kind: 'repeat'; row: ExportRow; served: Served }
  | { kind: 'refused'; row: ExportRow; decision: ExportDecision; repeat: boolean }
  | { kind: 'problem'; problem: Problem };

/** The prescription the chain is asked about: the M1's MsgId and the patient's person number. */
export interface ChainSubject {
  prescriptionId: string;
  patientFnr: string | undefined;
  /** Helsebro's row, when the prescription is stored. */
  rowId?: string;
  /** The row's own counter of dispensings reported to Helsebro. */
  recorded?: number;
}

/** Asks the prescription chain for the facts now; a Problem (the chain did not answer) stops the import. */
export type ChainFactsReader = (subject: ChainSubject) => Promise<ChainFacts | Problem>;

export interface ImportOptions {
  now?: Date;
  /** What is known of the patient beyond the chain (a restriction), for the export decision; stored with a refusal. */
  facts?: Partial<ChainFacts>;
  /**
   * The prescription chain's state now (Reseptformidleren), asked about an M1 that may leave Norway once it
   * is stored. Its answer decides what the import answers, not what is stored: a prescription recalled or
   * being dispensed in Norway is stored as an exportable M1 and refused now, and every later read asks the
   * chain again. Without it (the demo seed, tests) the import answers with what it stored.
   */
  chain?: ChainFactsReader;
  /** Last word before anything is stored (access rules on the patient the M1 names); a Problem stops it. */
  beforeStore?: (c: Conversion) => Promise<Problem | undefined>;
  /** Called inside the storing transaction (the AuditEvent of the import goes here); for a repeat, in one of its own. */
  onStored?: (q: Queryable, row: ExportRow) => Promise<void>;
}

const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23505';

/**
 * Imports one M1. The same bytes again answer with what the first import stored, as the prescription chain
 * lets it be served now; another message with the same prescription id (MsgId) is a conflict. An M1 its own
 * rules refuse is stored too, with its decision, so the answer to a repeat is the same refusal.
 */
export async function importM1(db: Db, body: Uint8Array | string, deps: PipelineDeps, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const hash = sha256(body);
  const now = opts.now ?? new Date();
  const earlier = await findImportByHash(db, hash);
  if (earlier) return repeatOf(db, earlier, deps, opts, now);
  // The M1 is converted and stored as the M1 alone decides (with what is known of the patient). The
  // prescription chain is asked afterwards, about the stored prescription, and decides only the answer.
  const converted = await convertM1(body, deps, { now, ...(opts.facts ? { facts: opts.facts } : {}) });
  if (!converted.ok) {
    countConversion('invalid');
    return { kind: 'problem', problem: converted.problem };
  }
  const c = converted.value;
  if (c.exportable) countConversion('exported');
  else countConversion('refused', c.decision.reasons.map((r) => r.code));
  const stop = await opts.beforeStore?.(c);
  if (stop) return { kind: 'problem', problem: stop };
  const sameId = await findImportByPrescriptionId(db, c.m1.prescriptionId);
  // The same message may have been stored meanwhile by a concurrent import: that is a repeat, not a conflict.
  if (sameId) return sameId.sourceHash === hash ? repeatOf(db, sameId, deps, opts, now) : { kind: 'problem', problem: duplicateId() };
  const sourceXml = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let row: ExportRow;
  try {
    row = await db.tx(async (q) => {
      const stored = await insertImport(q, c, { id: randomUUID(), sourceXml, patientId: c.exportable ? c.enrichment.patient?.id : undefined });
      await opts.onStored?.(q, stored);
      return stored;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // A concurrent import of the same message won the race: answer as a repeat.
    const winner = await findImportByHash(db, hash);
    if (winner) return repeatOf(db, winner, deps, opts, now);
    return { kind: 'problem', problem: duplicateId() };
  }
  if (!c.exportable) return { kind: 'refused', row, decision: c.decision, repeat: false };
  const served = await servedFor(db, row, deps, opts, now);
  return isProblem(served) ? { kind: 'problem', problem: served } : { kind: 'created', row, conversion: c, served };
}

/**
 * What a stored exportable row answers with: as the chain allows it now (asked fresh), or, when no chain is
 * given, as stored. A Problem when the chain did not answer: the row stays stored, a repeat asks again.
 */
async function servedFor(db: Db, row: ExportRow, deps: PipelineDeps, opts: ImportOptions, now: Date): Promise<Served | Problem> {
  if (!opts.chain) return row.bundle && row.cdaXml ? { kind: 'outputs', bundle: row.bundle, cda: row.cdaXml } : { kind: 'gone' };
  const live = await opts.chain({ prescriptionId: row.prescriptionId, patientFnr: row.patientFnr, rowId: row.id, recorded: row.dispensingsDone });
  if (isProblem(live)) return live;
  // Either restriction restricts: the chain's (a reservation) and what else is known of the patient.
  const facts: ChainFacts = { ...live, patientRestricted: live.patientRestricted || opts.facts?.patientRestricted === true };
  return currentOutputs(db, row, deps, facts, now);
}

const duplicateId = (): Problem =>
  conflict('A different M1 with the same prescription id (MsgId) was imported before; a prescription id is used once', {
    expression: ['MsgHead.MsgInfo.MsgId'],
  });

async function repeatOf(db: Db, earlier: ExportRow, deps: PipelineDeps, opts: ImportOptions, now: Date): Promise<ImportOutcome> {
  const row = (await readImport(db, earlier.id)) ?? earlier;
  if (opts.onStored) await db.tx((q) => opts.onStored!(q, row));
  if (!row.exportable) return { kind: 'refused', row, decision: row.decision, repeat: true };
  // What was stored is served only as the chain allows it now.
  const served = await servedFor(db, row, deps, opts, now);
  return isProblem(served) ? { kind: 'problem', problem: served } : { kind: 'repeat', row, served };
}

function drugsFor(q: Queryable): DrugRegistry {
  let registry = storeDrugRegistries.get(q);
  if (!registry) {
    registry = cachedDrugRegistry(festDrugRegistry(q));
    storeDrugRegistries.set(q, registry);
  }
  return registry;
}

// --- serving ---------------------------------------------------------------------------------------------

/** The resource ids of a stored Bundle, so a re-conversion keeps them. */
function idsOf(bundle: Bundle | undefined): Partial<ConversionIds> {
  const ids: Partial<ConversionIds> = {};
  if (!bundle) return ids;
  if (bundle.id) ids.bundle = bundle.id;
  const key: Record<string, keyof ConversionIds> = {
    MedicationRequest: 'medicationRequest',
    Medication: 'medication',
    Patient: 'patient',
    Practitioner: 'practitioner',
    PractitionerRole: 'practitionerRole',
    Organization: 'organization',
  };
  for (const e of bundle.entry ?? []) {
    const k = e.resource ? key[e.resource.resourceType] : undefined;
    if (k && e.resource?.id) ids[k] = e.resource.id;
  }
  return ids;
}

export interface CurrentOutputs {
  bundle: Bundle;
  cda: string;
}

/**
 * What may be served of a stored prescription now: its outputs; the decision that refuses it now (recalled,
 * being dispensed in Norway, no dispensings left ...); or nothing (not exportable at all, or its M1 is gone).
 */
export type Served = ({ kind: 'outputs' } & CurrentOutputs) | { kind: 'refused'; decision: ExportDecision } | { kind: 'gone' };

/**
 * The outputs of an exportable row as they must be served now, given the prescription chain's facts now
 * (asked fresh by the caller). The stored outputs state the dispensings remaining for the count they were
 * made at (outputsAtDispensings, the count in Norway and abroad together); they are served as they are only
 * when that count is still the count and the chain's facts raise no objection. Otherwise the M1 is decided
 * and converted again (same ids): a refusal comes back with its reasons, new outputs replace the stored ones.
 */
export async function currentOutputs(db: Db, row: ExportRow, deps: PipelineDeps, facts: ChainFacts, now = new Date()): Promise<Served> {
  if (!row.exportable) return { kind: 'gone' };
  if (row.bundle && row.cdaXml && row.outputsAtDispensings === facts.dispensingsSoFar && chainAllowsExport(facts)) {
    return { kind: 'outputs', bundle: row.bundle, cda: row.cdaXml };
  }
  const source = await sourceXmlOf(db, row.id);
  if (!source) return { kind: 'gone' };
  const again = await convertM1(source, deps, { now, facts, ids: { ...idsOf(row.bundle), medicationRequest: row.id } });
  if (!again.ok) return { kind: 'gone' };
  const c = again.value;
  if (!c.exportable) return { kind: 'refused', decision: c.decision };
  await db.tx((q) => replaceOutputs(q, row.id, { bundle: c.bundle, cda: c.cda, atDispensings: facts.dispensingsSoFar, decision: c.decision, provenance: c.provenance }));
  return { kind: 'outputs', bundle: c.bundle, cda: c.cda };
}

/**
 * The eHDSI Level 1 document (its PDF in English and bokmål) of an exportable row, rendering the Level 3 document
 * served now: the M1 is converted again with the row's ids and that document's id, so both levels say the
 * same and the Level 1 id is the Level 3 id with ".L1". Undefined when the prescription is no longer exportable.
 */
export async function currentLevel1(
  db: Db,
  row: ExportRow,
  deps: PipelineDeps,
  /** The prescription chain's facts now, the same the Level 3 document was served with. */
  facts: ChainFacts,
  now = new Date(),
  /** The row's current outputs when the caller has already read them (currentOutputs), so they are not read twice. */
  known?: CurrentOutputs,
): Promise<string | undefined> {
  let outputs = known;
  if (!outputs) {
    const served = await currentOutputs(db, row, deps, facts, now);
    if (served.kind !== 'outputs') return undefined;
    outputs = served;
  }
  const source = await sourceXmlOf(db, row.id);
  if (!source) return undefined;
  const { documentId, effective } = level3Header(outputs.cda);
  const again = await convertM1(source, deps, {
    // The Level 3 document's own time, so the same Level 3 always gives the same Level 1, byte for byte. The
    // export decision is the Level 3's too: facts and a time it was already served under.
    now: effective ?? now,
    facts,
    ids: { ...idsOf(outputs.bundle), medicationRequest: row.id, ...(documentId ? { documentId } : {}) },
    level1: true,
  });
  if (!again.ok || !again.value.exportable) return undefined;
  return again.value.cdaL1;
}

/** The id extension and effectiveTime of a Level 3 document Helsebro wrote (ClinicalDocument/id, /effectiveTime). */
function level3Header(cda: string): { documentId?: string | undefined; effective?: Date | undefined } {
  const parsed = parseXml(cda);
  if (!parsed.ok) return {};
  const root = parsed.value.root;
  const ts = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([+-]\d{2})(\d{2})$/.exec(root.child('urn:hl7-org:v3', 'effectiveTime')?.attr('value') ?? '');
  const effective = ts ? new Date(`${ts[1]}-${ts[2]}-${ts[3]}T${ts[4]}:${ts[5]}:${ts[6]}${ts[7]}:${ts[8]}`) : undefined;
  return { documentId: root.child('urn:hl7-org:v3', 'id')?.attr('extension'), effective: effective && !Number.isNaN(effective.getTime()) ? effective : undefined };
}

/**
 * The MedicationRequest of an MPD Bundle as one resource: the Medication, Patient, PractitionerRole,
 * Practitioner and Organization contained, references rewritten to `#id`. This is how a read or the NCP's
 * search returns it, so that it stands on its own outside the Bundle.
 */
export function standaloneRequest(bundle: Bundle): MedicationRequest {
  const entries: BundleEntry[] = bundle.entry ?? [];
  const request = entries.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource as MedicationRequest | undefined;
  if (!request) throw new Error('the Bundle holds no MedicationRequest');
  const local = new Map(entries.flatMap((e) => (e.fullUrl && e.resource?.id ? [[e.fullUrl, `#${e.resource.id}`] as const] : [])));
  const rewrite = <T>(value: T): T => {
    if (Array.isArray(value)) return value.map(rewrite) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = k === 'reference' && typeof v === 'string' ? (local.get(v) ?? v) : rewrite(v);
      }
      return out as T;
    }
    return value;
  };
  const contained = entries
    .map((e) => e.resource)
    .filter((r): r is Resource => !!r && r !== request)
    .map((r) => rewrite(r));
  const { resourceType, id, meta, ...rest } = rewrite(request);
  return { resourceType, id, meta, contained, ...rest };
}

