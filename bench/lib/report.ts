// The bench's output: one row per case, rendered as the markdown table `npm run bench` prints and
// writes to bench/results/latest.md. Pure functions; run.ts does the I/O.

/** pass/FAIL against the goal; info when a case has no goal; not-yet/skipped when it could not run. */
export type Verdict = 'pass' | 'FAIL' | 'info' | 'not yet' | 'skipped';

export interface Row {
  case: string;
  figure: string;
  baseline: string;
  ratio: string;
  goal: string;
  verdict: Verdict;
  /** Why a case did not run, or what qualifies its figure; listed under the table. */
  note?: string;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

export interface Report {
  startedAt: Date;
  seconds: number;
  quick: boolean;
  machine: Machine;
  engine: string;
  rows: Row[];
}

export const notYet = (name: string, goal: string, why: string): Row => ({
  case: name,
  figure: '—',
  baseline: '—',
  ratio: '—',
  goal,
  verdict: 'not yet',
  note: why,
});

export const skipped = (name: string, goal: string, why: string): Row => ({ ...notYet(name, goal, why), verdict: 'skipped' });

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtMs = (n: number): string => (n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(n >= 10 ? 1 : 2)} ms`);
export const fmtRatio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '—');
export const fmtMiB = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MB`;

/** Markdown cells must not break the table. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: Report): string {
  const m = r.machine;
  const lines = [
    '# Helsebro benchmarks',
    '',
    `Run ${r.startedAt.toISOString()} (${r.quick ? 'quick' : 'full'} run, ${Math.round(r.seconds)} s) on ${m.cores} cores ` +
      `(${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB memory, Node ${m.node} (${m.platform}), load average ${m.loadAverage.toFixed(1)} at the start; store: ${r.engine}.`,
    'Load generator and server share the same machine; every baseline is measured in the same run. Reproduce with',
    '`npm run bench` (or `npm run bench -- --quick`); see bench/README.md.',
    '',
    '| case | figure | baseline (same run) | ratio | goal | result |',
    '|---|---|---|---|---|---|',
    ...r.rows.map((row) =>
      `| ${[row.case, row.figure, row.baseline, row.ratio, row.goal, row.verdict === 'FAIL' ? '**FAIL**' : row.verdict].map(cell).join(' | ')} |`,
    ),
  ];
  const notes = r.rows.filter((row) => row.note);
  if (notes.length) {
    lines.push('', 'Notes:', '');
    for (const row of notes) lines.push(`- ${row.case}: ${row.note}`);
  }
  return lines.join('\n') + '\n';
}
