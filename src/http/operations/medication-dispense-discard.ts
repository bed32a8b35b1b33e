import { customOperation } from './definition.ts';

export const discardOperation = customOperation({
  resource: 'MedicationDispense',
  code: 'discard',
  level: 'instance',
  title: 'Withdraw a dispensation',
  description:
    'Withdraws a dispensation within 24 hours of receiving it (later: 422 DISP-DISCARD-TOO-LATE; again: 200, nothing more is sent). Takes no parameters: ' +
    'POST it with no body, an empty form, or a Parameters resource without parameters.',
  affectsState: true,
  parameters: [],
  returns: { type: 'MedicationDispense', documentation: 'The dispensation, status entered-in-error.' },
});
