import { customOperation } from './definition.ts';

export const prescriptionCdaOperation = customOperation({
  resource: 'MedicationRequest',
  code: 'ehdsi-cda',
  level: 'instance',
  title: 'The eHDSI ePrescription CDA of a prescription',
  description: 'The eHDSI ePrescription CDA (level 3, LOINC 57833-6) of a Norwegian prescription available abroad, answered as application/xml.',
  affectsState: false,
  parameters: [],
  returns: { type: 'Binary', documentation: 'The CDA document (application/xml).' },
});
