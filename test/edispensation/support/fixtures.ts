// Realistic dispensations for the tests. Norway as country A: the demo persona "addison" (synthetic
// fødselsnummer from personas.ts) has her Norwegian hydrocortisone prescription dispensed in Czechia,
// with substitution. Norway as country B: an M10 from a Norwegian pharmacy for an EU prescription.
import { readFileSync } from 'node:fs';
import { PERSONAS } from '../../../src/demo/personas.ts';
import { OID, PRESCRIPTION_ID_SYSTEM } from '../../../src/fhir/identifiers.ts';
import { VARENUMMER_SYSTEM } from '../../../src/edispensation/codes.ts';
import type { Dispensation } from '../../../src/edispensation/model.ts';
import type { PrescriptionFacts } from '../../../src/edispensation/checks.ts';
import type { NcpIdentity } from '../../../src/edispensation/m10.ts';

export const FIXTURES = new URL('../../fixtures/', import.meta.url);
export const fixture = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');
export const fixtureJson = (path: string): Record<string, unknown> => JSON.parse(fixture(path)) as Record<string, unknown>;

/** M1 MsgId of the persona's hydrocortisone prescription (the ReseptId). */
export const ADDISON_RX = 'a7c1d2e3-4b5f-4a6b-8c9d-0e1f2a3b4c5d';
export const addison = PERSONAS.addison;

export const NCP: NcpIdentity = { herId: '8099990', orgnr: '999000001', name: 'Nasjonalt kontaktpunkt for e-helse (NCPeH Norge)', phone: '+47 24 20 00 00' };

export function czechDispensation(overrides: Partial<Dispensation> = {}): Dispensation {
  return {
    source: 'ehdsi-cda',
    status: 'completed',
    identifier: { system: 'urn:oid:2.16.17.710.804.1000.990.1.7', value: 'CZ-DISP-2026-000731' },
    prescription: { identifier: { system: PRESCRIPTION_ID_SYSTEM, value: ADDISON_RX } },
    patient: { family: addison.family, given: [...addison.given], identifiers: [{ system: OID.fnr, value: addison.fnr }] },
    whenHandedOver: '2026-11-20T10:12:00+01:00',
    recorded: '2026-11-20T10:15:00+01:00',
    product: {
      name: 'Hydrocortison Léčiva',
      codes: [{ system: 'urn:oid:2.16.203.1.1.2', code: '0002811' }],
      atc: { system: 'http://www.whocc.no/atc', code: 'H02AB09', display: 'hydrocortisone' },
      strength: '10 mg',
      form: { system: 'http://standardterms.edqm.eu', code: '10219000', display: 'Tablet' },
      package: { description: 'Hydrocortison Léčiva 10 mg, 20 tablet', size: { value: 20, unit: 'tablet' } },
    },
    quantity: { value: 2, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
    substitution: {
      substituted: true,
      reason: 'Hydrocortone 20 mg is not marketed in CZ',
      originalProduct: { name: 'Hydrocortone', codes: [], strength: '20 mg' },
    },
    pharmacy: { name: 'Lékárna U Zlatého lva', identifiers: [{ system: 'urn:oid:1.3.154.1', value: 'LEKARNA-0731' }], country: 'CZ' },
    pharmacist: { family: 'Nováková', given: ['Jana'], identifiers: [{ system: 'urn:oid:1.3.154', value: 'CZ-PH-40021' }] },
    dosageText: '1 tablett morgen og 1/2 tablett ettermiddag',
    ...overrides,
  };
}

/** The prescribed Norwegian pack handed over unchanged (possible when the NCP translates back to the varenummer). */
export function norwegianPackDispensation(overrides: Partial<Dispensation> = {}): Dispensation {
  return czechDispensation({
    product: {
      name: 'Hydrocortone Tab 20 mg',
      codes: [{ system: VARENUMMER_SYSTEM, code: '026721' }],
      varenummer: '026721',
      reseptgruppe: 'C',
      atc: { system: 'http://www.whocc.no/atc', code: 'H02AB09', display: 'hydrokortison' },
      form: { system: 'urn:oid:2.16.578.1.12.4.1.1.7448', code: '53', display: 'Tablett' },
      package: { description: 'Hydrocortone 30 stk', size: { value: 30, unit: 'STK', system: 'urn:oid:2.16.578.1.12.4.1.1.7484', code: 'STK' } },
    },
    substitution: { substituted: false },
    quantity: { value: 1, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
    ...overrides,
  });
}

export function activePrescription(overrides: Partial<PrescriptionFacts> = {}): PrescriptionFacts {
  return {
    exists: true,
    exportable: true,
    isEuPrescription: false,
    status: 'active',
    issuedOn: '2026-09-01',
    validUntil: '2027-09-01',
    remainingDispensings: 3,
    remainingQuantity: { value: 6, unit: 'pakning', code: '{pack}' },
    patientIdentifiers: [{ system: OID.fnr, value: addison.fnr }],
    ...overrides,
  };
}

/** Strings that must stay inert text wherever they land. */
export const HOSTILE = {
  script: '<script>alert("x")</script>',
  quotes: `O'Brien "Quote" & Sons`,
  rtl: 'Apotek \u202Eنور\u202C',
  cdataEnd: 'x]]><evil/>',
  control: 'bell\u0007tab\tnull\u0000end',
  /** Legal JSON ("\ud800" escaped), but no Unicode character: PostgreSQL's jsonb cannot store it. */
  loneSurrogate: 'Sol\ud800stad',
} as const;
