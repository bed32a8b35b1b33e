// The M1 -> EU conversion as the bench calls it: src/eprescription/pipeline.ts's convertM1 with the
// registries the batch command uses (the demo FEST extract in memory, the demo HPR, no population store),
// so the figure is the conversion's own cost, not a store's. Until the pipeline and those registries
// exist, the conversion case reports "not yet".
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.ts';

const PIPELINE = fileURLToPath(new URL('../../src/eprescription/pipeline.ts', import.meta.url));
const BATCH_SETUP = fileURLToPath(new URL('../../src/eprescription/cli/convert-file.ts', import.meta.url));

export interface BenchPipeline {
  /** Converts one M1 to both EU outputs; true when it was exportable and both were produced. */
  convert(bytes: Uint8Array): Promise<boolean>;
  note?: string;
}

interface ConversionLike {
  ok: boolean;
  value?: { exportable: boolean; bundle?: unknown; cda?: string };
}
type ConvertM1 = (input: Uint8Array, deps: never) => Promise<ConversionLike>;
type PipelineFor = (settings: Record<string, unknown>) => Promise<never>;

export async function loadPipeline(ctx: BenchContext): Promise<BenchPipeline | { missing: string }> {
  if (!existsSync(PIPELINE)) return { missing: 'not yet: src/eprescription/pipeline.ts does not exist' };
  if (!existsSync(BATCH_SETUP)) return { missing: 'not yet: src/eprescription/cli/convert-file.ts (the registries without a store) does not exist' };
  const { convertM1 } = (await import(PIPELINE)) as { convertM1?: ConvertM1 };
  const { pipelineFor } = (await import(BATCH_SETUP)) as { pipelineFor?: PipelineFor };
  if (typeof convertM1 !== 'function' || typeof pipelineFor !== 'function') return { missing: 'not yet: no convertM1 / pipelineFor to call' };
  const [{ loadConfig }, { DEMO_FEST_FILE }] = await Promise.all([import('../../src/config.ts'), import('../../src/registries/fest/demo-file.ts')]);
  const config = loadConfig({ HELSEBRO_DATA_DIR: ctx.tmp });
  const deps = await pipelineFor({
    mode: 'demo',
    helsebroOid: config.helsebroOid,
    operator: config.operator,
    festPath: DEMO_FEST_FILE,
    format: 'both',
    maxBytes: config.maxBodyBytes.xml,
  });
  return {
    convert: async (bytes) => {
      const r = await convertM1(bytes, deps);
      return r.ok && r.value?.exportable === true && r.value.bundle !== undefined && typeof r.value.cda === 'string';
    },
    note: 'registries as in `helsebro convert-m1`: the demo FEST extract in memory, the demo HPR table, no population store; output validation included.',
  };
}
