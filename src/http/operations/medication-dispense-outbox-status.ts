import { customOperation } from './definition.ts';

export const OUTBOX_STATES = ['pending', 'in-flight', 'delivered', 'dead'] as const;

export const outboxStatusOperation = customOperation({
  resource: 'MedicationDispense',
  code: 'outbox-status',
  level: 'type',
  title: 'Outbox status',
  description: 'Operator view of the outbox: counts per channel and state, and the latest messages with attempts, next attempt and last error. No personal data.',
  affectsState: false,
  parameters: [
    { name: 'state', type: 'code', min: 0, max: '1', documentation: `Only messages in this state: ${OUTBOX_STATES.join(', ')}.` },
    { name: '_count', type: 'integer', min: 0, max: '1', documentation: 'How many messages to list (0-999, default 50).' },
  ],
  returns: { type: 'Parameters', documentation: 'count (channel, state, count) and message parts.' },
});
