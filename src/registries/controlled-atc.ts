// ATC classes that hold narcotic (reseptgruppe A) or habit-forming (reseptgruppe B) medicines: opioids and
// opioid anaesthetics, cannabinoids, barbiturates, clonazepam, benzodiazepines and z-hypnotics, central
// stimulants, opioid-dependence drugs and opium-alkaloid cough medicines. Wider than the groups themselves on
// purpose: only consulted where the group itself cannot be read from FEST (a product FEST does not know, or a
// foreign prescription that names no Norwegian product), so that such a medicine is stopped rather than let
// through on a sender's word. Both bridges use it: the export rules (NO-EXPORT-CONTROLLED-UNVERIFIED) and
// the EU prescriptions dispensed in Norway (DISP-CONTROLLED-PRODUCT, DISP-RX-CONTROLLED-PRODUCT).
export const CONTROLLED_ATC_PREFIXES: readonly string[] = ['N01AH', 'N02A', 'N02BG10', 'N03AA', 'N03AE01', 'N05BA', 'N05CA', 'N05CD', 'N05CF', 'N06BA', 'N07BC', 'R05DA'];

/** Whether an ATC code lies in a class of narcotic or habit-forming medicines. */
export function isControlledAtc(code: string | undefined): boolean {
  const atc = code?.replace(/\s+/g, '').toUpperCase();
  return !!atc && CONTROLLED_ATC_PREFIXES.some((p) => atc.startsWith(p));
}

/** Reseptgruppe A (narcotics) and B (habit-forming), kodeverk 7421. */
export const isControlledGroup = (group: string | undefined): boolean => {
  const g = group?.trim().toUpperCase();
  return g === 'A' || g === 'B';
};
