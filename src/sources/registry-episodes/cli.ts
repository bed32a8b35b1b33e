// `npx helsebro ingest npr|kpr FILE`: loads one daily extract and reports what happened. Exit codes:
// 0 every line loaded or already present, 1 some lines rejected (the rest are loaded), 2 usage error.
import { SingleBar } from 'cli-progress';
import type { Queryable } from '../../store/db.ts';
import { REGISTRIES, type RegistryKind } from './format.ts';
import { ingestEpisodes, type IngestSummary } from './ingest.ts';

export const INGEST_USAGE = 'usage: npx helsebro ingest npr|kpr FILE';

export interface IngestIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export async function ingestCommand(args: readonly string[], db: Queryable, io: IngestIo): Promise<number> {
  const [kind, path, ...rest] = args;
  if (!kind || !path || rest.length || !(REGISTRIES as readonly string[]).includes(kind)) {
    io.stderr.write(`${INGEST_USAGE}\n`);
    return 2;
  }
  const bar = io.stderr.isTTY
    ? new SingleBar({ format: `${kind} [{bar}] {percentage}% | {lines} lines | {eta_formatted} left`, stream: io.stderr, hideCursor: true })
    : undefined;
  let started = false;
  let summary: IngestSummary;
  try {
    summary = await ingestEpisodes(db, kind as RegistryKind, path, (p) => {
      if (!bar) return;
      if (!started) {
        bar.start(Math.max(p.totalBytes, 1), 0, { lines: 0 });
        started = true;
      }
      bar.update(p.bytes, { lines: p.lines });
    });
  } catch (err) {
    bar?.stop();
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      io.stderr.write(`helsebro ingest: cannot read ${path} (${String(code)})\n`);
      return 2;
    }
    throw err;
  }
  bar?.stop();
  io.stdout.write(formatSummary(summary));
  return summary.rejectedCount > 0 ? 1 : 0;
}

export function formatSummary(s: IngestSummary): string {
  const lines = [
    `${s.registry}: ${s.lines} lines read, ${s.loaded} episodes loaded, ${s.duplicates} already present, ${s.rejectedCount} rejected`,
    ...s.rejected.map((e) => `  line ${e.line}: ${e.message}`),
  ];
  if (s.rejectedCount > s.rejected.length) lines.push(`  ... and ${s.rejectedCount - s.rejected.length} more rejected lines`);
  return `${lines.join('\n')}\n`;
}
