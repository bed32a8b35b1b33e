// Demo data for every summary source, for start-up in demo mode. Idempotent.
import type { Db } from '../store/db.ts';
import { seedDemoKjernejournal } from '../sources/kjernejournal/demo-store.ts';
import { seedDemoMedicationList } from '../sources/medication-list/demo-store.ts';
import { seedDemoRegistryEpisodes } from '../sources/registry-episodes/demo-data.ts';

export async function seedDemoSummarySources(db: Db): Promise<void> {
  await seedDemoKjernejournal(db);
  await seedDemoMedicationList(db);
  await seedDemoRegistryEpisodes(db);
}
