// Alerts in the eHDSI PS CDA: the wave 8 templates have no alert section or entry (eHDSISection has no
// LOINC 104605-1), so Kjernejournal's alerts travel as a section of narrative only, where a reader abroad
// still sees them; no coded entry claims a template it does not follow.
import type { SectionCda } from '../cda.ts';

export const alertsCda: SectionCda | undefined = undefined;
