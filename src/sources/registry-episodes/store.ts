// registry_episode: writes in batches that skip episodes already loaded, reads one patient at a time.
import { readJson } from '../../store/coalesce.ts';
import type { Queryable } from '../../store/db.ts';
import type { Episode, ProviderSystem, RegistryKind } from './format.ts';

const COLUMNS = 10;
/** Rows per insert statement: large enough to load millions of rows, small enough for any parameter limit. */
export const INSERT_BATCH = 500;

/** Inserts episodes not already stored; returns how many were new. */
export async function insertEpisodes(q: Queryable, episodes: readonly Episode[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < episodes.length; i += INSERT_BATCH) {
    const batch = episodes.slice(i, i + INSERT_BATCH);
    const params: unknown[] = [];
    const rows = batch.map((e, r) => {
      params.push(
        e.registry,
        e.id,
        e.fnr,
        e.start,
        e.end ?? null,
        e.provider.system,
        e.provider.id,
        e.provider.name ?? null,
        e.diagnoses,
        e.procedures.map((p) => `${p.code}@${p.date}`),
      );
      const b = r * COLUMNS;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::date, $${b + 5}::date, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}::text[], $${b + 10}::text[])`;
    });
    const res = await q.query(
      `insert into registry_episode
         (registry, episode_id, patient_fnr, start_date, end_date, provider_system, provider_id, provider_name, diagnoses, procedures)
       values ${rows.join(', ')}
       on conflict (registry, episode_id) do nothing
       returning episode_id`,
      params,
    );
    inserted += res.rows.length;
  }
  return inserted;
}

/**
 * The one query a summary runs against the registries: one patient, one registry, by the patient index, as
 * one json value so that NPR and KPR (and the summary's other sources) reach the store in one round trip
 * (readJson). Each episode is a positional array: no column names repeated per row, no record type to look
 * up per row, and json renders dates as ISO 8601 (YYYY-MM-DD) whatever the session's DateStyle.
 */
export const EPISODES_BY_PATIENT_SQL = `select coalesce(json_agg(json_build_array(episode_id, start_date, end_date, provider_system, provider_id,
    provider_name, diagnoses, procedures) order by start_date), '[]'::json)
  from registry_episode
  where patient_fnr = $1 and registry = $2`;

/** One episode as EPISODES_BY_PATIENT_SQL writes it. */
type EpisodeRow = [
  id: string,
  start: string,
  end: string | null,
  providerSystem: ProviderSystem,
  providerId: string,
  providerName: string | null,
  diagnoses: string[],
  procedures: string[],
];

export async function readEpisodes(q: Queryable, registry: RegistryKind, fnr: string): Promise<Episode[]> {
  const rows = (await readJson<EpisodeRow[]>(q, EPISODES_BY_PATIENT_SQL, [fnr, registry])) ?? [];
  return rows.map(([id, start, end, providerSystem, providerId, providerName, diagnoses, procedures]) => ({
    registry,
    id,
    fnr,
    start,
    ...(end ? { end } : {}),
    provider: { system: providerSystem, id: providerId, ...(providerName ? { name: providerName } : {}) },
    diagnoses,
    procedures: procedures.map((p) => {
      const at = p.lastIndexOf('@');
      return { code: p.slice(0, at), date: p.slice(at + 1) };
    }),
  }));
}
