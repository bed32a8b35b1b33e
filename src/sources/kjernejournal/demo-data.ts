// Critical information for the demo population, written in the shapes Kjernejournal's API returns
// (Kj* profiles, contained recorder and device, KI-standard extensions). Synthetic.
import { CODE_SYSTEM, OID } from '../../fhir/identifiers.ts';
import { PERSONAS } from '../../demo/personas.ts';
import { KJ_CONDITION_KIND, KJ_PRESUMED_EXT, KJ_SD } from './types.ts';

export interface KjDemoPatient {
  fnr: string;
  status: Record<string, unknown>;
  records: Array<Record<string, unknown> & { resourceType: string; id: string }>;
}

const KJ_CS = 'http://nhn.no/kj/fhir/CodeSystem';
const SNOMED = CODE_SYSTEM.snomed;

const clinical = (code: 'active' | 'inactive', system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical') => ({
  coding: [{ system, code }],
});
const verification = (code: string, system = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification') => ({
  coding: [{ system, code }],
});
const conditionClinical = (code: 'active' | 'inactive') => clinical(code, 'http://terminology.hl7.org/CodeSystem/condition-clinical');
const conditionVerification = (code: string) => verification(code, 'http://terminology.hl7.org/CodeSystem/condition-ver-status');

const subject = (fnr: string) => ({ identifier: { system: OID.fnr, value: fnr } });

const recorder = (hpr: string, orgnr: string) => ({
  resourceType: 'PractitionerRole',
  id: 'recorderRef',
  practitioner: { identifier: { system: OID.hpr, value: hpr } },
  organization: { identifier: { system: OID.orgnr, value: orgnr } },
  code: [{ coding: [{ system: `${KJ_CS}/CategoriesOfHealthProfessionals`, code: 'LE', display: 'Lege' }] }],
});

const sourceOfInformation = (code: '1' | '2', display: string) => ({
  url: `${KJ_SD}/KjSourceOfInformation`,
  valueCodeableConcept: { coding: [{ system: `${KJ_CS}/SourceOfInformation`, code, display }] },
});

const status = (fnr: string, has: boolean, privacy: Record<string, boolean> = {}) => ({
  patientNIN: fnr,
  hasCriticalInformation: has,
  hasActiveCriticalInformation: has,
  lastChangedDateTime: has ? '2025-09-02T10:14:00Z' : null,
  privacySetting: { hasReservationKjernejournal: false, isRestricted: false, isBlocked: false, ...privacy },
});

