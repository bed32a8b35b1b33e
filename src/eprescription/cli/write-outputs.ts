// Writes convert-m1's outputs, on one thread only: the main thread, whichever thread converted. Two workers
// creating files in one folder at once spent 3 to 11 s of a 23-29 s run in the kernel over 12,000 files
// (writing nothing, 1.7 s), varying from run to run; one writer takes that contention away. Kept apart from
// convert-file.ts so that the main thread writes without loading the pipeline.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FileResult } from './convert-file.ts';

/** An output file: a string where it was made, its UTF-8 bytes once it has travelled from a worker. */
export interface OutputFile {
  path: string;
  data: string | Uint8Array;
}

// Folders made so far: each output folder is made once, not once per file written into it.
const made = new Set<string>();

/** Writes a result's outputs; a file that cannot be written makes the result failed (nothing else is lost). */
export function writeOutputs(result: FileResult): FileResult {
  if (!result.files.length) return result;
  try {
    for (const { path, data } of result.files) {
      const dir = dirname(path);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(path, data);
    }
    return { ...result, files: [] };
  } catch (err) {
    const message = `writing the outputs: ${err instanceof Error ? err.message : String(err)}`;
    return { path: result.path, outcome: 'failed', codes: ['exception'], warnings: [], message, files: [] };
  }
}
