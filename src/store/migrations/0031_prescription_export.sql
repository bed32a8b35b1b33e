-- Norway as country A: what the M1 conversions add to the shared prescription table (0030), and the
-- Provenance of each conversion.
-- The reseptgruppe of the drug, kept in its own column so that every query serving the NCP can refuse
-- groups A and B in SQL, independently of the export decision.
alter table prescription add column if not exists prescription_group text;
-- dispensings_done when the stored EU outputs were made; the outputs state the dispensings remaining,
-- so a row whose counter has moved since is converted again before it is served.
alter table prescription add column if not exists outputs_at_dispensings integer;
-- Re-importing the same M1 bytes finds the earlier import by its hash.
create index if not exists prescription_source_hash on prescription (source_hash);
-- The NCP's query: a patient's exportable prescriptions of Norwegian origin.
create index if not exists prescription_ncp_patient_fnr on prescription (patient_fnr) where origin = 'NO' and exportable;
create index if not exists prescription_ncp_patient_id on prescription (patient_id) where origin = 'NO' and exportable;

create table if not exists prescription_provenance (
  id text primary key,
  prescription_row text not null references prescription (id),
  recorded timestamptz not null,
  resource jsonb not null
);
create index if not exists prescription_provenance_row on prescription_provenance (prescription_row, recorded);
