// "Health at a glance": one patient's $summary document as a page. Header (name, fødselsnummer, age,
// sex), then the sections most critical first, each with its rows or a plain statement of why it has
// none (nothing recorded, withheld, a source unavailable and which), never a blank. Pure: Bundle in,
// HTML string out.
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { OID } from '../fhir/identifiers.ts';
import { html, query, type SafeHtml } from './html.ts';
import { renderPage, t, type ShellContext } from './layout.ts';
import { readSummary, VIEW_SECTIONS, type ReadSection, type ReadSummary, type SectionNotice, type ViewSectionKey } from './summary-document.ts';
import { columnsFor, PROBLEMS_LAST_COLUMN, rowsFor, sortByLastDate, type ProblemSort, type Row } from './summary-rows.ts';
import { renderTable, type TableColumn } from './table.ts';
import { ageOn, formatDate, formatInstant, formatPersonNumber, GENDER, type Lang, type Texts } from './text.ts';
import type { ViewVocabulary } from './vocabulary.ts';

export interface PatientPageInput {
  bundle: Bundle;
  lang: Lang;
  vocabulary: ViewVocabulary;
  /** Diagnoses by last date; the document's order (Kjernejournal first, then most recent) when absent. */
  sort?: ProblemSort | undefined;
  /** For the age. */
  now: Date;
  /** This page's path (`/view/patient/{id}`), for the sort and language links. */
  path: string;
  shell: Omit<ShellContext, 'lang' | 'otherLanguageHref'>;
}

export const SECTION_TITLE: Record<ViewSectionKey, Texts> = {
  alerts: { nb: 'Medisinske varsler', en: 'Medical alerts' },
  allergies: { nb: 'Allergier og intoleranser', en: 'Allergies and intolerances' },
  devices: { nb: 'Implantater og medisinsk utstyr', en: 'Implants and medical devices' },
  medications: { nb: 'Legemidler', en: 'Medicines' },
  problems: { nb: 'Diagnoser og problemer', en: 'Diagnoses and problems' },
  procedures: { nb: 'Prosedyrer og undersøkelser', en: 'Procedures and examinations' },
};

const STATE_SHORT: Record<Exclude<ReadSection['state'], 'entries'>, Texts> = {
  empty: { nb: 'ingen registrert', en: 'none recorded' },
  unavailable: { nb: 'ikke tilgjengelig', en: 'unavailable' },
  withheld: { nb: 'holdt tilbake', en: 'withheld' },
  'not-asked': { nb: 'ikke spurt', en: 'not asked' },
};

export function renderPatientPage(input: PatientPageInput): string {
  const { lang } = input;
  const doc = readSummary(input.bundle);
  const shell: ShellContext = { ...input.shell, lang, otherLanguageHref: `${input.path}${query({ lang: lang === 'nb' ? 'en' : 'nb', sort: input.sort })}` };
  if (!doc) {
    const title = lang === 'nb' ? 'Sammendraget kunne ikke leses' : 'The summary could not be read';
    return renderPage(shell, { title, kind: 'error', body: html`<h1>${title}</h1>` });
  }
  const name = patientName(doc.patient);
  const body = html`
${printedHeader(doc, input)}
${patientHeader(doc, input)}
${sectionNav(doc, lang)}
${doc.otherNotices.length ? html`<div class="notices">${doc.otherNotices.map((n) => notice(n, input))}</div>` : ''}
${VIEW_SECTIONS.map(({ key }) => section(doc, doc.sections[key], input))}
`;
  return renderPage(shell, { title: name || (lang === 'nb' ? 'Pasient' : 'Patient'), kind: 'summary', body });
}

