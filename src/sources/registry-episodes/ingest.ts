// Loads an NPR or KPR extract into the store: streamed line by line, bad lines rejected with their
// line numbers, good lines loaded in batches, episodes already loaded skipped. Running the same file
// twice loads nothing the second time.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Queryable } from '../../store/db.ts';
import { parseEpisodeLine, splitLines, type Episode, type LineError, type RegistryKind } from './format.ts';
import { insertEpisodes } from './store.ts';

export interface IngestProgress {
  bytes: number;
  totalBytes: number;
  lines: number;
}

export interface IngestSummary {
  registry: RegistryKind;
  lines: number;
  loaded: number;
  duplicates: number;
  rejectedCount: number;
  /** The first rejected lines (all of them up to MAX_REPORTED_ERRORS). */
  rejected: LineError[];
}

export const MAX_REPORTED_ERRORS = 1000;
const FLUSH_EVERY = 2000;

export async function ingestEpisodes(
  db: Queryable,
  kind: RegistryKind,
  path: string,
  onProgress?: (p: IngestProgress) => void,
): Promise<IngestSummary> {
  const totalBytes = (await stat(path)).size;
  return ingestStream(db, kind, createReadStream(path, { highWaterMark: 256 * 1024 }), { totalBytes, onProgress });
}

export async function ingestStream(
  db: Queryable,
  kind: RegistryKind,
  source: AsyncIterable<Uint8Array | string>,
  opts: { totalBytes?: number; onProgress?: (p: IngestProgress) => void } = {},
): Promise<IngestSummary> {
  const summary: IngestSummary = { registry: kind, lines: 0, loaded: 0, duplicates: 0, rejectedCount: 0, rejected: [] };
  let bytes = 0;
  const counted = async function* (): AsyncGenerator<Uint8Array | string> {
    for await (const chunk of source) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      yield chunk;
      opts.onProgress?.({ bytes, totalBytes: opts.totalBytes ?? bytes, lines: summary.lines });
    }
  };
  const reject = (error: LineError): void => {
    summary.rejectedCount += 1;
    if (summary.rejected.length < MAX_REPORTED_ERRORS) summary.rejected.push(error);
  };
  let batch: Episode[] = [];
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const inserted = await insertEpisodes(db, batch);
    summary.loaded += inserted;
    summary.duplicates += batch.length - inserted;
    batch = [];
  };
  for await (const raw of splitLines(counted())) {
    summary.lines = raw.line;
    if (raw.truncated) {
      reject({ line: raw.line, message: 'line too long' });
      continue;
    }
    if (!raw.text.trim()) continue;
    const parsed = parseEpisodeLine(raw.text, raw.line, kind);
    if (!parsed.ok) {
      reject(parsed.error);
      continue;
    }
    batch.push(parsed.episode);
    if (batch.length >= FLUSH_EVERY) await flush();
  }
  await flush();
  opts.onProgress?.({ bytes, totalBytes: opts.totalBytes ?? bytes, lines: summary.lines });
  return summary;
}
