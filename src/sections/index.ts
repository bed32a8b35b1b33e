// The IPS sections Helsebro writes, in document order. The three required sections are always present;
// the others only when there is something to say (entries, or a source that could not be read).
import { alerts } from './alerts/index.ts';
import { allergies } from './allergies/index.ts';
import { devices } from './devices/index.ts';
import { medications } from './medications/index.ts';
import { problems } from './problems/index.ts';
import { procedures } from './procedures/index.ts';
import type { AnySectionModule, SectionKey } from './types.ts';

export const SECTION_MODULES: readonly AnySectionModule[] = [problems, allergies, medications, procedures, devices, alerts] as unknown as AnySectionModule[];

export const sectionModule = (key: SectionKey): AnySectionModule => SECTION_MODULES.find((m) => m.key === key)!;

export type { AnySectionModule, FieldRow, Lang, RowContext, SectionKey, SectionModule, Texts } from './types.ts';
export { SECTION_KEYS, cellsOf } from './types.ts';
