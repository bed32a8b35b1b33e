-- Prescriptions Helsebro holds, in both directions:
--   origin 'NO': a Norwegian M1 (country A), with its export decision and the EU outputs made from it;
--   origin 'EU': an EU ePrescription delivered by the NCP for a dispensing in Norway (country B).
-- Dispensings (either direction) lock the prescription row (select ... for update) before counting what
-- remains, so concurrent dispensings can never over-dispense.
create table if not exists prescription (
  id text primary key,
  -- The prescription id as the rest of the world knows it: M1 MsgHead MsgId, or the EU prescription id.
  prescription_id text not null,
  origin text not null check (origin in ('NO', 'EU')),
  patient_id text,
  patient_fnr text,
  exportable boolean not null default false,
  -- The export decision: { exportable, reasons: [{ code, nb, en }], remaining ... } (origin NO).
  decision jsonb not null default '{}'::jsonb,
  status text not null default 'active',
  -- How many dispensings the prescription allows in total (Reiterasjon + 1), and how many were made.
  dispensings_allowed integer,
  dispensings_done integer not null default 0,
  quantity_prescribed numeric,
  quantity_dispensed numeric not null default 0,
  quantity_unit text,
  valid_until date,
  earliest_dispense date,
  -- sha256 of the source document, so the same message imported twice is one prescription.
  source_hash text not null,
  source_xml text,
  source_json jsonb,
  fhir_bundle jsonb,
  cda_xml text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (origin, prescription_id)
);
create index if not exists prescription_patient_fnr on prescription (patient_fnr, origin);
create index if not exists prescription_patient_id on prescription (patient_id, origin);
