// The medication-list summary source: one $getMedication call, validated and mapped.
import type { SummarySource } from '../source.ts';
import type { MedicationListClient } from './client.ts';
import { mapMedicationList } from './mapper.ts';
import { parseMedicationList } from './parse.ts';

export function medicationListSource(client: MedicationListClient): SummarySource {
  return {
    name: 'medication-list',
    async fetch(patient, signal) {
      const items = parseMedicationList(await client.getMedication(patient, signal));
      return { status: 'ok', resources: mapMedicationList(items, patient) };
    },
  };
}
