-- NPR and KPR episodes, loaded from the registries' daily extracts (`npx helsebro ingest npr|kpr FILE`).
-- The registry's own episode id is the natural key: loading the same extract twice adds nothing.
create table if not exists registry_episode (
  registry text not null check (registry in ('npr', 'kpr')),
  episode_id text not null,
  patient_fnr text not null,
  start_date date not null,
  end_date date,
  provider_system text not null check (provider_system in ('resh', 'orgnr', 'her')),
  provider_id text not null,
  provider_name text,
  diagnoses text[] not null default '{}',
  -- NKPK procedures as "CODE@YYYY-MM-DD".
  procedures text[] not null default '{}',
  loaded_at timestamptz not null default now(),
  primary key (registry, episode_id)
);

-- Every summary reads one patient's episodes: by patient key, never by scanning the registry.
create index if not exists registry_episode_patient on registry_episode (patient_fnr, registry, start_date);
