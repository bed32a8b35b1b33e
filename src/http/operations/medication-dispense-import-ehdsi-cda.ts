import { customOperation } from './definition.ts';

export const importDispensationCdaOperation = customOperation({
  resource: 'MedicationDispense',
  code: 'import-ehdsi-cda',
  level: 'type',
  title: 'Receive an eHDSI eDispensation CDA',
  description: 'The NCP reports a dispensation abroad of a Norwegian prescription as an eHDSI eDispensation CDA (LOINC 60593-1). Answers as POST /MedicationDispense.',
  affectsState: true,
  body: 'the eHDSI eDispensation CDA as application/xml.',
  parameters: [
    { name: 'discard', type: 'boolean', min: 0, max: '1', documentation: 'true: the CDA comes as a discard (XDS class DISCARD-60593-1) of the dispensation it describes.' },
  ],
  returns: { type: 'MedicationDispense', documentation: 'The stored dispensation (201), or the first result for a repeat (200).' },
});
