import { customOperation } from './definition.ts';

export const outboxRetryOperation = customOperation({
  resource: 'MedicationDispense',
  code: 'outbox-retry',
  level: 'type',
  title: 'Send a dead outbox message again',
  description: 'Operator: a dead outbox message becomes pending again with a fresh attempt budget.',
  affectsState: true,
  parameters: [{ name: 'id', type: 'string', min: 1, max: '1', documentation: 'The outbox message id (a UUID) from $outbox-status.' }],
  returns: { type: 'OperationOutcome', documentation: 'That the message is pending again.' },
});
