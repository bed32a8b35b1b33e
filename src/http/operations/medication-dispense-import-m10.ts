import { customOperation } from './definition.ts';

export const importM10Operation = customOperation({
  resource: 'MedicationDispense',
  code: 'import-m10',
  level: 'type',
  title: "Receive a Norwegian pharmacy's M10 for an EU prescription",
  description: 'An M10 Utleveringsrapport whose ReseptId is an EU prescription id; enriched (FEST, HPR) and sent to the NCP as an EU eDispensation. Annullering true withdraws the dispensation named by AnnulleringsId.',
  affectsState: true,
  body: 'the M10 message as application/xml.',
  parameters: [],
  returns: { type: 'MedicationDispense', documentation: 'The stored dispensation.' },
});
