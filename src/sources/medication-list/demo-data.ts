// The demo population's medication lists, as SFM's $getMedication would answer them: Parameters ->
// document Bundle (sfm-MedicationComposition first) -> MedicationStatements with PLL ids and
// prescription ids -> Medications from FEST with ATC. Synthetic; product names and ATC codes are real.
import { createHash } from 'node:crypto';
import { CODE_SYSTEM, OID } from '../../fhir/identifiers.ts';
import { PERSONAS } from '../../demo/personas.ts';

const FEST = 'http://ehelse.no/fhir/CodeSystem/FEST';
const ATC_OID = 'urn:oid:2.16.578.1.12.4.1.1.7180';
const FORM = CODE_SYSTEM.volven(7448);
const SFM_SD = 'http://ehelse.no/fhir/StructureDefinition';

interface DemoLine {
  /** Stable key so the demo ids do not change between seeds. */
  key: string;
  festId: string;
  name: string;
  atc: string;
  atcDisplay: string;
  form: { code: string; display: string };
  dosage: string;
  start: string;
  status?: 'active' | 'completed' | 'stopped' | 'on-hold';
  guardianReservation?: boolean;
  /** A renewal: an older prescription replaced by this line (SFM chains them with part-of). */
  replaces?: string;
}

export interface PllDemoPatient {
  fnr: string;
  answer: Record<string, unknown>;
}

const uuid = (key: string): string => {
  // Deterministic urn:uuid per key keeps the seeded JSON stable between runs.
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

function answer(fnr: string, lines: DemoLine[], retrieved = '2026-11-20T08:30:00+01:00'): Record<string, unknown> {
  const entries: Array<{ fullUrl: string; resource: Record<string, unknown> }> = [];
  const statementUrls: string[] = [];
  for (const line of lines) {
    const medUrl = `urn:uuid:${uuid(`med-${line.key}`)}`;
    const stUrl = `urn:uuid:${uuid(`st-${line.key}`)}`;
    statementUrls.push(stUrl);
    entries.push({
      fullUrl: stUrl,
      resource: {
        resourceType: 'MedicationStatement',
        meta: { profile: [`${SFM_SD}/sfm-MedicationStatement`] },
        ...(line.guardianReservation ? { extension: [{ url: `${SFM_SD}/sfm-guardiantransparencyreservation`, valueBoolean: true }] } : {}),
        identifier: [
          { type: { text: 'PLL-id' }, value: uuid(`pll-${line.key}`) },
          { type: { text: 'ReseptId' }, value: uuid(`rx-${line.key}`) },
        ],
        status: line.status ?? 'active',
        medicationReference: { reference: medUrl, display: line.name },
        subject: { identifier: { system: OID.fnr, value: fnr } },
        effectivePeriod: { start: line.start },
        dosage: [{ sequence: 1, text: line.dosage }],
      },
    });
    entries.push({
      fullUrl: medUrl,
      resource: {
        resourceType: 'Medication',
        meta: { profile: [`${SFM_SD}/sfm-Medication`] },
        code: {
          coding: [
            { system: FEST, code: line.festId, display: line.name },
            { system: ATC_OID, code: line.atc, display: line.atcDisplay },
          ],
          text: line.name,
        },
        form: { coding: [{ system: FORM, code: line.form.code, display: line.form.display }] },
      },
    });
    if (line.replaces) {
      const oldUrl = `urn:uuid:${uuid(`st-${line.replaces}`)}`;
      entries.push({
        fullUrl: oldUrl,
        resource: {
          resourceType: 'MedicationStatement',
          identifier: [{ type: { text: 'ReseptId' }, value: uuid(`rx-${line.replaces}`) }],
          status: 'completed',
          partOf: [{ reference: stUrl }],
          medicationReference: { reference: medUrl },
          subject: { identifier: { system: OID.fnr, value: fnr } },
          effectivePeriod: { start: '2023-01-10', end: line.start },
          dosage: [{ sequence: 1, text: line.dosage }],
        },
      });
    }
  }
  const composition = {
    fullUrl: `urn:uuid:${uuid(`comp-${fnr}`)}`,
    resource: {
      resourceType: 'Composition',
      meta: { profile: [`${SFM_SD}/sfm-MedicationComposition`] },
      status: 'final',
      type: { text: 'Legemiddelliste' },
      date: retrieved,
      title: 'Pasientens legemiddelliste',
      author: [{ display: 'SFM Basis' }],
      section: [{ title: 'Legemidler', entry: statementUrls.map((reference) => ({ reference })) }],
    },
  };
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'medication', resource: { resourceType: 'Bundle', id: uuid(`bundle-${fnr}`), type: 'document', timestamp: retrieved, entry: [composition, ...entries] } },
      { name: 'RFHentetTidspunkt', valueDateTime: retrieved },
    ],
  };
}

const TABLET = { code: '53', display: 'Tablett' };