function addison(): KjDemoPatient {
  const fnr = PERSONAS.addison.fnr;
  return {
    fnr,
    status: status(fnr, true),
    records: [
      {
        resourceType: 'Condition',
        id: 'kj-4f1c2a90-addison',
        meta: { versionId: '3', profile: [KJ_CONDITION_KIND.critical] },
        contained: [recorder('565501872', '974749025')],
        extension: [sourceOfInformation('2', 'Observert av behandlende lege')],
        clinicalStatus: conditionClinical('active'),
        verificationStatus: conditionVerification('confirmed'),
        category: [{ coding: [{ system: `${KJ_CS}/CriticalInformationCategory`, code: '5' }] }],
        code: {
          coding: [{ system: CODE_SYSTEM.icd10, code: 'E27.1', display: 'Primær binyrebarksvikt', userSelected: true }],
          text: 'Addisons sykdom',
        },
        subject: subject(fnr),
        onsetDateTime: '2013-05-06',
        recordedDate: '2013-06-01',
        recorder: { reference: '#recorderRef' },
        note: [
          {
            text: 'Binyrebarksvikt. Ved feber, oppkast eller stress: doble hydrokortisondosen. Ved binyrebarkkrise gis 100 mg hydrokortison i.v. straks.',
          },
        ],
      },
      {
        resourceType: 'AllergyIntolerance',
        id: 'kj-9a0e77c1-penicillin',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjAllergyIntolerance`] },
        contained: [recorder('565501872', '974749025')],
        extension: [sourceOfInformation('2', 'Observert av behandlende lege')],
        clinicalStatus: clinical('active'),
        verificationStatus: verification('confirmed'),
        type: 'allergy',
        category: ['medication'],
        criticality: 'high',
        code: {
          coding: [
            { system: 'urn:oid:2.16.578.1.12.4.1.1.7180', code: 'J01CE02', display: 'Fenoksymetylpenicillin', userSelected: true },
            { system: 'http://nhn.no/kj/fhir/CodeSystem/DrugTradeName', code: 'Apocillin', display: 'Apocillin' },
          ],
          text: 'Penicillin V (fenoksymetylpenicillin)',
        },
        patient: subject(fnr),
        onsetDateTime: '2009-08',
        recordedDate: '2013-06-01',
        recorder: { reference: '#recorderRef' },
        reaction: [
          {
            manifestation: [{ coding: [{ system: SNOMED, code: '39579001', display: 'Anaphylactic reaction' }], text: 'Anafylaktisk reaksjon' }],
            severity: 'severe',
            description: 'Anafylaksi etter første tablett, behandlet med adrenalin i legevakt.',
          },
        ],
      },
    ],
  };
}

function ms(): KjDemoPatient {
  const fnr = PERSONAS.ms.fnr;
  return {
    fnr,
    status: status(fnr, true),
    records: [
      {
        resourceType: 'Flag',
        id: 'kj-1b7d9e22-natalizumab',
        meta: { versionId: '2', profile: [`${KJ_SD}/KjFlag`] },
        contained: [recorder('565505933', '983974899')],
        status: 'active',
        category: [{ coding: [{ system: `${KJ_CS}/CriticalInformationCategory`, code: '9' }] }],
        code: {
          text: 'Behandles med natalizumab (Tysabri) hver 4. uke. Nye nevrologiske symptomer skal vurderes for PML (progressiv multifokal leukoencefalopati); kontakt nevrolog, Haukeland universitetssjukehus.',
        },
        subject: subject(fnr),
        period: { start: '2016-02-15' },
      },
      {
        resourceType: 'Procedure',
        id: 'kj-7c30aa10-tysabri',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjProcedure`] },
        status: 'in-progress',
        category: { coding: [{ system: `${KJ_CS}/CriticalInformationCategory`, code: '6' }] },
        code: { text: 'Immunmodulerende behandling med natalizumab (Tysabri) 300 mg i.v. hver 4. uke' },
        subject: subject(fnr),
        performedPeriod: { start: '2016-02-15' },
      },
      {
        resourceType: 'DeviceUseStatement',
        id: 'kj-e5d40b3f-interstim',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjDeviceUseStatement`] },
        contained: [
          {
            resourceType: 'Device',
            id: 'device1',
            deviceName: [{ name: 'InterStim II sakral nevromodulator', type: 'user-friendly-name' }],
            type: { text: 'Sakral nevromodulator (implantert nervestimulator)' },
            manufacturer: 'Medtronic',
            modelNumber: '3058',
          },
        ],
        extension: [{ url: `${KJ_SD}/implanted`, valueDateTime: '2019-05-14' }],
        status: 'active',
        subject: subject(fnr),
        device: { reference: '#device1' },
        bodySite: { text: 'Sakralt, høyre sete' },
        note: [{ text: 'MR kun etter produsentens betingelser (MR-betinget). Slå av stimulator før diatermi.' }],
      },
    ],
  };
}

function knee(): KjDemoPatient {
  const fnr = PERSONAS.knee.fnr;
  return {
    fnr,
    status: status(fnr, true),
    records: [
      {
        resourceType: 'DeviceUseStatement',
        id: 'kj-31aa5c07-kneprotese',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjDeviceUseStatement`] },
        contained: [
          {
            resourceType: 'Device',
            id: 'device1',
            deviceName: [{ name: 'Totalprotese venstre kne', type: 'user-friendly-name' }],
            type: { text: 'Kneleddsprotese, total' },
          },
        ],
        extension: [{ url: `${KJ_SD}/implanted`, valueDateTime: '2021-03-09' }],
        status: 'active',
        subject: subject(fnr),
        device: { reference: '#device1' },
        bodySite: { text: 'Venstre kne' },
      },
      {
        resourceType: 'AllergyIntolerance',
        id: 'kj-58be0d14-nsaid',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjAllergyIntolerance`] },
        extension: [{ url: KJ_PRESUMED_EXT, valueBoolean: true }],
        clinicalStatus: clinical('active'),
        verificationStatus: verification('unconfirmed'),
        type: 'intolerance',
        category: ['medication'],
        criticality: 'low',
        code: {
          coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7180', code: 'M01AE', display: 'Propionsyrederivater', userSelected: true }],
          text: 'NSAID (ibuprofen og lignende)',
        },
        patient: subject(fnr),
        onsetDateTime: '2018',
        reaction: [{ manifestation: [{ text: 'Magesmerter og blødende magesår' }], severity: 'moderate' }],
      },
      {
        resourceType: 'Condition',
        id: 'kj-0d9f3b61-anestesi',
        meta: { versionId: '1', profile: [KJ_CONDITION_KIND.anesthesia] },
        clinicalStatus: conditionClinical('active'),
        verificationStatus: conditionVerification('confirmed'),
        category: [{ coding: [{ system: `${KJ_CS}/CriticalInformationCategory`, code: '4' }] }],
        code: { text: 'Kraftig postoperativ kvalme og forlenget oppvåkning etter inhalasjonsanestesi (2021)' },
        subject: subject(fnr),
        onsetDateTime: '2021-03-09',
      },
    ],
  };
}

function reserved(): KjDemoPatient {
  const fnr = PERSONAS.reserved.fnr;
  // Records are stored, but /status says the patient has reserved himself: the adapter must not read them.
  return {
    fnr,
    status: status(fnr, true, { hasReservationKjernejournal: true }),
    records: [
      {
        resourceType: 'AllergyIntolerance',
        id: 'kj-c0ffee00-reserved',
        clinicalStatus: clinical('active'),
        verificationStatus: verification('confirmed'),
        category: ['food'],
        criticality: 'high',
        code: { text: 'Skalldyr' },
        patient: subject(fnr),
      },
    ],
  };
}

function child(): KjDemoPatient {
  const fnr = PERSONAS.child.fnr;
  return {
    fnr,
    status: status(fnr, true),
    records: [
      {
        resourceType: 'AllergyIntolerance',
        id: 'kj-2e6b81f9-peanott',
        meta: { versionId: '1', profile: [`${KJ_SD}/KjAllergyIntolerance`] },
        extension: [sourceOfInformation('1', 'Resultat av tester / analyser')],
        clinicalStatus: clinical('active'),
        verificationStatus: verification('confirmed'),
        type: 'allergy',
        category: ['food'],
        criticality: 'high',
        code: { coding: [{ system: SNOMED, code: '256349002', display: 'Peanut - dietary (substance)' }], text: 'Peanøtter' },
        patient: subject(fnr),
        onsetDateTime: '2015',
        reaction: [
          {
            manifestation: [{ coding: [{ system: SNOMED, code: '39579001', display: 'Anaphylactic reaction' }], text: 'Anafylaksi' }],
            severity: 'severe',
            description: 'Har adrenalinpenn (EpiPen Jr).',
          },
        ],
      },
    ],
  };
}

function hostile(): KjDemoPatient {
  const fnr = PERSONAS.hostile.fnr;
  return {
    fnr,
    status: status(fnr, true),
    records: [
      {
        resourceType: 'AllergyIntolerance',
        id: 'kj-<script>-1',
        clinicalStatus: clinical('active'),
        verificationStatus: verification('confirmed'),
        category: ['environment'],
        criticality: 'unable-to-assess',
        code: { text: 'Lateks "<b>fet</b>" & \u202Eøtsal\u202C' },
        patient: subject(fnr),
        reaction: [
          {
            manifestation: [{ text: '<script>alert("kj")</script>' }],
            description: '<img src=x onerror=alert(1)> ]]> <![CDATA[ x ]]> \u0007',
          },
        ],
      },
    ],
  };
}

export function kjDemoPopulation(): KjDemoPatient[] {
  const nodata = PERSONAS.nodata.fnr;
  // The confidential-address teenager has no critical information, but has reserved against guardian access.
  const confidential = PERSONAS.confidential.fnr;
  return [
    addison(),
    ms(),
    knee(),
    reserved(),
    child(),
    hostile(),
    { fnr: nodata, status: status(nodata, false), records: [] },
    { fnr: confidential, status: status(confidential, false, { hasGuardianAccessReservation: true }), records: [] },
  ];
}
