// The one rule that is checked again at every exit, not only in the export rules: a prescription in
// reseptgruppe A or B (narcotics, habit-forming medicines) never reaches the NCP. The pipeline checks it
// before emitting, the store before it serves a row to the NCP, and the CLI before it writes a file, so a
// mistake in one layer (a rule edited, a row flipped by hand) cannot leak such a prescription.
import type { M1Message } from './m1/model.ts';

export const NEVER_EXPORTED_GROUPS: ReadonlySet<string> = new Set(['A', 'B']);

/**
 * The groups that may leave at all. The guard lets only these through rather than stopping A and B: a group
 * nobody knows (a typo, a look-alike letter, an invisible character after the A) is stopped as A is.
 */
export const EXPORTABLE_GROUPS: ReadonlySet<string> = new Set(['C', 'CF', 'F']);

/** Every reseptgruppe the prescription names (the drug, or each drug component of a magistral). */
export function prescriptionGroups(m1: M1Message): string[] {
  const dok = m1.resept.reseptDok;
  if (dok.kind !== 'ReseptDokLegemiddel') return [];
  const drug = dok.forskrivning.legemiddel;
  const drugs = drug.kind === 'Legemiddelblanding' ? drug.bestanddelLegemiddel.map((b) => b.legemiddel) : [drug];
  return [...new Set(drugs.map((d) => d.reseptgruppe.code.trim().toUpperCase()))];
}

/**
 * The first group named that may not leave (A, B, K, or one that is no group at all), if any; an empty one
 * comes back as "(empty)" so that it still reads as a refusal. Unnamed groups (null, undefined) are skipped:
 * goods and FEST's silence have none.
 */
export function neverExportedGroup(groups: readonly (string | null | undefined)[]): string | undefined {
  for (const g of groups) {
    if (g === undefined || g === null) continue;
    const code = g.trim().toUpperCase();
    if (!EXPORTABLE_GROUPS.has(code)) return code || '(empty)';
  }
  return undefined;
}

export class ExportGuardError extends Error {
  override name = 'ExportGuardError';
  constructor(group: string, where: string) {
    super(`A reseptgruppe ${JSON.stringify(group.slice(0, 12))} prescription reached ${where}; it must never be sent to the NCP`);
  }
}

/** Throws when a prescription in a group that may not leave is about to; the message names no personal data. */
export function assertExportableGroup(groups: readonly (string | null | undefined)[], where: string): void {
  const group = neverExportedGroup(groups);
  if (group) throw new ExportGuardError(group, where);
}
