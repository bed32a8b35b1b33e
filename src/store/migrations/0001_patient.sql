-- Patients known to Helsebro (from the population registry; the demo population in demo mode).
create table if not exists patient (
  id text primary key,
  resource jsonb not null,
  updated_at timestamptz not null default now()
);

-- Token search over identifiers: one row per identifier, looked up by (system, value) or value alone.
create table if not exists patient_identifier (
  system text not null,
  value text not null,
  patient_id text not null references patient (id) on delete cascade,
  primary key (system, value)
);
create index if not exists patient_identifier_value on patient_identifier (value);
create index if not exists patient_identifier_patient on patient_identifier (patient_id);

-- What the demo seeding has loaded (demo mode only), so restarts skip it.
create table if not exists demo_seed (
  name text primary key,
  version text not null,
  seeded_at timestamptz not null default now()
);
