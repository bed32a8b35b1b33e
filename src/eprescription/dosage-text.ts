// The structured dosage of an M1 as readable lines, in bokmål and English: for the CDA narrative when the
// CDA structure cannot say the dosage (different amounts per time of day, a time of day HL7 has no event
// for, tapering), and for the Level 1 PDF. Pure.
import type { DoseInfo, EuQuantity, Weekday } from './map/values.ts';

export type Lang = 'nb' | 'en';

// Kodeverk 8325, tidspunkt på dagen.
const TIME_OF_DAY: Record<string, Record<Lang, string>> = {
  '1': { nb: 'morgen', en: 'morning' },
  '2': { nb: 'formiddag', en: 'late morning' },
  '3': { nb: 'midt på dagen', en: 'midday' },
  '4': { nb: 'ettermiddag', en: 'afternoon' },
  '5': { nb: 'kveld', en: 'evening' },
  '6': { nb: 'natt', en: 'night' },
};

const UNIT_WORDS: Record<string, Record<Lang, [string, string]>> = {
  s: { nb: ['sekund', 'sekunder'], en: ['second', 'seconds'] },
  min: { nb: ['minutt', 'minutter'], en: ['minute', 'minutes'] },
  h: { nb: ['time', 'timer'], en: ['hour', 'hours'] },
  d: { nb: ['dag', 'dager'], en: ['day', 'days'] },
  wk: { nb: ['uke', 'uker'], en: ['week', 'weeks'] },
  mo: { nb: ['måned', 'måneder'], en: ['month', 'months'] },
  a: { nb: ['år', 'år'], en: ['year', 'years'] },
};

const number = (n: number, lang: Lang): string => (lang === 'nb' ? String(n).replace('.', ',') : String(n));

/** An amount as the reader of that language reads it: the Norwegian unit text, or the EU unit. */
export function quantityText(q: EuQuantity | undefined, lang: Lang): string {
  if (!q) return '';
  const unit = lang === 'nb' ? (q.original ?? q.national?.display ?? q.unitDisplay) : (q.unitDisplay ?? q.presentation?.display ?? (q.ucum !== '1' ? q.ucum : undefined) ?? q.original);
  return `${number(q.value, lang)}${unit ? ` ${unit}` : ''}`;
}

