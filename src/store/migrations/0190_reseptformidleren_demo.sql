-- Demo stand-in for Reseptformidleren (RF), the national prescription intermediary that Helsebro asks for a
-- Norwegian prescription's state before it states dispensings remaining abroad (src/sources/reseptformidleren/).
-- Used in demo mode without RESEPTFORMIDLEREN_BASE_URL. A prescription Helsebro holds that has no row here
-- is, to the stand-in, dispensable (status E) with no dispensings in Norway.
create table if not exists rf_demo_prescription (
  -- The M1 MsgId.
  resept_id text primary key,
  -- Kodeverk 7408 (E, U, R, T, F, X, ...); null: RF does not know the prescription (M9.8 IngenResept).
  status text,
  -- RF's count of dispensings: those made in Norway, plus the M10s Helsebro delivered for dispensings abroad.
  dispensings integer not null default 0 check (dispensings >= 0),
  -- The patient has reserved against the answer (M9.8 Pasientreservasjon: no count is given).
  patient_reservation boolean not null default false,
  updated_at timestamptz not null default now()
);

-- The M10s the stand-in has counted, by MsgId, so a message delivered twice (delivery is at least once)
-- counts once, as RF deduplicates by MsgId.
create table if not exists rf_demo_m10 (
  msg_id text primary key,
  resept_id text not null,
  annullering boolean not null,
  received_at timestamptz not null default now()
);
