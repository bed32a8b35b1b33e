// Section narratives: one XHTML table per section in Norwegian (default) or English, every piece of
// source text escaped, codes shown with their display, and a closing line naming every source asked and
// how it answered. A reader of the narrative alone must learn what a machine reads from the entries and
// the emptyReason.
import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  DeviceUseStatement,
  Flag,
  Medication,
  MedicationStatement,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';
import {
  ALLERGY_CERTAINTY,
  ALLERGY_CRITICALITY,
  allergyCertainty,
  CLINICAL_STATUS,
  codeText as lookup,
  REACTION_SEVERITY,
} from '../fhir/display-texts.ts';
import { CODE_SYSTEM } from '../fhir/identifiers.ts';
import { escapeXml, xhtmlDiv } from '../fhir/xhtml.ts';
import { codeDisplay, SYSTEM_NAME } from '../sources/code-displays.ts';
import { KJ_TYPE_SYSTEM } from '../sources/ips.ts';
import { KJ_WITHHELD } from '../sources/kjernejournal/adapter.ts';
import { KJ_TYPE_LABEL, type KjType } from '../sources/kjernejournal/mapper.ts';
import { readEpisodeSummary } from '../sources/registry-episodes/aggregate.ts';
import { SOURCE_LABEL, SOURCE_SHORT, sourcesOf, type Lang, type SourceName } from '../sources/source.ts';
import type { SourceResult } from './fetch-all.ts';
import type { SectionDef } from './sections.ts';

type Texts = Record<Lang, string>;
const t = (texts: Texts, lang: Lang): string => texts[lang];

const WITHHELD_REASON: Record<string, Texts> = {
  [KJ_WITHHELD.reservation]: { nb: 'pasienten har reservert seg mot kjernejournal', en: 'the patient has opted out of Kjernejournal' },
  [KJ_WITHHELD.restriction]: {
    nb: 'pasienten har begrenset tilgangen og samtykke er ikke gitt',
    en: 'the patient has restricted access and no consent was given',
  },
  [KJ_WITHHELD.blocked]: { nb: 'pasienten har sperret tilgang for helsepersonell', en: 'the patient has blocked access for health personnel' },
  // Rule codes of src/auth/access-rules.ts, which the http layer passes as the reason of a withheld decision.
  'ACCESS-KJ-RESERVED': { nb: 'pasienten har reservert seg mot kjernejournal', en: 'the patient has opted out of Kjernejournal' },
  'ACCESS-RESTRICTED': { nb: 'pasienten har begrenset tilgangen til disse opplysningene', en: 'the patient has restricted access to this information' },
  'ACCESS-GUARDIAN-RESERVED': { nb: 'pasienten har reservert seg mot innsyn fra foresatte', en: 'the patient has reserved against access by guardians' },
  'ACCESS-SCOPE': { nb: 'tilgangen omfatter ikke disse opplysningene', en: 'the access granted does not cover this information' },
};

export function withheldReasonText(reason: string, lang: Lang): string {
  return WITHHELD_REASON[reason]?.[lang] ?? reason;
}

export function sourceStateText(r: SourceResult, lang: Lang): string {
  switch (r.status) {
    case 'ok':
      return t({ nb: 'svarte', en: 'answered' }, lang);
    case 'withheld':
      return `${t({ nb: 'holdt tilbake', en: 'withheld' }, lang)}: ${withheldReasonText(r.reason, lang)}`;
    case 'timeout':
      return t({ nb: 'svarte ikke i tide', en: 'did not answer in time' }, lang);
    case 'malformed':
      return t({ nb: 'ga et svar som ikke kunne leses', en: 'gave an answer that could not be read' }, lang);
    case 'failed':
      return t({ nb: 'var ikke tilgjengelig', en: 'was not available' }, lang);
  }
}

export interface NarrativeContext {
  lang: Lang;
  /** The results of the sources this section draws on. */
  sources: readonly SourceResult[];
  /** Every resource of the document, by `Type/id`, to resolve Medication and Device references. */
  resolve: (reference: string | undefined) => Resource | undefined;
  /** Set when an access rule withheld the whole section. */
  sectionWithheld?: string;
}

