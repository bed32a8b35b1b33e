// Work that travels together: what is handed in for the same Queryable during one turn of the event loop
// reaches `flush` as one batch, after that turn's I/O callbacks (setImmediate). By then the reads of one
// summary have all been asked for, and so has the work of other requests whose turn came in the same round.
// The coalesced reads (coalesce.ts) and the audit log's group commit (src/audit/repository.ts) use it; a
// transaction's client is a Queryable of its own, so its work never travels with anybody else's.
import type { Queryable } from './db.ts';

export function turnBatcher<T>(flush: (q: Queryable, batch: T[]) => void): (q: Queryable, item: T) => void {
  const waiting = new WeakMap<Queryable, T[]>();
  return (q, item) => {
    const open = waiting.get(q);
    if (open) {
      open.push(item);
      return;
    }
    const batch = [item];
    waiting.set(q, batch);
    setImmediate(() => {
      waiting.delete(q);
      flush(q, batch);
    });
  };
}
