// Loading a FEST M30 file into the store: streamed, in batches (each its own transaction, so the server
// stays responsive on PGlite), idempotent (upsert by FEST id), with progress. A completed load is recorded
// by the file's SHA-256, which makes the demo catalogue load a no-op on every start after the first.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Db } from '../../store/db.ts';
import { parseFest, type FestParseOptions } from './m30-parser.ts';
import { findFestLoad, recordFestLoad, upsertFestRecords } from './repository.ts';
import { FEST_KINDS, type FestKind, type FestRecord } from './types.ts';
import { DEMO_FEST_FILE } from './demo-file.ts';

export interface FestProgress {
  bytesRead: number;
  /** Size of the file, when known. */
  totalBytes: number | undefined;
  records: number;
  invalid: number;
}

export interface FestInvalidEntry {
  entry: string;
  path: string;
  message: string;
  line: number;
}

export interface FestLoadReport {
  source: string;
  sha256: string;
  hentetDato: string | undefined;
  /** True when this exact file had been loaded before and nothing was done. */
  skipped: boolean;
  records: number;
  byKind: Record<FestKind, number>;
  /** Entries that broke the schema and were left out (first 100 kept; `invalid` counts all). */
  invalid: number;
  invalidEntries: FestInvalidEntry[];
  durationMs: number;
}

export interface IngestOptions extends FestParseOptions {
  /** Records per transaction (default 500). */
  batchSize?: number;
  /** Label stored with the load (default: the file path). */
  source?: string;
  /** Load even when this file was loaded before (default false). */
  force?: boolean;
}

const emptyCounts = (): Record<FestKind, number> =>
  Object.fromEntries(FEST_KINDS.map((k) => [k, 0])) as Record<FestKind, number>;

/**
 * Streams a FEST M30 file into the store. Throws FestFormatError when the file is not an acceptable M30
 * document (the entries already written stay: a second run of the corrected file completes the load).
 */
export async function ingestFestFile(
  db: Db,
  path: string,
  onProgress?: (p: FestProgress) => void,
  opts: IngestOptions = {},
): Promise<FestLoadReport> {
  const started = Date.now();
  const totalBytes = (await stat(path)).size;
  const sha256 = opts.force ? undefined : await fileSha256(path);
  if (sha256) {
    const previous = await findFestLoad(db, sha256);
    if (previous) {
      return {
        source: previous.source,
        sha256,
        hentetDato: previous.hentetDato,
        skipped: true,
        records: previous.records,
        byKind: emptyCounts(),
        invalid: previous.invalid,
        invalidEntries: [],
        durationMs: Date.now() - started,
      };
    }
  }

  const hash = createHash('sha256');
  const progress: FestProgress = { bytesRead: 0, totalBytes, records: 0, invalid: 0 };
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      progress.bytesRead += bytes.length;
      yield bytes;
    }
  }

  const report = await ingestFest(db, counted(), opts, progress, onProgress);
  const digest = hash.digest('hex');
  await recordFestLoad(db, {
    sha256: digest,
    source: opts.source ?? path,
    hentetDato: report.hentetDato,
    records: report.records,
    invalid: report.invalid,
  });
  return { ...report, source: opts.source ?? path, sha256: digest, durationMs: Date.now() - started };
}

/** The demo catalogue (src/registries/fest/demo-fest-m30.xml), loaded once; later calls return quickly. */
export function loadDemoFest(db: Db, onProgress?: (p: FestProgress) => void): Promise<FestLoadReport> {
  return ingestFestFile(db, DEMO_FEST_FILE, onProgress, { source: 'helsebro-demo-fest' });
}

/** Streams records from any source into the store. Exposed for tests and non-file sources. */
export async function ingestFest(
  db: Db,
  source: AsyncIterable<Uint8Array | string> | Uint8Array | string,
  opts: IngestOptions = {},
  progress: FestProgress = { bytesRead: 0, totalBytes: undefined, records: 0, invalid: 0 },
  onProgress?: (p: FestProgress) => void,
): Promise<Omit<FestLoadReport, 'source' | 'sha256'>> {
  const started = Date.now();
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const byKind = emptyCounts();
  const invalidEntries: FestInvalidEntry[] = [];
  let hentetDato: string | undefined;
  let batch: FestRecord[] = [];

  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const records = batch;
    batch = [];
    await db.tx((q) => upsertFestRecords(q, records));
    progress.records += records.length;
    for (const r of records) byKind[r.kind]++;
    onProgress?.({ ...progress });
  };

  for await (const event of parseFest(source, opts)) {
    if (event.type === 'header') {
      hentetDato = event.hentetDato;
    } else if (event.type === 'invalid') {
      progress.invalid++;
      if (invalidEntries.length < 100) {
        invalidEntries.push({ entry: event.entry, path: event.path, message: event.message, line: event.line });
      }
    } else {
      batch.push(event.record);
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  onProgress?.({ ...progress });
  return {
    hentetDato,
    skipped: false,
    records: progress.records,
    byKind,
    invalid: progress.invalid,
    invalidEntries,
    durationMs: Date.now() - started,
  };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