export function pllDemoPopulation(): PllDemoPatient[] {
  return [
    {
      fnr: PERSONAS.addison.fnr,
      answer: answer(PERSONAS.addison.fnr, [
        {
          key: 'addison-hydrokortison',
          festId: 'ID_8F2A7C1E-0B3D-4E55-9A61-1C2B3D4E5F60',
          name: 'Hydrokortison Orifarm tab 10 mg',
          atc: 'H02AB09',
          atcDisplay: 'Hydrokortison',
          form: TABLET,
          dosage: '20 mg morgen og 10 mg ettermiddag. Dobbel dose ved feber over 38 °C.',
          start: '2013-05-10',
          replaces: 'addison-hydrokortison-2023',
        },
        {
          key: 'addison-fludrokortison',
          festId: 'ID_5D1E9B77-2C4A-4F83-8E10-6A7B8C9D0E1F',
          name: 'Florinef tab 0,1 mg',
          atc: 'H02AA02',
          atcDisplay: 'Fludrokortison',
          form: TABLET,
          dosage: '1 tablett om morgenen',
          start: '2013-05-10',
        },
      ]),
    },
    {
      fnr: PERSONAS.ms.fnr,
      answer: answer(PERSONAS.ms.fnr, [
        {
          key: 'ms-tysabri',
          festId: 'ID_A3C9E1F2-7B6D-4D0A-8C5E-2F1A0B9C8D7E',
          name: 'Tysabri inf konsentrat 300 mg',
          atc: 'L04AG03',
          atcDisplay: 'Natalizumab',
          form: { code: '460', display: 'Konsentrat til infusjonsvæske, oppløsning' },
          dosage: '300 mg som intravenøs infusjon hver 4. uke (gis i sykehus)',
          start: '2016-02-15',
        },
        {
          key: 'ms-sumatriptan',
          festId: 'ID_0E4D7A22-9F1B-4C63-B8A5-3D2C1B0A9F8E',
          name: 'Sumatriptan Teva tab 50 mg',
          atc: 'N02CC01',
          atcDisplay: 'Sumatriptan',
          form: TABLET,
          dosage: '1 tablett ved migreneanfall, kan gjentas etter 2 timer. Høyst 6 tabletter per døgn.',
          start: '2009-09-01',
        },
      ]),
    },
    {
      fnr: PERSONAS.knee.fnr,
      answer: answer(PERSONAS.knee.fnr, [
        {
          key: 'knee-amlodipin',
          festId: 'ID_6B8D0F12-3A5C-4E7B-9D1F-4B6C8E0A2C4D',
          name: 'Amlodipin Sandoz tab 5 mg',
          atc: 'C08CA01',
          atcDisplay: 'Amlodipin',
          form: TABLET,
          dosage: '1 tablett daglig',
          start: '2017-04-03',
        },
        {
          key: 'knee-atorvastatin',
          festId: 'ID_9C1E3A57-5B7D-4F91-A3C5-7E9A1C3E5A7B',
          name: 'Atorvastatin Krka tab 20 mg',
          atc: 'C10AA05',
          atcDisplay: 'Atorvastatin',
          form: TABLET,
          dosage: '1 tablett om kvelden',
          start: '2019-11-18',
        },
        {
          key: 'knee-paracetamol',
          festId: 'ID_2A4C6E80-1D3F-4A5C-8E0A-2C4E6A8C0E2A',
          name: 'Paracet tab 500 mg',
          atc: 'N02BE01',
          atcDisplay: 'Paracetamol',
          form: TABLET,
          dosage: '2 tabletter inntil 3 ganger daglig ved behov',
          start: '2021-03-12',
        },
        {
          key: 'knee-ibuprofen-stopped',
          festId: 'ID_4E6A8C02-7F9B-4D1F-A5C7-9E1B3D5F7A9C',
          name: 'Ibux tab 400 mg',
          atc: 'M01AE01',
          atcDisplay: 'Ibuprofen',
          form: TABLET,
          dosage: '1 tablett ved behov',
          start: '2016-06-01',
          status: 'stopped',
        },
      ]),
    },
    {
      fnr: PERSONAS.reserved.fnr,
      answer: answer(PERSONAS.reserved.fnr, [
        {
          key: 'reserved-ventoline',
          festId: 'ID_7D9F1B35-0C2E-4A4C-B6D8-0F2B4D6F8B0D',
          name: 'Ventoline inh aerosol 0,1 mg/dose',
          atc: 'R03AC02',
          atcDisplay: 'Salbutamol',
          form: { code: '96', display: 'Inhalasjonsaerosol' },
          dosage: '1-2 inhalasjoner ved behov',
          start: '2020-09-14',
        },
      ]),
    },
    {
      fnr: PERSONAS.child.fnr,
      answer: answer(PERSONAS.child.fnr, [
        {
          key: 'child-ventoline',
          festId: 'ID_7D9F1B35-0C2E-4A4C-B6D8-0F2B4D6F8B0D',
          name: 'Ventoline inh aerosol 0,1 mg/dose',
          atc: 'R03AC02',
          atcDisplay: 'Salbutamol',
          form: { code: '96', display: 'Inhalasjonsaerosol' },
          dosage: '1-2 inhalasjoner ved behov, også før fysisk aktivitet',
          start: '2022-01-20',
        },
        {
          key: 'child-prevensjon',
          festId: 'ID_1F3B5D79-8A0C-4E2A-9C4E-6A8C0E2A4C6E',
          name: 'Microgynon tab',
          atc: 'G03AA07',
          atcDisplay: 'Levonorgestrel og etinyløstradiol',
          form: TABLET,
          dosage: '1 tablett daglig i 21 dager, deretter 7 dagers pause',
          start: '2026-08-04',
          guardianReservation: true,
        },
      ]),
    },
    {
      fnr: PERSONAS.hostile.fnr,
      answer: answer(PERSONAS.hostile.fnr, [
        {
          key: 'hostile-1',
          festId: '<svg onload=alert(1)>',
          name: 'Paracet "<i>tab</i>" & 500 mg \u202Egm 005\u202C',
          atc: 'N02BE01',
          atcDisplay: 'Paracetamol',
          form: TABLET,
          dosage: '</td></tr></table><script>alert("dose")</script>',
          start: '2024-02-29',
        },
      ]),
    },
    { fnr: PERSONAS.nodata.fnr, answer: answer(PERSONAS.nodata.fnr, []) },
  ];
}