export function sectionNarrative(def: SectionDef, entries: readonly Resource[], ctx: NarrativeContext): string {
  const { lang } = ctx;
  const parts: string[] = [];
  if (ctx.sectionWithheld !== undefined) {
    parts.push(p(`${t({ nb: 'Opplysningene i denne seksjonen er holdt tilbake', en: 'The information in this section is withheld' }, lang)}: ${withheldReasonText(ctx.sectionWithheld, lang)}.`));
  } else if (entries.length) {
    parts.push(TABLES[def.key](entries, ctx));
  } else {
    parts.push(p(emptyText(ctx)));
  }
  parts.push(sourcesLine(ctx));
  return xhtmlDiv(parts.join(''), lang);
}

function emptyText(ctx: NarrativeContext): string {
  const { lang } = ctx;
  const failed = ctx.sources.filter((s) => s.status === 'failed' || s.status === 'timeout' || s.status === 'malformed');
  const withheld = ctx.sources.filter((s) => s.status === 'withheld');
  if (!ctx.sources.length) {
    return t({ nb: 'Ingen kilde for denne seksjonen ble spurt.', en: 'No source for this section was asked.' }, lang);
  }
  if (failed.length) {
    return t(
      {
        nb: 'Opplysninger mangler fordi en kilde ikke kunne leses. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.',
        en: 'Information is missing because a source could not be read. Absence of information here does not mean the patient has none.',
      },
      lang,
    );
  }
  if (withheld.length) {
    return t(
      { nb: 'Opplysningene er holdt tilbake. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.', en: 'The information is withheld. Absence of information here does not mean the patient has none.' },
      lang,
    );
  }
  return t(
    {
      nb: 'Ingen opplysninger funnet i kildene som ble spurt. Det betyr ikke at pasienten ikke har slike.',
      en: 'No information was found in the sources asked. This does not mean the patient has none.',
    },
    lang,
  );
}

function sourcesLine(ctx: NarrativeContext): string {
  if (!ctx.sources.length) return '';
  const label = t({ nb: 'Kilder spurt', en: 'Sources asked' }, ctx.lang);
  const items = ctx.sources.map((s) => `${escapeXml(SOURCE_LABEL[s.source][ctx.lang])}: ${escapeXml(sourceStateText(s, ctx.lang))}`);
  return `<p><i>${label}: ${items.join('; ')}.</i></p>`;
}

const p = (text: string): string => `<p>${escapeXml(text)}</p>`;

