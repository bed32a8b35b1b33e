// Loads the demo population on first start. Idempotent: a marker row records what was seeded, so a
// restart costs one query; changing the population's version re-seeds.
import type { Db } from '../store/db.ts';
import { upsertPatient } from '../store/patients.ts';
import { demoPatients } from './population.ts';

/** Bump when the demo population changes shape. */
const POPULATION_VERSION = 1;

export interface SeedStep {
  name: string;
  run: (db: Db) => Promise<void>;
}

export async function seedDemo(db: Db, generated: number, extraSteps: SeedStep[] = []): Promise<boolean> {
  const version = `${POPULATION_VERSION}:${generated}:${extraSteps.map((s) => s.name).join(',')}`;
  const marker = await db.query<{ version: string }>('select version from demo_seed where name = $1', ['population']);
  if (marker.rows[0]?.version === version) return false;
  await db.tx(async (q) => {
    for (const p of demoPatients(generated)) await upsertPatient(q, p);
  });
  for (const step of extraSteps) await step.run(db);
  await db.query(
    `insert into demo_seed (name, version) values ($1, $2) on conflict (name) do update set version = excluded.version, seeded_at = now()`,
    ['population', version],
  );
  return true;
}
