// The outbox table (migration 0040). Messages are enqueued in the transaction that stores the dispensation
// and delivered later by workers in any number of processes:
//   claim:   due rows (pending and due, or in-flight with an expired lease) are taken with
//            `for update skip locked`, so two workers never take the same row; each claim gets a token
//            and a lease, and counts as an attempt.
//   settle:  delivered / retry later / dead, each only by the holder of the current claim token, so a
//            worker whose lease ran out (and whose row another worker took) cannot settle it twice.
// All times come from the database clock, so workers on different hosts agree on what is due.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/db.ts';

export type OutboxChannel = 'm10' | 'ncp';
export type OutboxState = 'pending' | 'in-flight' | 'delivered' | 'dead';

export interface OutboxMessage {
  id: string;
  channel: OutboxChannel;
  msgId: string;
  dispensationId: string;
  contentType: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: string;
  claimToken?: string;
  lastError?: string;
  createdAt: string;
  deliveredAt?: string;
}

interface DbRow {
  id: string;
  channel: OutboxChannel;
  msg_id: string;
  dispensation_id: string;
  content_type: string;
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: string;
  claim_token: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

const ts = (col: string, as = col) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${as}`;
const COLUMNS = `id, channel, msg_id, dispensation_id, content_type, payload, state, attempts, ${ts('next_attempt_at')},
  claim_token, last_error, ${ts('created_at')}, ${ts('delivered_at')}`;

function fromDb(r: DbRow): OutboxMessage {
  const m: OutboxMessage = {
    id: r.id,
    channel: r.channel,
    msgId: r.msg_id,
    dispensationId: r.dispensation_id,
    contentType: r.content_type,
    payload: r.payload,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
  };
  if (r.claim_token !== null) m.claimToken = r.claim_token;
  if (r.last_error !== null) m.lastError = r.last_error;
  if (r.delivered_at !== null) m.deliveredAt = r.delivered_at;
  return m;
}

export interface NewOutboxMessage {
  channel: OutboxChannel;
  msgId: string;
  dispensationId: string;
  /** Messages with the same key are delivered one at a time in insert order (the prescription row id). */
  orderKey: string;
  contentType: string;
  payload: string;
}

export async function enqueue(q: Queryable, m: NewOutboxMessage): Promise<string> {
  const id = randomUUID();
  await q.query(
    `insert into outbox (id, channel, msg_id, dispensation_id, order_key, content_type, payload) values ($1, $2, $3, $4, $5, $6, $7)`,
    [id, m.channel, m.msgId, m.dispensationId, m.orderKey, m.contentType, m.payload],
  );
  return id;
}

export interface ClaimOptions {
  channels: readonly OutboxChannel[];
  workerId: string;
  limit: number;
  leaseMs: number;
}

/**
 * Takes up to `limit` due messages for this worker; each claim counts as an attempt. A message waits while an
 * earlier message with the same order key is undelivered (pending, in flight or dead).
 */
export async function claimDue(q: Queryable, opts: ClaimOptions): Promise<OutboxMessage[]> {
  if (!opts.channels.length) return [];
  const token = randomUUID();
  const r = await q.query<DbRow>(
    `update outbox set state = 'in-flight', attempts = attempts + 1, claimed_by = $2, claim_token = $3,
       lease_until = now() + make_interval(secs => $4::float8 / 1000)
     where id in (
       select o.id from outbox o
       where o.channel = any($1::text[])
         and ((o.state = 'pending' and o.next_attempt_at <= now()) or (o.state = 'in-flight' and o.lease_until <= now()))
         and not exists (
           select 1 from outbox e where e.order_key = o.order_key and e.seq < o.seq and e.state <> 'delivered')
       order by o.next_attempt_at, o.seq
       limit $5
       for update of o skip locked)
     returning ${COLUMNS}, seq`,
    [opts.channels, opts.workerId, token, opts.leaseMs, opts.limit],
  );
  return (r.rows as (DbRow & { seq: string | number })[]).sort((a, b) => Number(a.seq) - Number(b.seq)).map(fromDb);
}

/** Settles a claimed message as delivered. False when the claim was lost (lease expired and retaken). */
export async function markDelivered(q: Queryable, id: string, token: string): Promise<boolean> {
  const r = await q.query(
    `update outbox set state = 'delivered', delivered_at = now(), last_error = null, claim_token = null, lease_until = null
     where id = $1 and claim_token = $2 and state = 'in-flight'`,
    [id, token],
  );
  return r.rowCount === 1;
}

/** Settles a failed attempt: back to pending after `retryInMs`, or dead when `retryInMs` is undefined. */
export async function markFailed(q: Queryable, id: string, token: string, error: string, retryInMs: number | undefined): Promise<boolean> {
  const r =
    retryInMs === undefined
      ? await q.query(
          `update outbox set state = 'dead', last_error = $3, claim_token = null, lease_until = null
           where id = $1 and claim_token = $2 and state = 'in-flight'`,
          [id, token, error.slice(0, 2000)],
        )
      : await q.query(
          `update outbox set state = 'pending', last_error = $3, claim_token = null, lease_until = null,
             next_attempt_at = now() + make_interval(secs => $4::float8 / 1000)
           where id = $1 and claim_token = $2 and state = 'in-flight'`,
          [id, token, error.slice(0, 2000), retryInMs],
        );
  return r.rowCount === 1;
}

export async function readOutboxMessage(q: Queryable, id: string): Promise<OutboxMessage | undefined> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from outbox where id = $1`, [id]);
  return r.rows[0] && fromDb(r.rows[0]);
}

export async function outboxForDispensation(q: Queryable, dispensationId: string): Promise<OutboxMessage[]> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from outbox where dispensation_id = $1 order by created_at`, [dispensationId]);
  return r.rows.map(fromDb);
}

export interface OutboxCount {
  channel: OutboxChannel;
  state: OutboxState;
  count: number;
}

export async function countOutbox(q: Queryable): Promise<OutboxCount[]> {
  const r = await q.query<{ channel: OutboxChannel; state: OutboxState; count: number }>(
    `select channel, state, count(*)::int as count from outbox group by channel, state order by channel, state`,
  );
  return r.rows;
}

/** Depth and age of the oldest message per channel and state, for the metrics scrape. */
export async function outboxFigures(q: Queryable): Promise<{ channel: OutboxChannel; state: OutboxState; count: number; oldestAgeSeconds: number }[]> {
  const r = await q.query<{ channel: OutboxChannel; state: OutboxState; count: number; age: number }>(
    `select channel, state, count(*)::int as count, extract(epoch from now() - min(created_at))::float8 as age
     from outbox group by channel, state order by channel, state`,
  );
  return r.rows.map((x) => ({ channel: x.channel, state: x.state, count: x.count, oldestAgeSeconds: Math.max(0, Number(x.age)) }));
}

export async function listOutbox(q: Queryable, filter: { state?: OutboxState; limit: number }): Promise<OutboxMessage[]> {
  const r = filter.state
    ? await q.query<DbRow>(`select ${COLUMNS} from outbox where state = $1 order by created_at desc limit $2`, [filter.state, filter.limit])
    : await q.query<DbRow>(`select ${COLUMNS} from outbox where state <> 'delivered' order by created_at desc limit $1`, [filter.limit]);
  return r.rows.map(fromDb);
}

/** An operator sends a dead message again: pending now, with a fresh attempt budget. */
export async function retryDead(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(
    `update outbox set state = 'pending', attempts = 0, next_attempt_at = now(), last_error = null where id = $1 and state = 'dead'`,
    [id],
  );
  return r.rowCount === 1;
}
