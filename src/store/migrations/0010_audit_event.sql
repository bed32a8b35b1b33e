-- The audit log: one FHIR AuditEvent per request that read or wrote personal data. Append-only: triggers
-- refuse UPDATE, DELETE and TRUNCATE for every role, so no code path can change or remove history.
-- (Removing an event takes dropping the trigger, a schema change done by the table owner; in production the
-- application role should not own the table, and should hold only INSERT and SELECT on it.)
--
-- Ready for monthly partitioning: the primary key includes `recorded`, the partition key, and no other
-- unique constraint or foreign key points at or from this table. Converting means creating
-- `audit_event_p (like audit_event) partition by range (recorded)`, attaching one partition per month,
-- copying, and renaming; the indexes and triggers below are then created on the partitioned parent.
create table if not exists audit_event (
  id uuid not null,
  recorded timestamptz not null,
  -- The patient the event concerns: Helsebro id and/or fødselsnummer, as known when it was recorded.
  patient_id text,
  patient_fnr text,
  action text not null check (action in ('C', 'R', 'U', 'D', 'E')),
  outcome text not null check (outcome in ('0', '4', '8', '12')),
  request_id text not null,
  resource jsonb not null,
  primary key (id, recorded)
);

create index if not exists audit_event_patient_fnr on audit_event (patient_fnr, recorded desc) where patient_fnr is not null;
create index if not exists audit_event_patient_id on audit_event (patient_id, recorded desc) where patient_id is not null;
create index if not exists audit_event_recorded on audit_event (recorded desc);

create or replace function audit_event_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_event is append-only: % is not allowed', tg_op using errcode = 'P0001';
end;
$$;

create or replace trigger audit_event_no_update_delete
  before update or delete on audit_event
  for each row execute function audit_event_append_only();

create or replace trigger audit_event_no_truncate
  before truncate on audit_event
  for each statement execute function audit_event_append_only();
