// The CDA part of each section module, by section key (alerts have none: see alerts/cda.ts).
import { alertsCda } from './alerts/cda.ts';
import { allergiesCda } from './allergies/cda.ts';
import type { SectionCda } from './cda.ts';
import { devicesCda } from './devices/cda.ts';
import { medicationsCda } from './medications/cda.ts';
import { problemsCda } from './problems/cda.ts';
import { proceduresCda } from './procedures/cda.ts';
import type { SectionKey } from './types.ts';

export const SECTION_CDA: Record<SectionKey, SectionCda | undefined> = {
  problems: problemsCda,
  allergies: allergiesCda,
  medications: medicationsCda,
  procedures: proceduresCda,
  devices: devicesCda,
  alerts: alertsCda,
};
