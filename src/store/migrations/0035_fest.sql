-- FEST drug master data (M30): one row per catalogue object Helsebro keeps (package, brand, active
-- substance, substance with strength, generic product), keyed by the object's stable FEST id.
create table if not exists fest_entry (
  fest_id text primary key,
  kind text not null,
  varenr text,
  atc text,
  name text not null,
  status text not null,
  entry_time timestamptz,
  record jsonb not null,
  loaded_at timestamptz not null default now()
);
create index if not exists fest_entry_varenr on fest_entry (varenr);
create index if not exists fest_entry_atc on fest_entry (atc);

-- Completed loads, by file content: a repeated load of the same file is recognised and skipped.
create table if not exists fest_load (
  sha256 text primary key,
  source text not null,
  hentet_dato text,
  records integer not null,
  invalid integer not null,
  loaded_at timestamptz not null default now()
);