export function patientName(p: Patient | undefined): string {
  const n = p?.name?.find((x) => x.use === 'official') ?? p?.name?.[0];
  if (!n) return '';
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/**
 * On paper only, at the top of every printed page: whom the pages are about, when and by whom they were
 * printed. Pages 2 and 3 of a summary are otherwise loose sheets that could be filed with another patient.
 */
function printedHeader(doc: ReadSummary, input: PatientPageInput): SafeHtml {
  const { lang } = input;
  const ids = doc.patient?.identifier ?? [];
  const number = ids.find((i) => (i.system === OID.fnr || i.system === OID.dnr) && i.value)?.value;
  const user = input.shell.user;
  const by = user ? `${user.name ?? ''}${user.hpr ? ` (HPR ${user.hpr})` : ''}`.trim() : undefined;
  const printed = formatInstant(input.now.toISOString(), lang);
  return html`<div class="print-running print-only" aria-hidden="true"><bdi>${patientName(doc.patient)}</bdi>${number ? html` · ${formatPersonNumber(number)}` : ''} · ${lang === 'nb' ? 'utskrevet' : 'printed'} ${printed ?? ''}${by ? html` ${lang === 'nb' ? 'av' : 'by'} <bdi>${by}</bdi>` : ''}</div>`;
}

function patientHeader(doc: ReadSummary, input: PatientPageInput): SafeHtml {
  const { lang } = input;
  const p = doc.patient;
  const ids = p?.identifier ?? [];
  const fnr = ids.find((i) => i.system === OID.fnr && i.value);
  const dnr = ids.find((i) => i.system === OID.dnr && i.value);
  const number = fnr ?? dnr;
  const numberLabel = number === dnr && dnr ? 'D-nummer' : lang === 'nb' ? 'Fødselsnummer' : 'National identity number';
  const age = ageOn(p?.birthDate, input.now);
  const born = formatDate(p?.birthDate, lang);
  const ageText =
    age === undefined
      ? undefined
      : lang === 'nb'
        ? `${age} år${born ? ` (født ${born})` : ''}`
        : `${age} years${born ? ` (born ${born})` : ''}`;
  const gender = p?.gender ? (GENDER[p.gender]?.[lang] ?? p.gender) : undefined;
  const notStated = lang === 'nb' ? 'ikke oppgitt' : 'not stated';
  const fact = (label: string, value: string | undefined, cls = ''): SafeHtml =>
    html`<div class="fact ${cls}"><dt>${label}</dt><dd>${value ?? notStated}</dd></div>`;
  const assembled = formatInstant(doc.composition.date, lang);
  return html`<section class="patient" aria-labelledby="patient-name">
<h1 id="patient-name"><span class="sr-only">${lang === 'nb' ? 'Pasient: ' : 'Patient: '}</span><bdi>${patientName(p) || notStated}</bdi></h1>
<dl class="facts">
${fact(numberLabel, number?.value ? formatPersonNumber(number.value) : undefined, 'person-number')}
${fact(lang === 'nb' ? 'Alder' : 'Age', ageText)}
${fact(lang === 'nb' ? 'Kjønn' : 'Sex', gender)}
</dl>
${assembled ? html`<p class="assembled">${lang === 'nb' ? 'Pasientsammendrag satt sammen' : 'Patient summary assembled'} <time datetime="${doc.composition.date ?? ''}">${assembled}</time>${lang === 'nb' ? ' fra nasjonale kilder.' : ' from the national sources.'}</p>` : ''}
</section>`;
}

function sectionNav(doc: ReadSummary, lang: Lang): SafeHtml {
  const items = VIEW_SECTIONS.map(({ key }) => {
    const s = doc.sections[key];
    const what = s.state === 'entries' ? String(s.entries.length) : STATE_SHORT[s.state][lang];
    return html`<li class="nav-${s.state}"><a href="#${key}">${SECTION_TITLE[key][lang]} <span class="nav-count">(${what})</span></a></li>`;
  });
  return html`<nav class="sections-nav" aria-label="${lang === 'nb' ? 'Seksjoner i sammendraget' : 'Sections of the summary'}"><ul>${items}</ul></nav>`;
}

function section(doc: ReadSummary, s: ReadSection, input: PatientPageInput): SafeHtml {
  const { lang } = input;
  const title = SECTION_TITLE[s.key][lang];
  const headingId = `${s.key}-heading`;
  const count = s.state === 'entries' ? html` <span class="count">(${s.entries.length})</span>` : '';
  let content: SafeHtml;
  if (s.state === 'entries') {
    content = sectionTable(s, doc, input, title);
  } else {
    content = stateStatement(s, lang);
  }
  const notices = s.notices.length ? html`<div class="notices">${s.notices.map((n) => notice(n, input))}</div>` : '';
  const sources = s.sourcesLine ? html`<p class="sources">${s.sourcesLine}</p>` : '';
  return html`<section class="summary-section state-${s.state}" id="${s.key}" aria-labelledby="${headingId}" data-section="${s.loinc}">
<h2 id="${headingId}">${title}${count}</h2>
${notices}
${content}
${sources}
</section>`;
}

const EMPTY_TEXT: Record<Exclude<ReadSection['state'], 'entries'>, Texts> = {
  empty: {
    nb: 'Ingen opplysninger registrert i kildene som ble spurt. Det betyr ikke at pasienten ikke har slike.',
    en: 'Nothing recorded in the sources asked. This does not mean the patient has none.',
  },
  unavailable: {
    nb: 'Opplysningene kunne ikke hentes. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.',
    en: 'The information could not be retrieved. Absence of information here does not mean the patient has none.',
  },
  withheld: {
    nb: 'Opplysningene er holdt tilbake. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.',
    en: 'The information is withheld. Absence of information here does not mean the patient has none.',
  },
  'not-asked': { nb: 'Ingen kilde for denne seksjonen ble spurt.', en: 'No source for this section was asked.' },
};

const STATE_LABEL: Record<Exclude<ReadSection['state'], 'entries'>, Texts> = {
  empty: { nb: 'Ingen registrert', en: 'None recorded' },
  unavailable: { nb: 'Ikke tilgjengelig', en: 'Unavailable' },
  withheld: { nb: 'Holdt tilbake', en: 'Withheld' },
  'not-asked': { nb: 'Ikke spurt', en: 'Not asked' },
};

function stateStatement(s: ReadSection, lang: Lang): SafeHtml {
  const state = s.state as Exclude<ReadSection['state'], 'entries'>;
  // The document's own reason (in the language it was fetched in) when it gave one beyond the generic.
  const reason = s.emptyReason?.text && state !== 'empty' && !s.notices.length ? html` <span class="reason">(${s.emptyReason.text})</span>` : '';
  return html`<p class="state-statement state-${state}"><strong>${t(STATE_LABEL[state], lang)}:</strong> ${t(EMPTY_TEXT[state], lang)}${reason}</p>`;
}

function sectionTable(s: ReadSection, doc: ReadSummary, input: PatientPageInput, title: string): SafeHtml {
  const { lang } = input;
  let rows: Row[] = rowsFor(s.key, s.entries, { lang, vocabulary: input.vocabulary, resolve: doc.resolve });
  const columns: TableColumn[] = columnsFor(s.key).map((c) => ({ label: c.label[lang], rowHeader: c.rowHeader }));
  let caption = `${title}: ${rows.length} ${lang === 'nb' ? (rows.length === 1 ? 'oppføring' : 'oppføringer') : rows.length === 1 ? 'entry' : 'entries'}`;
  if (s.key === 'problems') {
    if (input.sort) rows = sortByLastDate(rows, input.sort);
    const next: ProblemSort = input.sort === 'last-desc' ? 'last-asc' : 'last-desc';
    const nextLabel =
      next === 'last-desc'
        ? lang === 'nb' ? 'sorter med sist registrert først' : 'sort most recent first'
        : lang === 'nb' ? 'sorter med eldste først' : 'sort oldest first';
    const col = columns[PROBLEMS_LAST_COLUMN]!;
    col.sort = {
      href: `${input.path}${query({ sort: next, lang: lang === 'en' ? 'en' : undefined })}#problems`,
      state: input.sort === 'last-desc' ? 'descending' : input.sort === 'last-asc' ? 'ascending' : 'none',
      nextLabel,
    };
    if (input.sort) {
      caption += lang === 'nb'
        ? `, sortert etter sist registrert, ${input.sort === 'last-desc' ? 'nyeste' : 'eldste'} først`
        : `, sorted by last recorded, ${input.sort === 'last-desc' ? 'newest' : 'oldest'} first`;
    }
  }
  return renderTable({ id: `${s.key}-table`, caption, columns, rows, lang });
}

const SOURCE_STATUS: Record<'failed' | 'timeout' | 'malformed', Texts> = {
  failed: { nb: 'var ikke tilgjengelig', en: 'could not be reached' },
  timeout: { nb: 'svarte ikke i tide', en: 'did not answer in time' },
  malformed: { nb: 'ga et svar som ikke kunne leses', en: 'answered with content that could not be read' },
};

const RULE_TEXT: Record<string, Texts> = {
  'ACCESS-SCOPE': { nb: 'Tilgangen din omfatter ikke disse opplysningene.', en: 'Your access does not cover this information.' },
  'ACCESS-KJ-RESERVED': { nb: 'Pasienten har reservert seg mot kjernejournal.', en: 'The patient has opted out of Kjernejournal.' },
  'ACCESS-RESTRICTED': { nb: 'Pasienten har begrenset tilgangen til disse opplysningene.', en: 'The patient has restricted access to this information.' },
};

function notice(n: SectionNotice, input: PatientPageInput): SafeHtml {
  const { lang } = input;
  switch (n.kind) {
    case 'source': {
      const label = input.vocabulary.source(n.source, lang)?.full ?? n.source;
      if (n.status === 'withheld') {
        return html`<p class="notice notice-withheld" data-source="${n.source}" data-status="${n.status}"><strong>${lang === 'nb' ? 'Holdt tilbake' : 'Withheld'}:</strong> ${lang === 'nb' ? 'opplysninger fra' : 'information from'} ${label}.</p>`;
      }
      const missing = lang === 'nb' ? 'Opplysninger derfra mangler.' : 'Its information is missing.';
      return html`<p class="notice notice-unavailable" data-source="${n.source}" data-status="${n.status}"><strong>${lang === 'nb' ? 'Kilde utilgjengelig' : 'Source unavailable'}:</strong> ${label} ${SOURCE_STATUS[n.status][lang]}. ${missing}</p>`;
    }
    case 'rule': {
      const text = RULE_TEXT[n.rule]?.[lang] ?? n.diagnostics ?? n.rule;
      return html`<p class="notice notice-withheld" data-rule="${n.rule}"><strong>${lang === 'nb' ? 'Holdt tilbake' : 'Withheld'}:</strong> ${text}</p>`;
    }
    case 'other':
      return html`<p class="notice notice-${n.severity === 'information' ? 'info' : 'unavailable'}">${n.diagnostics}</p>`;
  }
}
