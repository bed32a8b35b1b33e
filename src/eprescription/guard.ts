// The one rule that is checked again at every exit, not only in the export rules: a prescription in
// reseptgruppe A or B (narcotics, habit-forming medicines) never reaches the NCP. The pipeline checks it
// before emitting, the store before it serves a row to the NCP, and the CLI before it writes a file, so a
// mistake in one layer (a rule edited, a row flipped by hand) cannot leak such a prescription.
import type { M1Message } from './m1/model.ts';

export const NEVER_EXPORTED_GROUPS: ReadonlySet<string> = new Set(['A', 'B']);

/** Every reseptgruppe the prescription names (the drug, or each drug component of a magistral). */
export function prescriptionGroups(m1: M1Message): string[] {
  const dok = m1.resept.reseptDok;
  if (dok.kind !== 'ReseptDokLegemiddel') return [];
  const drug = dok.forskrivning.legemiddel;
  const drugs = drug.kind === 'Legemiddelblanding' ? drug.bestanddelLegemiddel.map((b) => b.legemiddel) : [drug];
  return [...new Set(drugs.map((d) => d.reseptgruppe.code.trim().toUpperCase()))];
}

/** The group A or B the prescription is in, if any. */
export function neverExportedGroup(groups: readonly (string | null | undefined)[]): string | undefined {
  return groups.map((g) => g?.trim().toUpperCase()).find((g): g is string => g !== undefined && NEVER_EXPORTED_GROUPS.has(g));
}

export class ExportGuardError extends Error {
  override name = 'ExportGuardError';
  constructor(group: string, where: string) {
    super(`A reseptgruppe ${group} prescription reached ${where}; it must never be sent to the NCP`);
  }
}

/** Throws when a group A or B prescription is about to leave; the message names no personal data. */
export function assertExportableGroup(groups: readonly (string | null | undefined)[], where: string): void {
  const group = neverExportedGroup(groups);
  if (group) throw new ExportGuardError(group, where);
}
