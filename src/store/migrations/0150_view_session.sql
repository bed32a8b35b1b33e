-- The clinician view's server-side sessions and its sign-ins in progress. The browser holds only a random
-- id in a cookie; these tables hold the id's sha256 (so a read of the table gives no usable cookie), the
-- tokens the sign-in obtained, and the timeouts. Rows in a store shared by several instances, so any
-- instance serves any browser. Expired rows are deleted as new ones are written.
create table if not exists view_session (
  id_hash text primary key,
  -- The view's access token (audience HELSEID_VIEW_AUDIENCE, which the API refuses) and, from HelseID,
  -- the ID token sent back as id_token_hint when signing out at the provider.
  access_token text not null,
  id_token text,
  -- The patient of an EPJ launch (SMART launch context), when the session began with one.
  launch_patient text,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  -- Absolute end: sign-in time plus VIEW_SESSION_MAX_SEC, never after the access token's expiry.
  expires_at timestamptz not null
);
create index if not exists view_session_expires on view_session (expires_at);

-- An authorization request on its way to the provider: state, nonce and PKCE verifier, kept here rather
-- than in the browser, and deleted on first use, so a callback (and its code) is accepted once.
create table if not exists view_login (
  id_hash text primary key,
  state text not null,
  nonce text not null,
  code_verifier text not null,
  -- The EPJ launch this sign-in answers (SMART EHR launch), and the view page to return to.
  launch text,
  next_path text,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index if not exists view_login_expires on view_login (expires_at);
