-- The audit log partitioned by month (range on `recorded`), as the design asks: a month is one table, so
-- old months can be archived or moved to cheaper storage whole, and a patient's log reads one small index
-- per month instead of one index over the whole history.
--
-- Append-only on every partition: a statement addressed to one partition does not fire its parent's
-- statement triggers, and a row trigger fires only for rows that exist, so every table here (the parent,
-- the default partition and each month, made by audit_event_ensure_month) gets its own statement trigger
-- refusing UPDATE, DELETE and TRUNCATE.
--
-- A default partition takes any event whose month has no partition yet, so no write is ever refused for
-- want of a partition. Start-up and a daily timer create the coming months ahead of time
-- (src/audit/partitions.ts). A month whose events already sit in the default partition keeps them there:
-- moving them would take a DELETE, which the append-only rule forbids.

alter table audit_event rename to audit_event_unpartitioned;
alter index if exists audit_event_patient_fnr rename to audit_event_unpartitioned_patient_fnr;
alter index if exists audit_event_patient_id rename to audit_event_unpartitioned_patient_id;
alter index if exists audit_event_recorded rename to audit_event_unpartitioned_recorded;
alter table audit_event_unpartitioned rename constraint audit_event_pkey to audit_event_unpartitioned_pkey;

create table audit_event (like audit_event_unpartitioned including defaults including constraints) partition by range (recorded);
alter table audit_event add primary key (id, recorded);
create index audit_event_patient_fnr on audit_event (patient_fnr, recorded desc) where patient_fnr is not null;
create index audit_event_patient_id on audit_event (patient_id, recorded desc) where patient_id is not null;
create index audit_event_recorded on audit_event (recorded desc);

create or replace function audit_event_ensure_month(month_start timestamptz) returns text language plpgsql as $$
declare
  first timestamptz := date_trunc('month', month_start at time zone 'UTC') at time zone 'UTC';
  next timestamptz := first + interval '1 month';
  name text := format('audit_event_y%sm%s', to_char(first at time zone 'UTC', 'YYYY'), to_char(first at time zone 'UTC', 'MM'));
begin
  if to_regclass(name) is not null then
    return name;
  end if;
  if exists (select 1 from audit_event_default where recorded >= first and recorded < next) then
    return null;
  end if;
  execute format('create table %I partition of audit_event for values from (%L) to (%L)', name, first, next);
  execute format(
    'create trigger audit_event_append_only before update or delete or truncate on %I for each statement execute function audit_event_append_only()',
    name);
  return name;
end;
$$;

create table audit_event_default partition of audit_event default;

create trigger audit_event_append_only
  before update or delete or truncate on audit_event
  for each statement execute function audit_event_append_only();

create trigger audit_event_append_only
  before update or delete or truncate on audit_event_default
  for each statement execute function audit_event_append_only();

-- A partition for every month that already has events, and for this month and the next two.
select audit_event_ensure_month(m)
from (
  select distinct date_trunc('month', recorded at time zone 'UTC') at time zone 'UTC' as m from audit_event_unpartitioned
  union
  select date_trunc('month', now() at time zone 'UTC') at time zone 'UTC' + (n * interval '1 month') from generate_series(0, 2) as n
) months;

insert into audit_event select * from audit_event_unpartitioned;

drop table audit_event_unpartitioned;
