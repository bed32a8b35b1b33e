// `npx helsebro ingest fest FILE [--force]`: loads a FEST M30 file (the national catalogue or an
// incremental delivery) and reports what happened. Exit codes: 0 loaded (or already loaded), 1 loaded
// with invalid entries left out, 2 usage error, unreadable file, or a file that is not an acceptable M30.
import { SingleBar } from 'cli-progress';
import type { Db } from '../../store/db.ts';
import { ingestFestFile, type FestLoadReport } from './ingest.ts';
import { FestFormatError } from './m30-parser.ts';

export const FEST_INGEST_USAGE = 'usage: npx helsebro ingest fest FILE [--force]';

export interface FestCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Runs the command; `args` are what follows `ingest fest`. */
export async function festIngestCommand(args: readonly string[], db: Db, io: FestCliIo): Promise<number> {
  const force = args.includes('--force');
  const rest = args.filter((a) => a !== '--force');
  const [path, ...extra] = rest;
  if (!path || extra.length || path.startsWith('-')) {
    io.stderr.write(`${FEST_INGEST_USAGE}\n`);
    return 2;
  }
  const bar = io.stderr.isTTY
    ? new SingleBar({ format: 'FEST [{bar}] {percentage}% | {records} records | {eta_formatted} left', stream: io.stderr, hideCursor: true })
    : undefined;
  let started = false;
  let report: FestLoadReport;
  try {
    report = await ingestFestFile(
      db,
      path,
      (p) => {
        if (!bar) return;
        if (!started) {
          bar.start(Math.max(p.totalBytes ?? 1, 1), 0, { records: 0 });
          started = true;
        }
        bar.update(p.bytesRead, { records: p.records });
      },
      { force },
    );
  } catch (err) {
    bar?.stop();
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      io.stderr.write(`helsebro ingest fest: cannot read ${path} (${String(code)})\n`);
      return 2;
    }
    if (err instanceof FestFormatError) {
      io.stderr.write(`helsebro ingest fest: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  bar?.stop();
  io.stdout.write(formatFestReport(report));
  return report.invalid > 0 ? 1 : 0;
}

export function formatFestReport(r: FestLoadReport): string {
  if (r.skipped) {
    return `FEST: ${r.source} was loaded before (sha256 ${r.sha256.slice(0, 12)}…, ${r.records} records); nothing to do. Use --force to load it again.\n`;
  }
  const kinds = Object.entries(r.byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines = [
    `FEST ${r.hentetDato ?? '(no HentetDato)'}: ${r.records} records loaded (${kinds}), ${r.invalid} invalid entries left out, ${(r.durationMs / 1000).toFixed(1)} s`,
    ...r.invalidEntries.slice(0, 20).map((e) => `  line ${e.line}: ${e.message}`),
  ];
  if (r.invalid > 20) lines.push(`  ... and ${r.invalid - 20} more invalid entries`);
  return `${lines.join('\n')}\n`;
}
