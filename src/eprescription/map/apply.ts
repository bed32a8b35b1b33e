// Runs a mapping table over one message: every row's source is resolved and transformed, and for each
// target the first row (in file order) that yields a value wins. The emitters then read the values by
// target path through `Mapped`, which checks that the table really maps that target with a transform the
// emitter can render, and records what was used, so tests can prove that every row is exercised.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { getTerminology, type Terminology } from '../../terminology/index.ts';
import type { XmlElement } from '../../xml/element.ts';
import type { MappingRow, MappingTable, TransformName } from '../../mappings/table.ts';
import { resolveSource, type SourceData } from './source.ts';
import { doseElements, TRANSFORM_IMPL, VALUE_WHEN_ABSENT, type TransformEnv } from './transforms.ts';
import type { Placed, TransformOutput } from './values.ts';

/** The emitter asked for a target the table does not map, or with a transform it does not render. */
export class MappingMismatchError extends Error {
  override name = 'MappingMismatchError';
}

interface Filled {
  row: MappingRow;
  values: Placed<unknown>[];
  /** Warnings the transform raised for these values; reported only when the emitter uses them. */
  warnings: OperationOutcomeIssue[];
}

export class Mapped {
  readonly table: MappingTable;
  readonly warnings: OperationOutcomeIssue[];
  /** Line numbers of the rows whose value was used for their target. */
  readonly usedRows = new Set<number>();
  /** Line numbers of `omit` rows whose source was present (so their omission was exercised). */
  readonly omittedRows: Set<number>;
  private readonly filled: Map<string, Filled>;
  private readonly rowsByTarget: Map<string, MappingRow[]>;

  /** Warnings of rows that ran and yielded nothing (a Kortdose the dosage text contradicts); reported when the emitter asks for their target. */
  private readonly unfilled: Map<string, OperationOutcomeIssue[]>;

  constructor(table: MappingTable, filled: Map<string, Filled>, omitted: Set<number>, warnings: OperationOutcomeIssue[], unfilled = new Map<string, OperationOutcomeIssue[]>()) {
    this.table = table;
    this.filled = filled;
    this.unfilled = unfilled;
    this.warnings = warnings;
    this.omittedRows = omitted;
    this.rowsByTarget = new Map();
    for (const row of table.rows) {
      if (row.transform === 'omit') continue;
      const list = this.rowsByTarget.get(row.target) ?? [];
      list.push(row);
      this.rowsByTarget.set(row.target, list);
    }
  }

  private check(target: string, transforms: readonly TransformName[]): MappingRow[] {
    const rows = this.rowsByTarget.get(target);
    if (!rows) throw new MappingMismatchError(`${this.table.file} has no row for ${target}`);
    const odd = rows.find((r) => !transforms.includes(r.transform));
    if (odd) {
      throw new MappingMismatchError(`${this.table.file} line ${odd.line}: ${target} uses transform ${odd.transform}; the emitter renders ${transforms.join(' or ')}`);
    }
    return rows;
  }

  /** Every value for a target (with their positions), from the first row that had any. */
  all<K extends TransformName>(target: string, ...transforms: K[]): Placed<TransformOutput[K]>[] {
    const rows = this.check(target, transforms);
    const hit = this.filled.get(target);
    if (!hit) {
      // Why the target has no value, once: a row that decided to give none says so.
      const why = this.unfilled.get(target);
      if (why) {
        this.unfilled.delete(target);
        this.warnings.push(...why);
      }
      const required = rows.find((r) => r.required);
      if (required) this.missingRequired(target, required);
      return [];
    }
    if (!this.usedRows.has(hit.row.line)) {
      this.usedRows.add(hit.row.line);
      this.warnings.push(...hit.warnings);
    }
    return hit.values as Placed<TransformOutput[K]>[];
  }

  /** The first value for a target, or undefined. */
  one<K extends TransformName>(target: string, ...transforms: K[]): TransformOutput[K] | undefined {
    return this.all(target, ...transforms)[0]?.value;
  }

  /** The value at a position of a repeating target (values without a position count for every one). */
  at<K extends TransformName>(target: string, index: number, ...transforms: K[]): TransformOutput[K] | undefined {
    const values = this.all(target, ...transforms);
    return (values.find((v) => v.index === index) ?? values.find((v) => v.index === undefined))?.value;
  }

  /** The row that filled a target (for notes and provenance). */
  rowFor(target: string): MappingRow | undefined {
    return this.filled.get(target)?.row;
  }

  private readonly reportedMissing = new Set<string>();

  private missingRequired(target: string, row: MappingRow): void {
    if (this.reportedMissing.has(target)) return;
    this.reportedMissing.add(target);
    this.warnings.push({
      severity: 'warning',
      code: 'incomplete',
      diagnostics: `No value for ${target} (${row.source}); the ${this.table.output === 'cda' ? 'document carries a nullFlavor or a fallback' : 'resource uses a fallback or leaves it out'}`,
      expression: [target],
    });
  }

  /** A required target the emitter filled from a fallback: no longer reported as missing. */
  fallbackUsed(target: string): void {
    this.reportedMissing.add(target);
    const at = this.warnings.findIndex((w) => w.code === 'incomplete' && w.expression?.[0] === target);
    if (at >= 0) this.warnings.splice(at, 1);
  }
}

export interface ApplyInput extends SourceData {
  terminology?: Terminology;
}

export function applyTable(table: MappingTable, input: ApplyInput): Mapped {
  const terminology = input.terminology ?? getTerminology();
  let rowWarnings: OperationOutcomeIssue[] = [];
  let doses: XmlElement[] | undefined;
  const env: TransformEnv = {
    data: input,
    terminology,
    warn: (issue) => rowWarnings.push(issue),
    doses: () => (doses ??= doseElements(input)),
  };
  const filled = new Map<string, Filled>();
  const unfilled = new Map<string, OperationOutcomeIssue[]>();
  const omitted = new Set<number>();
  for (const row of table.rows) {
    if (row.transform === 'omit') {
      if (resolveSource(row, input).length) omitted.add(row.line);
      continue;
    }
    // A fallback row for a target an earlier row filled is never read; sources are pure, so it is not resolved.
    if (filled.has(row.target)) continue;
    const values = resolveSource(row, input);
    if (!values.length && !VALUE_WHEN_ABSENT.has(row.transform)) continue;
    rowWarnings = [];
    const out = (TRANSFORM_IMPL[row.transform] as (r: MappingRow, v: typeof values, e: TransformEnv) => Placed<unknown>[])(row, values, env);
    if (out.length) filled.set(row.target, { row, values: out, warnings: rowWarnings });
    else if (rowWarnings.length) unfilled.set(row.target, [...(unfilled.get(row.target) ?? []), ...rowWarnings]);
  }
  return new Mapped(table, filled, omitted, [], unfilled);
}
