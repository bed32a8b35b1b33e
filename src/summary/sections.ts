// The IPS sections Helsebro writes, in document order: LOINC code, titles, which resource types are the
// section's entries and which sources can contribute them. The three required sections are always
// present; the others only when there is something to say (entries, or a source that could not be read).
import type { ResourceType } from '@medplum/fhirtypes';
import type { Lang, SourceName } from '../sources/source.ts';

export const SECTION_KEYS = ['problems', 'allergies', 'medications', 'procedures', 'devices', 'alerts'] as const;
export type SectionKey = (typeof SECTION_KEYS)[number];

export interface SectionDef {
  key: SectionKey;
  /** The slice name in Composition-uv-ips. */
  slice: string;
  loinc: string;
  loincDisplay: string;
  title: Record<Lang, string>;
  required: boolean;
  /** Resource types that are this section's entries. */
  entryTypes: readonly ResourceType[];
  sources: readonly SourceName[];
}

export const SECTIONS: readonly SectionDef[] = [
  {
    key: 'problems',
    slice: 'sectionProblems',
    loinc: '11450-4',
    loincDisplay: 'Problem list - Reported',
    title: { nb: 'Problemer og diagnoser', en: 'Problem list' },
    required: true,
    entryTypes: ['Condition'],
    sources: ['kjernejournal', 'npr', 'kpr'],
  },
  {
    key: 'allergies',
    slice: 'sectionAllergies',
    loinc: '48765-2',
    loincDisplay: 'Allergies and adverse reactions Document',
    title: { nb: 'Allergier og legemiddelreaksjoner', en: 'Allergies and intolerances' },
    required: true,
    entryTypes: ['AllergyIntolerance'],
    sources: ['kjernejournal'],
  },
  {
    key: 'medications',
    slice: 'sectionMedications',
    loinc: '10160-0',
    loincDisplay: 'History of Medication use Narrative',
    title: { nb: 'Legemidler', en: 'Medication summary' },
    required: true,
    entryTypes: ['MedicationStatement'],
    sources: ['medication-list'],
  },
  {
    key: 'procedures',
    slice: 'sectionProceduresHx',
    loinc: '47519-4',
    loincDisplay: 'History of Procedures Document',
    title: { nb: 'Prosedyrer og behandling', en: 'History of procedures' },
    required: false,
    entryTypes: ['Procedure'],
    sources: ['kjernejournal', 'npr', 'kpr'],
  },
  {
    key: 'devices',
    slice: 'sectionMedicalDevices',
    loinc: '46264-8',
    loincDisplay: 'History of medical device use',
    title: { nb: 'Implantater og medisinsk utstyr', en: 'Medical devices and implants' },
    required: false,
    entryTypes: ['DeviceUseStatement'],
    sources: ['kjernejournal'],
  },
  {
    key: 'alerts',
    slice: 'sectionAlerts',
    loinc: '104605-1',
    loincDisplay: 'Alert',
    title: { nb: 'Varsler (kritisk informasjon)', en: 'Alerts' },
    required: false,
    entryTypes: ['Flag'],
    sources: ['kjernejournal'],
  },
];

export const sectionFor = (type: string): SectionDef | undefined => SECTIONS.find((s) => (s.entryTypes as readonly string[]).includes(type));

/** Resource types a plain search may ask for (`GET [base]/{type}?patient=`). */
export const SEARCHABLE_TYPES = SECTIONS.flatMap((s) => s.entryTypes);

/** "nb" unless the client prefers English (the NCP case): `Accept-Language: en` or `en-GB;q=0.9, nb;q=0.5`. */
export function pickLanguage(acceptLanguage: string | undefined): Lang {
  if (!acceptLanguage) return 'nb';
  let best: { lang: Lang; q: number } | undefined;
  for (const part of acceptLanguage.split(',')) {
    const [tag = '', ...params] = part.trim().split(';');
    const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? '1');
    const primary = tag.trim().toLowerCase().split('-')[0];
    const lang: Lang | undefined = primary === 'en' ? 'en' : primary === 'nb' || primary === 'no' || primary === 'nn' ? 'nb' : undefined;
    if (lang && Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'nb';
}
