// NPR and KPR as summary sources: no upstream call, one indexed query on the patient key in the store
// (the extracts are loaded by `helsebro ingest`), then aggregation.
import type { Queryable } from '../../store/db.ts';
import type { SummarySource } from '../source.ts';
import { mapEpisodes } from './aggregate.ts';
import type { RegistryKind } from './format.ts';
import { readEpisodes } from './store.ts';

export function registryEpisodeSource(db: Queryable, registry: RegistryKind): SummarySource {
  return {
    name: registry,
    async fetch(patient, signal) {
      signal.throwIfAborted();
      const episodes = await readEpisodes(db, registry, patient.fnr);
      signal.throwIfAborted();
      return { status: 'ok', resources: mapEpisodes(episodes, patient) };
    },
  };
}
