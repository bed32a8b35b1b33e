// The mapping tables of the eDispensation direction (mappings/m10-to-mpd-dispense.csv and
// mappings/m10-to-ehdsi-dispensation-cda.csv), read through the same loader as the ePrescription direction.
// The emitters take the ConceptMap of every coded field from the table, so a reviewed change of map in the
// table is the change that runs; the tests check every required row against the emitted documents.
import { loadMappingTable, type MappingTable } from '../../mappings/table.ts';

export const dispenseTable = (): MappingTable => loadMappingTable('m10-to-mpd-dispense');
export const dispensationCdaTable = (): MappingTable => loadMappingTable('m10-to-ehdsi-dispensation-cda');

/** The ConceptMap the table names for a target (exact path first, then the first row below it). */
export function codeMapFor(target: string, table: MappingTable = dispenseTable()): string | undefined {
  const exact = table.rows.find((r) => r.target === target && r.codeMap);
  return (exact ?? table.rows.find((r) => r.target.startsWith(target) && r.codeMap))?.codeMap;
}
