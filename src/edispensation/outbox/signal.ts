// In-process wake-up for the outbox workers: the intake calls notifyOutbox() after it commits a message,
// so a worker in the same process delivers it at once instead of at its next poll. Workers in other
// processes find it by polling.
import { EventEmitter } from 'node:events';

const events = new EventEmitter();
events.setMaxListeners(100);

export function notifyOutbox(): void {
  events.emit('enqueued');
}

export function onOutboxNotify(listener: () => void): () => void {
  events.on('enqueued', listener);
  return () => events.off('enqueued', listener);
}