/** An English noun in the plural: "tablets", "pessaries", "patches". */
const plural = (noun: string): string => (/[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`);

/**
 * An amount to dispense in words, which no reader can take for a number of packages: "100 tablets" (the unit
 * of presentation), "300 mL" (UCUM); in bokmål the unit as the prescriber wrote it ("100 stk").
 */
export function amountText(q: EuQuantity, lang: Lang): string {
  if (lang === 'nb') return quantityText(q, 'nb');
  const item = q.presentation?.display?.toLowerCase();
  if (item) return `${number(q.value, 'en')} ${q.value === 1 ? item : plural(item)}`;
  if (q.ucum && q.ucum !== '1') return `${number(q.value, 'en')} ${q.ucum}`;
  return quantityText(q, 'en');
}

function every(e: NonNullable<DoseInfo['every']>, lang: Lang): string {
  const words = UNIT_WORDS[e.unit]![lang];
  return lang === 'nb'
    ? `${e.unit === 'a' ? 'hvert' : 'hver'} ${e.value === 1 ? '' : `${number(e.value, lang)}. `}${words[0]}`
    : `every ${e.value === 1 ? '' : `${number(e.value, lang)} `}${e.value === 1 ? words[0] : words[1]}`;
}

/** "Monday", "Monday and Friday", "Monday, Wednesday and Friday". */
function dayList(days: readonly Weekday[], lang: Lang): string {
  const names = days.map((d) => d[lang]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} ${lang === 'nb' ? 'og' : 'and'} ${names.at(-1)}` : (names[0] ?? '');
}

/**
 * Fixed weekdays with the interval they come with. Never "every day": an Intervall of one day (or one week)
 * beside FasteUkedager means on each of those days, so it reads "every Monday"; a longer one in weeks "every 2
 * weeks on Monday"; any other interval is said with "only on Monday".
 */
function onDays(days: readonly Weekday[], e: DoseInfo['every'], lang: Lang): string {
  const list = dayList(days, lang);
  if (!e || (e.value === 1 && (e.unit === 'd' || e.unit === 'wk'))) return `${lang === 'nb' ? 'hver' : 'every'} ${list}`;
  if (e.unit === 'wk') return `${every(e, lang)} ${lang === 'nb' ? 'på' : 'on'} ${list}`;
  return `${every(e, lang)}, ${lang === 'nb' ? 'kun' : 'only on'} ${list}`;
}

function timing(d: DoseInfo, lang: Lang): string[] {
  const parts: string[] = [];
  if (d.daysOfWeek?.length) parts.push(onDays(d.daysOfWeek, d.every, lang));
  else if (d.every) parts.push(every(d.every, lang));
  const tid = d.when?.source.code ? TIME_OF_DAY[d.when.source.code]?.[lang] : undefined;
  if (tid) parts.push(tid);
  if (d.timeOfDay) parts.push(`${lang === 'nb' ? 'kl.' : 'at'} ${d.timeOfDay.slice(0, 5)}`);
  return parts;
}

/** One line per dose: "morgen: 1 tablett", "ved behov: 1 tablett, høyst 6 tablett per døgn". */
export function doseLines(doses: readonly DoseInfo[], lang: Lang): string[] {
  return doses.map((d) => {
    const when = timing(d, lang);
    if (d.kind === 'as-needed') when.unshift(lang === 'nb' ? 'ved behov' : 'as needed');
    const amount = quantityText(d.quantity, lang);
    const max = d.maxPerDay ? `${lang === 'nb' ? 'høyst' : 'at most'} ${quantityText(d.maxPerDay, lang)} ${lang === 'nb' ? 'per døgn' : 'per 24 hours'}` : undefined;
    const head = when.length ? `${when.join(', ')}: ` : '';
    const notes = (d.notes ?? []).map((n) => n[lang]);
    return [`${head}${amount}`, max, ...notes].filter(Boolean).join(', ');
  });
}

/**
 * Which period a dose belongs to, its Dosering's dates ("" for an undated one). Doses with the same period are
 * taken side by side, whatever Dosering holds them; dated periods follow one another; an undated Dosering has
 * no place in such a sequence and runs beside all of them ("2 + 2 fixed, and 1 as needed in addition").
 */
export const periodKey = (d: DoseInfo): string => (d.start || d.end ? `${d.start ?? ''}/${d.end ?? ''}` : '');

/** The doses grouped by period (periodKey), dated periods in date order ("then" means later). */
export function byPeriod(doses: readonly DoseInfo[]): { dated: DoseInfo[][]; undated: DoseInfo[] } {
  const groups = new Map<string, DoseInfo[]>();
  for (const d of doses) groups.set(periodKey(d), [...(groups.get(periodKey(d)) ?? []), d]);
  const undated = groups.get('') ?? [];
  groups.delete('');
  const from = (g: DoseInfo[]): string => g[0]!.start ?? g[0]!.end ?? '';
  return { dated: [...groups.values()].sort((a, b) => (from(a) < from(b) ? -1 : from(a) > from(b) ? 1 : 0)), undated };
}

/** "2026-03-01 – 2026-03-07: ", "from 2026-03-01: ", "until 2026-03-07: "; never a placeholder for a date the M1 does not give. */
function periodText({ start, end }: DoseInfo, lang: Lang): string {
  if (start && end) return `${start} – ${end}: `;
  if (start) return `${lang === 'nb' ? 'fra' : 'from'} ${start}: `;
  return end ? `${lang === 'nb' ? 'til' : 'until'} ${end}: ` : '';
}

/**
 * The whole structured dosage as one text: doses of one period side by side ("; "), dated periods one after
 * the other ("then"), each with its dates when it ends or others follow; undated doses beside them all, said
 * "in addition" when there are dated periods too.
 */
export function dosageText(doses: readonly DoseInfo[], lang: Lang): string {
  const { dated, undated } = byPeriod(doses);
  const steps = dated.map((group) => {
    const shown = group[0]!.end || dated.length > 1;
    return `${shown ? periodText(group[0]!, lang) : ''}${doseLines(group, lang).join('; ')}`;
  });
  const sequence = steps.join(lang === 'nb' ? '; deretter ' : '; then ');
  // Several undated Dosering elements: the prescriber's "i tillegg", so that the second is not read as a
  // choice or a replacement.
  const ordinals = [...new Set(undated.map((d) => d.dosering))];
  const beside = ordinals.map((o) => doseLines(undated.filter((d) => d.dosering === o), lang).join('; ')).join(lang === 'nb' ? '; i tillegg, ' : '; in addition, ');
  if (!steps.length) return beside;
  if (!undated.length) return sequence;
  return `${sequence}; ${lang === 'nb' ? 'i tillegg, i hele perioden' : 'in addition, throughout'}: ${beside}`;
}