function table(headers: Texts[], rows: string[][], lang: Lang): string {
  const head = headers.map((h) => `<th>${escapeXml(h[lang])}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Escaped cell text; an empty cell for nothing. */
const cell = (text: string | undefined): string => (text ? escapeXml(text) : '');

/** The best human name of a concept in the reader's language: our display table, then the source's text. */
export function conceptText(cc: CodeableConcept | undefined, lang: Lang): string | undefined {
  if (!cc) return undefined;
  if (lang === 'en') {
    for (const c of cc.coding ?? []) {
      const en = codeDisplay(c.system, c.code, 'en');
      if (en) return en;
    }
  }
  return cc.text ?? cc.coding?.find((c) => c.display)?.display ?? cc.coding?.find((c) => c.code)?.code;
}

/** "ICD-10 G43.0" for every coding in a code system a reader knows by name. */
function codeCell(cc: CodeableConcept | undefined): string {
  const codes = (cc?.coding ?? [])
    .filter((c) => c.code && c.system && c.system !== KJ_TYPE_SYSTEM)
    .map((c) => `${SYSTEM_NAME[c.system!] ?? c.system} ${c.code}`);
  return cell(codes.join(', '));
}

export function formatDate(value: string | undefined, lang: Lang): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!m) return value;
  const [, y, mo, d] = m;
  if (lang === 'en') return [y, mo, d].filter(Boolean).join('-');
  return [d, mo, y].filter(Boolean).join('.');
}

const sourceCell = (r: Resource): string => cell(sourcesOf(r).map((s: SourceName) => SOURCE_SHORT[s]).join(', '));

function kjTypeText(r: { category?: CodeableConcept | CodeableConcept[] }, lang: Lang): string | undefined {
  const cats = Array.isArray(r.category) ? r.category : r.category ? [r.category] : [];
  for (const cat of cats) {
    const code = cat.coding?.find((c) => c.system === KJ_TYPE_SYSTEM)?.code;
    if (code && code in KJ_TYPE_LABEL) return KJ_TYPE_LABEL[code as KjType][lang];
  }
  return undefined;
}

const notes = (n: { text?: string }[] | undefined): string | undefined => n?.map((x) => x.text).filter(Boolean).join(' ');

function episodeText(c: Condition, lang: Lang): string | undefined {
  const s = readEpisodeSummary(c);
  if (!s) return undefined;
  const count =
    lang === 'nb' ? `${s.episodes} ${s.episodes === 1 ? 'oppføring' : 'oppføringer'}` : `${s.episodes} ${s.episodes === 1 ? 'episode' : 'episodes'}`;
  const span = s.firstSeen === s.lastSeen ? formatDate(s.firstSeen, lang) : `${formatDate(s.firstSeen, lang)} – ${formatDate(s.lastSeen, lang)}`;
  return `${span}, ${count}`;
}

type TableFn = (entries: readonly Resource[], ctx: NarrativeContext) => string;

const TABLES: Record<SectionDef['key'], TableFn> = {
  problems: (entries, { lang }) =>
    table(
      [
        { nb: 'Problem / diagnose', en: 'Problem / diagnosis' },
        { nb: 'Kode', en: 'Code' },
        { nb: 'Tidsrom', en: 'Period' },
        { nb: 'Merknad', en: 'Comment' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as Condition[]).map((c) => {
        const period =
          episodeText(c, lang) ?? (c.onsetDateTime ? `${t({ nb: 'fra', en: 'since' }, lang)} ${formatDate(c.onsetDateTime, lang)}` : undefined);
        const status = lookup(CLINICAL_STATUS, c.clinicalStatus?.coding?.[0]?.code, lang);
        const comment = [kjTypeText(c, lang), status, notes(c.note)].filter(Boolean).join('. ');
        return [cell(conceptText(c.code, lang)), codeCell(c.code), cell(period), cell(comment), sourceCell(c)];
      }),
      lang,
    ),
  allergies: (entries, { lang }) =>
    table(
      [
        { nb: 'Stoff / legemiddel', en: 'Substance / medicine' },
        { nb: 'Kode', en: 'Code' },
        { nb: 'Reaksjon', en: 'Reaction' },
        { nb: 'Alvorlighetsgrad', en: 'Criticality' },
        { nb: 'Sikkerhet', en: 'Certainty' },
        { nb: 'Status', en: 'Status' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as AllergyIntolerance[]).map((a) => {
        const reactions = (a.reaction ?? [])
          .map((r) =>
            [r.manifestation?.map((m) => conceptText(m, lang)).filter(Boolean).join(', '), lookup(REACTION_SEVERITY, r.severity, lang), r.description]
              .filter(Boolean)
              .join(', '),
          )
          .join('; ');
        return [
          cell(conceptText(a.code, lang)),
          codeCell(a.code),
          cell(reactions),
          cell(lookup(ALLERGY_CRITICALITY, a.criticality, lang)),
          cell(lookup(ALLERGY_CERTAINTY, allergyCertainty(a), lang)),
          cell(lookup(CLINICAL_STATUS, a.clinicalStatus?.coding?.[0]?.code, lang)),
          sourceCell(a),
        ];
      }),
      lang,
    ),
  medications: (entries, ctx) =>
    table(
      [
        { nb: 'Legemiddel', en: 'Medicine' },
        { nb: 'Virkestoff (ATC)', en: 'Active substance (ATC)' },
        { nb: 'Dosering', en: 'Dosage' },
        { nb: 'Startet', en: 'Started' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as MedicationStatement[]).map((m) => {
        const med = ctx.resolve(m.medicationReference?.reference) as Medication | undefined;
        const code = med?.code ?? m.medicationCodeableConcept;
        const atc = code?.coding?.find((c) => c.system === CODE_SYSTEM.atc);
        const substance = atc ? `${codeDisplay(atc.system, atc.code, ctx.lang) ?? atc.display ?? ''} (${atc.code})`.trim() : undefined;
        const name = code?.text ?? m.medicationReference?.display ?? conceptText(code, ctx.lang);
        const started = m.effectivePeriod?.start ?? m.effectiveDateTime;
        return [cell(name), cell(substance), cell(m.dosage?.map((d) => d.text).filter(Boolean).join('; ')), cell(formatDate(started, ctx.lang)), sourceCell(m)];
      }),
      ctx.lang,
    ),
  procedures: (entries, { lang }) =>
    table(
      [
        { nb: 'Prosedyre / behandling', en: 'Procedure / treatment' },
        { nb: 'Kode', en: 'Code' },
        { nb: 'Dato', en: 'Date' },
        { nb: 'Utført ved', en: 'Performed at' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as Procedure[]).map((pr) => {
        const date = pr.performedDateTime
          ? formatDate(pr.performedDateTime, lang)
          : pr.performedPeriod?.start
            ? `${t({ nb: 'fra', en: 'since' }, lang)} ${formatDate(pr.performedPeriod.start, lang)}`
            : undefined;
        const ongoing = pr.status === 'in-progress' ? t({ nb: 'pågår', en: 'ongoing' }, lang) : undefined;
        const at = pr.performer?.map((x) => x.actor?.display).filter(Boolean).join(', ');
        return [cell(conceptText(pr.code, lang)), codeCell(pr.code), cell([date, ongoing].filter(Boolean).join(', ')), cell(at), sourceCell(pr)];
      }),
      lang,
    ),
  devices: (entries, ctx) =>
    table(
      [
        { nb: 'Implantat / utstyr', en: 'Implant / device' },
        { nb: 'Implantert', en: 'Implanted' },
        { nb: 'Plassering', en: 'Body site' },
        { nb: 'Merknad', en: 'Comment' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as DeviceUseStatement[]).map((d) => {
        const device = ctx.resolve(d.device?.reference);
        const name =
          d.device?.display ?? (device?.resourceType === 'Device' ? (device.deviceName?.[0]?.name ?? conceptText(device.type, ctx.lang)) : undefined);
        const maker = device?.resourceType === 'Device' ? device.manufacturer : undefined;
        return [
          cell([name, maker ? `(${maker})` : undefined].filter(Boolean).join(' ')),
          cell(formatDate(d.timingDateTime ?? d.timingPeriod?.start, ctx.lang)),
          cell(conceptText(d.bodySite, ctx.lang)),
          cell(notes(d.note)),
          sourceCell(d),
        ];
      }),
      ctx.lang,
    ),
  alerts: (entries, { lang }) =>
    table(
      [
        { nb: 'Varsel', en: 'Alert' },
        { nb: 'Type', en: 'Type' },
        { nb: 'Fra', en: 'Since' },
        { nb: 'Kilde', en: 'Source' },
      ],
      (entries as Flag[]).map((f) => [cell(conceptText(f.code, lang)), cell(kjTypeText(f, lang)), cell(formatDate(f.period?.start, lang)), sourceCell(f)]),
      lang,
    ),
};

/** Composition-level narrative: who, when and by what, without repeating the sections. */
export function compositionNarrative(args: { title: string; patientName: string; birthDate?: string; date: string; lang: Lang }): string {
  const { lang } = args;
  const born = args.birthDate ? `, ${t({ nb: 'født', en: 'born' }, lang)} ${formatDate(args.birthDate, lang)}` : '';
  const made = t({ nb: 'Satt sammen automatisk av Helsebro', en: 'Assembled automatically by Helsebro' }, lang);
  return xhtmlDiv(`<p><b>${escapeXml(args.title)}</b>: ${escapeXml(args.patientName)}${escapeXml(born)}. ${escapeXml(made)} ${escapeXml(formatDate(args.date, lang) ?? '')}.</p>`, lang);
}
