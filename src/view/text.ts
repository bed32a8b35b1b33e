// Language and formatting for the clinician view: bokmål by default, English on request. Dates as the
// Norwegian concept sketch writes them (dd.mm.yyyy); ISO order in English, which no reader misreads.
export type Lang = 'nb' | 'en';
export type Texts = Record<Lang, string>;

export const LANGS: readonly Lang[] = ['nb', 'en'];
export const isLang = (v: unknown): v is Lang => v === 'nb' || v === 'en';

export { formatDate } from '../sections/read.ts';

const OSLO = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Oslo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** An instant in Norwegian local time: "23.11.2026 kl. 14:05" / "2026-11-23 14:05 (Oslo time)". */
export function formatInstant(iso: string | undefined, lang: Lang): string | undefined {
  if (!iso) return undefined;
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return undefined;
  const parts = Object.fromEntries(OSLO.formatToParts(t).map((p) => [p.type, p.value]));
  const time = `${parts.hour}:${parts.minute}`;
  return lang === 'nb'
    ? `${parts.day}.${parts.month}.${parts.year} kl. ${time}`
    : `${parts.year}-${parts.month}-${parts.day} ${time} (Oslo time)`;
}

/** Whole years between a birth date (yyyy-mm-dd) and a day; undefined for partial or invalid dates. */
export function ageOn(birthDate: string | undefined, on: Date): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = on.getUTCFullYear() - y;
  const beforeBirthday = on.getUTCMonth() + 1 < mo || (on.getUTCMonth() + 1 === mo && on.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age >= 0 && age < 150 ? age : undefined;
}

/** "05886610019" -> "058866 10019": birth date part and personal number, as Norwegian forms print them. */
export const formatPersonNumber = (n: string): string => (/^\d{11}$/.test(n) ? `${n.slice(0, 6)} ${n.slice(6)}` : n);

export const GENDER: Record<string, Texts> = {
  male: { nb: 'Mann', en: 'Male' },
  female: { nb: 'Kvinne', en: 'Female' },
  other: { nb: 'Annet', en: 'Other' },
  unknown: { nb: 'Ukjent', en: 'Unknown' },
};

/** Interface texts shared by every page. */
export const UI = {
  appName: { nb: 'Helsebro', en: 'Helsebro' },
  tagline: { nb: 'Helse på et blikk', en: 'Health at a glance' },
  skip: { nb: 'Hopp til hovedinnhold', en: 'Skip to main content' },
  signedInAs: { nb: 'Innlogget som', en: 'Signed in as' },
  signOut: { nb: 'Logg ut', en: 'Sign out' },
  otherLanguage: { nb: 'English', en: 'Norsk' },
  otherLanguageLabel: { nb: 'vis siden på engelsk', en: 'show the page in Norwegian' },
  newSearch: { nb: 'Nytt søk', en: 'New search' },
  print: { nb: 'Skriv ut', en: 'Print' },
  notStated: { nb: 'ikke oppgitt', en: 'not stated' },
  printedFrom: { nb: 'Utskrift fra Helsebro', en: 'Printed from Helsebro' },
  printNote: {
    nb: 'Opplysningene gjelder på utskriftstidspunktet og kan være endret siden.',
    en: 'The information is as of the time of printing and may have changed since.',
  },
  footer: {
    nb: 'Helsebro viser pasientsammendraget fra Kjernejournal, legemiddellisten, NPR og KPR slik FHIR-API-et leverer det.',
    en: 'Helsebro shows the patient summary from Kjernejournal, the medication list, NPR and KPR as the FHIR API serves it.',
  },
  demoBanner: { nb: 'Demo: alle pasienter og helsepersonell er oppdiktet.', en: 'Demo: every patient and clinician is fictitious.' },
} as const satisfies Record<string, Texts>;
