import { customOperation } from './definition.ts';

export const importEuPrescriptionCdaOperation = customOperation({
  resource: 'MedicationRequest',
  code: 'import-ehdsi-cda',
  level: 'type',
  title: 'Receive an EU ePrescription as eHDSI CDA',
  description: 'The NCP delivers an EU ePrescription as an eHDSI ePrescription CDA (LOINC 57833-6, one item); it is stored as an EU prescription, never converted to M1.',
  affectsState: true,
  body: 'the eHDSI ePrescription CDA as application/xml.',
  parameters: [],
  returns: { type: 'Bundle', documentation: 'A batch-response Bundle: 201 when stored, 200 when stored before.' },
});
