-- Demo stand-ins for the live summary sources (HELSEBRO_MODE=demo without upstream base URLs).
-- Each holds the upstream's own JSON shapes, keyed by the patient's national identity number first so
-- every read is an index lookup on the patient key.

-- Kjernejournal critical information: one row per Kj* record, and the /status answer per patient.
create table if not exists kj_demo_record (
  patient_fnr text not null,
  record_id text not null,
  resource_type text not null,
  resource jsonb not null,
  primary key (patient_fnr, resource_type, record_id)
);

create table if not exists kj_demo_status (
  patient_fnr text primary key,
  status jsonb not null
);

-- The medication list: the SFM $getMedication answer (a Parameters resource holding the medication
-- Bundle) per patient.
create table if not exists pll_demo_answer (
  patient_fnr text primary key,
  answer jsonb not null
);
