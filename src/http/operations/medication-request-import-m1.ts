import { customOperation } from './definition.ts';

export const importM1Operation = customOperation({
  resource: 'MedicationRequest',
  code: 'import-m1',
  level: 'type',
  title: 'Import a Norwegian M1 prescription',
  description:
    'Converts an M1 (eResept 2.5 in MsgHead v1.2) into the HL7 Europe MPD ePrescription when the export rules allow it. 201 with the MPD Bundle ' +
    '(200 when the same M1 was imported before); 422 with the export-rule codes when it may not leave Norway or the prescription chain (Reseptformidleren) says it may not be dispensed abroad now, and 422 (patient-identity-conflict, ' +
    'prescriber-hpr-mismatch) when it names its patient ambiguously or its prescriber otherwise than HPR; 503 with Retry-After when the chain did not answer; 409 for another M1 with the same MsgId. ' +
    'Prefer: return=OperationOutcome answers with the conversion warnings instead.',
  affectsState: true,
  body: 'the M1 message as application/xml.',
  parameters: [],
  returns: { type: 'Bundle', documentation: 'The MPD Bundle (MedicationRequest, Medication, Patient, prescriber).' },
});
