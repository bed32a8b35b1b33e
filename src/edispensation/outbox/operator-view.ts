// What the operator sees of an outbox message: enough to judge delivery (channel, state, attempts, times,
// the kind of the last error), nothing that leads to a person. No dispensation id (it opens the
// dispensation and so the patient), no payload, and of the last error only its kind and HTTP status:
// the full text can hold a receiver's echo of the message or a server path, and stays in the log.
import type { ParametersParameter } from '@medplum/fhirtypes';
import type { OutboxMessage } from './repository.ts';

/** The kind of a delivery error as the workers write it (`HTTP 503: ...`, `network: ...`, `file: ...`). */
export function errorKind(lastError: string): string {
  const http = /^HTTP (\d{3})\b/.exec(lastError);
  if (http) return `http-${http[1]}`;
  if (/^no answer within \d+ ms/.test(lastError)) return 'timeout';
  const prefix = /^(network|file|adapter):/.exec(lastError);
  return prefix ? prefix[1]! : 'other';
}

export function operatorView(m: OutboxMessage): ParametersParameter[] {
  return [
    { name: 'id', valueString: m.id },
    { name: 'channel', valueCode: m.channel },
    { name: 'state', valueCode: m.state },
    { name: 'msgId', valueString: m.msgId },
    { name: 'attempts', valueInteger: m.attempts },
    { name: 'nextAttempt', valueInstant: m.nextAttemptAt },
    { name: 'created', valueInstant: m.createdAt },
    ...(m.deliveredAt ? [{ name: 'delivered', valueInstant: m.deliveredAt }] : []),
    ...(m.lastError ? [{ name: 'lastError', valueCode: errorKind(m.lastError) }] : []),
  ];
}
