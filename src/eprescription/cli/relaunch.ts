// A many-file convert-m1 run starts itself again, in the same process (execve), with settings that only
// count when given at process start:
// - MALLOC_ARENA_MAX=2: glibc gives each thread that allocates its own malloc arena, and the arenas hold on
//   to freed memory between them; glibc reads the setting only when the process starts.
// - the heap limits the worker threads have (resourceLimits) for the main thread as well: it converts
//   beside them (alone when the run has one thread). Uncapped, a
//   thread's young generation grows to 64 MB under the conversion's churn and its old generation floats far
//   above the live data: one thread converting 6,000 files peaked at 235 MB without the old-generation cap
//   and 139-144 MB with it. The main thread's limits can only be V8 flags, and V8 flags bind every thread,
//   so they must be exactly what the workers get anyway (a smaller young generation shrank the workers' too
//   and cost them 40% more CPU).

/** What the relaunched process gets in its environment. */
export const TUNED_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** A converting thread's heap: what `resourceLimits` gives a worker, and the flags that give the main thread the same. */
export interface ThreadHeap {
  oldGenerationMb: number;
  /** resourceLimits.maxYoungGenerationSizeMb; V8 makes it three semi-spaces. */
  youngGenerationMb: number;
}

export function heapFlags(heap: ThreadHeap): string[] {
  return [`--max-old-space-size=${heap.oldGenerationMb}`, `--max-semi-space-size=${Math.max(1, Math.round(heap.youngGenerationMb / 3))}`];
}

export interface ProcessStart {
  execPath: string;
  execArgv: readonly string[];
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

export interface Relaunch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * How to start this process again with the tuned settings, or undefined when it already runs with them.
 * An operator who set MALLOC_ARENA_MAX themselves has chosen, so that counts as tuned (and it is what stops a
 * relaunched process from relaunching again). The operator's own Node flags come after ours, so theirs win.
 */
export function tunedRelaunch(p: ProcessStart, heap: ThreadHeap): Relaunch | undefined {
  if (p.env.MALLOC_ARENA_MAX !== undefined) return undefined;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.env)) if (v !== undefined) env[k] = v;
  return {
    file: p.execPath,
    args: [p.execPath, ...heapFlags(heap), ...p.execArgv, ...p.argv.slice(1)],
    env: { ...env, ...TUNED_ENV },
  };
}

/**
 * Replaces this process with its tuned self, when the platform can (process.execve is POSIX only) and it is
 * not tuned yet; otherwise returns and the run goes on as it is. Call it before anything is written out:
 * whatever is still buffered is lost with the old process image.
 */
export function relaunchTuned(heap: ThreadHeap, proc: NodeJS.Process = process): void {
  const next = tunedRelaunch(proc, heap);
  if (next && typeof proc.execve === 'function') proc.execve(next.file, next.args, next.env);
}
