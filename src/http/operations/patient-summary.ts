import { customOperation } from './definition.ts';

/**
 * The parameters of IPS's $summary as Helsebro takes them, for the shared reader (parameters.ts). Not
 * served and not in CUSTOM_OPERATIONS: the CapabilityStatement points $summary at IPS's own definition.
 * IPS's optional `profile` is not taken: Helsebro makes only the IPS document, and a profile asked for
 * is refused as unknown rather than silently answered with another.
 */
export const summaryOperation = customOperation({
  resource: 'Patient',
  code: 'summary',
  level: 'both',
  title: 'The IPS patient summary of a patient',
  description: 'The patient summary as an IPS 2.0 document. At type level the patient is named by identifier (in a Parameters body or form, to keep it out of URLs).',
  affectsState: false,
  parameters: [{ name: 'identifier', type: 'Identifier', min: 0, max: '1', documentation: 'Type level: the fødselsnummer or D-nummer (system|value).' }],
  returns: { type: 'Bundle', documentation: 'The IPS document.' },
});
