// The entries of each section as table rows of plain text (the page escapes them), from the section's
// own module (src/sections/): the columns of the national concept sketch, named exactly as the document's
// narrative names them. Pure.
import type { Resource } from '@medplum/fhirtypes';
import { sectionModule, type RowContext } from '../sections/index.ts';
import { cellsOf, type Texts } from '../sections/types.ts';
import type { ViewSectionKey } from './summary-document.ts';

export type { RowContext } from '../sections/index.ts';
export { codesText, conceptText, episodeSummary, sourcesText } from '../sections/read.ts';

export interface Row {
  /** Plain text per column; undefined shows as "not stated". */
  cells: (string | undefined)[];
  /** Marked for the eye (and in words for screen readers): a high-criticality allergy, an active alert. */
  critical?: boolean;
  /** For sorting diagnoses by when they were last seen (yyyy-mm-dd...). */
  lastDate?: string | undefined;
}

export interface Column {
  label: Texts;
  /** The column that names the row (rendered as a row header). */
  rowHeader?: boolean;
}

export function columnsFor(key: ViewSectionKey): Column[] {
  const m = sectionModule(key);
  return m.view.map((f) => ({ label: m.fields[f]!, ...(f === m.viewRowHeader ? { rowHeader: true } : {}) }));
}

/** The column of the problems table the sort applies to. */
export const PROBLEMS_LAST_COLUMN = sectionModule('problems').view.indexOf('last');

export function rowsFor(key: ViewSectionKey, entries: readonly Resource[], ctx: RowContext): Row[] {
  const m = sectionModule(key);
  return entries
    .filter((r) => (m.entryTypes as readonly string[]).includes(r.resourceType))
    .map((r) => {
      const row = m.row(r, ctx);
      return { cells: cellsOf(row, m.view), ...(row.critical ? { critical: true } : {}), ...(row.lastDate ? { lastDate: row.lastDate } : {}) };
    });
}

export type ProblemSort = 'last-desc' | 'last-asc';
export const isProblemSort = (v: unknown): v is ProblemSort => v === 'last-desc' || v === 'last-asc';

/** Rows by last date, newest or oldest first; rows without a date last either way; ties keep document order. */
export function sortByLastDate(rows: readonly Row[], order: ProblemSort): Row[] {
  const dir = order === 'last-desc' ? -1 : 1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => {
      const da = a.row.lastDate;
      const db = b.row.lastDate;
      if (!da || !db) return da ? -1 : db ? 1 : a.i - b.i;
      if (da === db) return a.i - b.i;
      return (da < db ? -1 : 1) * dir;
    })
    .map((x) => x.row);
}
