// For the embedded engine, which has no network to cut: a Db whose every call fails, while cut, with the
// errors the pg driver raises when PostgreSQL goes away (refused connections and dropped ones).
import type { Db, Queryable } from '../../../src/store/db.ts';

export interface CuttableDb extends Db {
  cut(): void;
  restore(): void;
}

function unreachable(n: number): Error {
  // Alternate between what a refused connect and a dropped connection look like from pg.
  if (n % 2 === 0) return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  return new Error('Connection terminated unexpectedly');
}

export function cuttable(db: Db): CuttableDb {
  let down = false;
  let failures = 0;
  const guard = <T>(fn: () => Promise<T>): Promise<T> => (down ? Promise.reject(unreachable(failures++)) : fn());
  const wrap = (q: Queryable): Queryable => ({ query: (sql, params) => guard(() => q.query(sql, params)) });
  return {
    engine: db.engine,
    query: (sql, params) => guard(() => db.query(sql, params)),
    tx: (fn) => guard(() => db.tx((q) => fn(wrap(q)))),
    exec: (sql) => guard(() => db.exec(sql)),
    ping: () => guard(() => db.ping()),
    close: () => db.close(),
    cut: () => {
      down = true;
    },
    restore: () => {
      down = false;
    },
  };
}
