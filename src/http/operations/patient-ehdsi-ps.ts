import { customOperation } from './definition.ts';

export const ehdsiPsOperation = customOperation({
  resource: 'Patient',
  code: 'ehdsi-ps',
  level: 'both',
  title: 'The eHDSI Patient Summary CDA of a patient',
  description:
    'The patient summary as an eHDSI Patient Summary CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.3, LOINC 60591-5), rendered from the same IPS document ' +
    'as $summary; answered as application/xml. At type level the patient is named by identifier (in a Parameters body or form, to keep it out of URLs).',
  affectsState: false,
  parameters: [
    { name: 'identifier', type: 'Identifier', min: 0, max: '1', documentation: 'Type level: the fødselsnummer or D-nummer (system|value).' },
    { name: 'level', type: 'code', min: 0, max: '1', documentation: '3 (structured, the default) or 1 (a PDF in a nonXMLBody).' },
  ],
  returns: { type: 'Binary', documentation: 'The CDA document (application/xml).' },
});
