-- Dispensations Helsebro received, in both directions, and the messages they must cause (the outbox).
--   channel 'ncp':      an EU pharmacy dispensed a Norwegian prescription (Norway as country A); the outbox
--                       carries an M10 to the prescription chain.
--   channel 'pharmacy': a Norwegian pharmacy dispensed an EU prescription (Norway as country B); the outbox
--                       carries the EU eDispensation to the NCP.
-- A dispensation, its prescription counters and its outbox row are written in one transaction, after the
-- prescription row is locked (select ... for update), so a committed dispensation always has its message.
create table if not exists dispensation (
  -- The MedicationDispense id served at /fhir/MedicationDispense/{id}.
  id text primary key,
  -- identifier system|value of the dispensing event (+ '|discard' for a withdrawal): the idempotency key.
  idem_key text not null unique,
  -- sha256 of the canonical content: same key + same fingerprint = a replay, another fingerprint = 409.
  fingerprint text not null,
  channel text not null check (channel in ('ncp', 'pharmacy')),
  kind text not null check (kind in ('dispense', 'discard')),
  -- fhir-mpd | ehdsi-cda | m10 | discard-operation
  source text not null,
  prescription_row text not null references prescription (id),
  patient_fnr text,
  -- kind 'discard': the dispensation it withdraws. kind 'dispense': the discard that withdrew it, if any.
  discards text references dispensation (id),
  discarded_by text,
  -- What this dispensing added to prescription.quantity_dispensed (null when the quantity was not counted).
  quantity_counted numeric,
  -- The dispensation as read (model.ts), with the foreign pharmacy and pharmacist the M10 cannot carry.
  model jsonb not null,
  -- The MedicationDispense as served (status entered-in-error once withdrawn).
  resource jsonb not null,
  warnings jsonb not null default '[]'::jsonb,
  -- The message as received when it was XML (CDA, M10), kept for audit and re-processing.
  source_body text,
  recorded_at timestamptz not null default now()
);
create index if not exists dispensation_prescription on dispensation (prescription_row, recorded_at);
create index if not exists dispensation_patient_fnr on dispensation (patient_fnr) where patient_fnr is not null;

-- Messages to deliver, at least once, by the outbox workers (any number of processes). A worker claims due
-- rows with `for update skip locked` and a lease; a worker that dies mid-delivery leaves its rows in-flight
-- until the lease runs out, and another worker takes them. Receivers deduplicate by msg_id (sent with every
-- delivery), so at-least-once delivery has an exactly-once effect.
create table if not exists outbox (
  id text primary key,
  -- Allocated at insert, after the prescription lock is held: the delivery order within an order key.
  seq bigint generated always as identity,
  -- m10: to the prescription chain (Reseptformidleren). ncp: EU eDispensation to the NCP.
  channel text not null check (channel in ('m10', 'ncp')),
  -- MsgHead MsgId of the M10, or the id of the EU eDispensation message: unique, the receiver's dedupe key.
  msg_id text not null unique,
  dispensation_id text not null references dispensation (id),
  -- Messages with the same order key (the prescription) are delivered one at a time, oldest first, so an
  -- annullering never overtakes the M10 it withdraws; an earlier dead message holds the later ones back.
  order_key text not null,
  content_type text not null,
  payload text not null,
  state text not null default 'pending' check (state in ('pending', 'in-flight', 'delivered', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  claimed_by text,
  claim_token text,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz
);
create index if not exists outbox_pending_due on outbox (next_attempt_at) where state = 'pending';
create index if not exists outbox_in_flight_lease on outbox (lease_until) where state = 'in-flight';
create index if not exists outbox_dispensation on outbox (dispensation_id);
create index if not exists outbox_order on outbox (order_key, seq) where state <> 'delivered';
create index if not exists outbox_state on outbox (state, created_at);
