-- Who reported a dispensation (Norway as country B, channel 'pharmacy'): the authenticated client id and the
-- organisation number it acted for (token claims, else its registration). A pharmacy reads, withdraws and
-- replays only its own (audit2 F2). Rows from before this column hold null: no pharmacy owns them.
alter table dispensation add column if not exists reporter_client text;
alter table dispensation add column if not exists reporter_orgnr text;
