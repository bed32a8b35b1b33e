// The clinician view's server-side sessions and sign-ins in progress (migration 0150). The browser's
// cookie holds a random 256-bit id; the store keys rows by its sha256, so the table alone opens no
// session. Timestamps come from the caller's clock, so the timeouts are decided in one place (sessionState).
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../store/db.ts';

export interface SessionTimeouts {
  idleSec: number;
  maxSec: number;
}

export interface ViewSession {
  accessToken: string;
  idToken: string | undefined;
  launchPatient: string | undefined;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export interface NewSession {
  accessToken: string;
  idToken?: string | undefined;
  launchPatient?: string | undefined;
  /** The access token's exp (seconds since the epoch): the session never outlives its token. */
  tokenExpiresAt: number;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  launch: string | undefined;
  next: string | undefined;
}

/** How long a sign-in may take at the provider before its state is forgotten. */
export const LOGIN_TTL_SEC = 10 * 60;

/** 256 random bits, base64url: 43 characters (session.ts's cookieId accepts only this shape). */
export const newOpaqueId = (): string => randomBytes(32).toString('base64url');
const hash = (id: string): string => createHash('sha256').update(id).digest('hex');

export type SessionState = 'active' | 'idle' | 'expired';

/** Whether a session may serve a request at `now`: not past its absolute end, and used recently enough. */
export function sessionState(s: Pick<ViewSession, 'lastSeenAt' | 'expiresAt'>, now: Date, idleSec: number): SessionState {
  if (now.getTime() >= s.expiresAt.getTime()) return 'expired';
  if (now.getTime() - s.lastSeenAt.getTime() >= idleSec * 1000) return 'idle';
  return 'active';
}

/** The absolute end of a session begun at `now`. */
export function sessionEnd(now: Date, tokenExpiresAt: number, maxSec: number): Date {
  return new Date(Math.min(now.getTime() + maxSec * 1000, tokenExpiresAt * 1000));
}

/** Stores a new session; returns the id for the cookie and the session's absolute end. */
export async function createSession(db: Queryable, s: NewSession, now: Date, timeouts: SessionTimeouts): Promise<{ id: string; expiresAt: Date }> {
  await db.query('delete from view_session where expires_at <= $1', [now.toISOString()]);
  const id = newOpaqueId();
  const expiresAt = sessionEnd(now, s.tokenExpiresAt, timeouts.maxSec);
  await db.query(
    `insert into view_session (id_hash, access_token, id_token, launch_patient, created_at, last_seen_at, expires_at)
     values ($1, $2, $3, $4, $5, $5, $6)`,
    [hash(id), s.accessToken, s.idToken ?? null, s.launchPatient ?? null, now.toISOString(), expiresAt.toISOString()],
  );
  return { id, expiresAt };
}

interface SessionRow {
  access_token: string;
  id_token: string | null;
  launch_patient: string | null;
  created_at: Date | string;
  last_seen_at: Date | string;
  expires_at: Date | string;
}

const toSession = (r: SessionRow): ViewSession => ({
  accessToken: r.access_token,
  idToken: r.id_token ?? undefined,
  launchPatient: r.launch_patient ?? undefined,
  createdAt: new Date(r.created_at),
  lastSeenAt: new Date(r.last_seen_at),
  expiresAt: new Date(r.expires_at),
});

export async function findSession(db: Queryable, id: string): Promise<ViewSession | undefined> {
  const { rows } = await db.query<SessionRow>(
    'select access_token, id_token, launch_patient, created_at, last_seen_at, expires_at from view_session where id_hash = $1',
    [hash(id)],
  );
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function touchSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('update view_session set last_seen_at = $2 where id_hash = $1', [hash(id), now.toISOString()]);
}

/** Ends a session; returns it (its ID token is the hint for signing out at the provider). */
export async function deleteSession(db: Queryable, id: string): Promise<ViewSession | undefined> {
  const { rows } = await db.query<SessionRow>(
    'delete from view_session where id_hash = $1 returning access_token, id_token, launch_patient, created_at, last_seen_at, expires_at',
    [hash(id)],
  );
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function createLogin(db: Queryable, login: PendingLogin, now: Date): Promise<string> {
  await db.query('delete from view_login where expires_at <= $1', [now.toISOString()]);
  const id = newOpaqueId();
  await db.query(
    `insert into view_login (id_hash, state, nonce, code_verifier, launch, next_path, created_at, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [hash(id), login.state, login.nonce, login.codeVerifier, login.launch ?? null, login.next ?? null, now.toISOString(), new Date(now.getTime() + LOGIN_TTL_SEC * 1000).toISOString()],
  );
  return id;
}

/** The sign-in in progress, deleted as it is read: a second callback with the same cookie finds nothing. */
export async function takeLogin(db: Queryable, id: string, now: Date): Promise<PendingLogin | undefined> {
  const { rows } = await db.query<{ state: string; nonce: string; code_verifier: string; launch: string | null; next_path: string | null; expires_at: Date | string }>(
    'delete from view_login where id_hash = $1 returning state, nonce, code_verifier, launch, next_path, expires_at',
    [hash(id)],
  );
  const r = rows[0];
  if (!r || new Date(r.expires_at).getTime() <= now.getTime()) return undefined;
  return { state: r.state, nonce: r.nonce, codeVerifier: r.code_verifier, launch: r.launch ?? undefined, next: r.next_path ?? undefined };
}
