import { customOperation } from './definition.ts';

export const prescriptionCdaOperation = customOperation({
  resource: 'MedicationRequest',
  code: 'ehdsi-cda',
  level: 'instance',
  title: 'The eHDSI ePrescription CDA of a prescription',
  description:
    'The eHDSI ePrescription CDA (LOINC 57833-6) of a Norwegian prescription available abroad, answered as application/xml: Level 3 (structured), ' +
    'or Level 1 with a readable PDF of the same prescription in a nonXMLBody, in English and Norwegian (bokmål) side by side whatever Accept-Language says. The dispensings remaining are ' +
    "the prescription chain's count now; 503 with Retry-After when the chain (Reseptformidleren) did not answer.",
  affectsState: false,
  parameters: [{ name: 'level', type: 'code', min: 0, max: '1', documentation: '3 (structured, the default) or 1 (a PDF in a nonXMLBody).' }],
  returns: { type: 'Binary', documentation: 'The CDA document (application/xml).' },
});
