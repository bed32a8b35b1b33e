-- Documents Helsebro makes on demand for the NCP (IHE MHD): the eHDSI Patient Summary CDA, Level 3 and
-- Level 1, kept until it expires so the DocumentReference that lists it and the Binary that serves it
-- agree (same bytes, size and hash). Only the caller that asked for it may read it back: another caller
-- may be entitled to less of the patient's summary.
create table if not exists ncp_document (
  id text primary key,
  patient_id text not null,
  kind text not null check (kind in ('ps')),
  level smallint not null check (level in (1, 3)),
  requester text not null,
  lang text not null,
  content_type text not null,
  content text not null,
  size integer not null,
  sha1 text not null,
  title text not null,
  -- The Level 3 document a Level 1 document renders.
  transforms text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index if not exists ncp_document_patient on ncp_document (patient_id, created_at desc);
create index if not exists ncp_document_expiry on ncp_document (expires_at);
