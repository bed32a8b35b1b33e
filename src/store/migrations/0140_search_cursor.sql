-- The parameters of a search that came in a POST body (a fødselsnummer, say), kept server-side for a while
-- so the paging links of its answer carry only an opaque cursor id, never the parameters themselves.
-- Bound to the caller that made the search; expired rows are removed when new ones are written.
create table if not exists search_cursor (
  id text primary key,
  owner text not null,
  params jsonb not null,
  expires_at timestamptz not null
);
create index if not exists search_cursor_expires on search_cursor (expires_at);
