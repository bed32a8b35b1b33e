import { customOperation } from './definition.ts';

export const m10Operation = customOperation({
  resource: 'MedicationDispense',
  code: 'm10',
  level: 'instance',
  title: 'The M10 of a dispensation',
  description: 'The M10 Utleveringsrapport of a dispensation, answered as application/xml, with X-Outbox-State telling whether it has been delivered.',
  affectsState: false,
  parameters: [{ name: 'annullering', type: 'boolean', min: 0, max: '1', documentation: 'true: the M10 that withdrew the dispensation.' }],
  returns: { type: 'Binary', documentation: 'The M10 message (application/xml).' },
});
