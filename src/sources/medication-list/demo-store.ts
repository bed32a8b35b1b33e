// The medication list's stand-in for demo mode: each demo patient's $getMedication answer is stored as
// SFM would send it and served over the same client interface as the live API.
import { readJson } from '../../store/coalesce.ts';
import type { Db, Queryable } from '../../store/db.ts';
import { OID } from '../../fhir/identifiers.ts';
import type { MedicationListClient } from './client.ts';
import { pllDemoPopulation } from './demo-data.ts';

export function medicationListStoreClient(db: Queryable): MedicationListClient {
  return {
    async getMedication(patient, signal) {
      signal.throwIfAborted();
      // One json value, so it travels to the store with the summary's other reads (readJson).
      const answer = await readJson(db, 'select answer from pll_demo_answer where patient_fnr = $1', [patient.fnr]);
      // No prescriptions and no PLL: SFM answers with an empty medication document.
      return answer ?? emptyAnswer(patient.fnr);
    },
  };
}

function emptyAnswer(fnr: string): unknown {
  return {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'medication',
        resource: {
          resourceType: 'Bundle',
          type: 'document',
          entry: [
            {
              resource: {
                resourceType: 'Composition',
                status: 'final',
                type: { text: 'Legemiddelliste' },
                subject: { identifier: { system: OID.fnr, value: fnr } },
                title: 'Pasientens legemiddelliste',
                section: [],
              },
            },
          ],
        },
      },
    ],
  };
}

/** Seeds the demo population's medication lists. Idempotent. */
export async function seedDemoMedicationList(db: Db): Promise<void> {
  await db.tx(async (q) => {
    for (const p of pllDemoPopulation()) {
      await q.query(
        `insert into pll_demo_answer (patient_fnr, answer) values ($1, $2::jsonb)
         on conflict (patient_fnr) do update set answer = excluded.answer`,
        [p.fnr, JSON.stringify(p.answer)],
      );
    }
  });
}
