// The daily NPR/KPR extract format (README.md in this folder) and its line parser. Pure: every line is
// either an Episode or an error naming the line and the field, never the field's value (values are
// personal data and the errors are printed to operators' terminals and logs).
import { z } from 'zod';
import { parsePersonNumber } from '../../fhir/identifiers.ts';

export const REGISTRIES = ['npr', 'kpr'] as const;
export type RegistryKind = (typeof REGISTRIES)[number];

export type ProviderSystem = 'resh' | 'orgnr' | 'her';

export interface EpisodeProcedure {
  code: string;
  /** YYYY-MM-DD; the episode's start when the extract does not say. */
  date: string;
}

export interface Episode {
  registry: RegistryKind;
  /** The registry's own episode id: the natural key, with the registry, that makes loading idempotent. */
  id: string;
  fnr: string;
  start: string;
  end?: string;
  provider: { system: ProviderSystem; id: string; name?: string };
  /** ICD-10 for NPR, ICPC-2 for KPR, normalised ("G43.0", "K86"). */
  diagnoses: string[];
  /** NKPK (NCSP/NCMP/NCRP). */
  procedures: EpisodeProcedure[];
}

export interface LineError {
  line: number;
  message: string;
}

export type LineResult = { ok: true; episode: Episode } | { ok: false; error: LineError };

export const MAX_LINE_CHARS = 64 * 1024;

const isoDate = z.string().refine(isCalendarDate, 'not a date (YYYY-MM-DD)');
const name = z.string().trim().min(1).max(200);
const digits = (min: number, max: number) => z.string().regex(new RegExp(`^\\d{${min},${max}}$`));

const procedureItem = z.union([
  z.string(),
  z.object({ code: z.string(), date: isoDate.optional() }),
]);

const common = {
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and ._:- only, at most 100'),
  fnr: z.string(),
  start: isoDate,
  end: isoDate.optional(),
  diagnoses: z.array(z.string()).max(50).default([]),
  procedures: z.array(procedureItem).max(50).default([]),
};

const nprLine = z.object({
  ...common,
  institution: z
    .object({ resh: digits(1, 12).optional(), orgnr: digits(9, 9).optional(), name: name.optional() })
    .refine((i) => i.resh !== undefined || i.orgnr !== undefined, 'needs resh or orgnr'),
});

const kprLine = z.object({
  ...common,
  practice: z
    .object({ orgnr: digits(9, 9).optional(), herId: digits(1, 9).optional(), name: name.optional() })
    .refine((p) => p.orgnr !== undefined || p.herId !== undefined, 'needs orgnr or herId'),
});

/** "G430", "g43.0" -> "G43.0"; undefined when it is not an ICD-10 code. */
export function normaliseIcd10(raw: string): string | undefined {
  const m = /^([A-Z]\d{2})\.?([0-9A-Z]{1,2})?$/.exec(raw.trim().toUpperCase());
  if (!m) return undefined;
  return m[2] ? `${m[1]}.${m[2]}` : m[1];
}

export function normaliseIcpc2(raw: string): string | undefined {
  const code = raw.trim().toUpperCase();
  return /^[A-Z]\d{2}$/.test(code) ? code : undefined;
}

export function normaliseNkpk(raw: string): string | undefined {
  const code = raw.trim().toUpperCase();
  return /^[A-Z][A-Z0-9]{3,6}$/.test(code) ? code : undefined;
}

export const DIAGNOSIS_NORMALISER: Record<RegistryKind, (raw: string) => string | undefined> = {
  npr: normaliseIcd10,
  kpr: normaliseIcpc2,
};

export function parseEpisodeLine(text: string, line: number, kind: RegistryKind): LineResult {
  const fail = (message: string): LineResult => ({ ok: false, error: { line, message } });
  if (text.length > MAX_LINE_CHARS) return fail(`line longer than ${MAX_LINE_CHARS} characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('not a JSON object');
  const parsed = (kind === 'npr' ? nprLine : kprLine).safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.map(String).join('.') || (kind === 'npr' ? 'institution' : 'practice');
    return fail(`${where}: ${first?.message ?? 'invalid'}`);
  }
  const v = parsed.data;
  if (!parsePersonNumber(v.fnr)) return fail('fnr: not a valid fødselsnummer or D-nummer');
  if (v.end !== undefined && v.end < v.start) return fail('end: before start');

  const diagnoses: string[] = [];
  for (const [i, raw] of v.diagnoses.entries()) {
    const code = DIAGNOSIS_NORMALISER[kind](raw);
    if (!code) return fail(`diagnoses.${i}: not ${kind === 'npr' ? 'an ICD-10' : 'an ICPC-2'} code`);
    if (!diagnoses.includes(code)) diagnoses.push(code);
  }
  const procedures: EpisodeProcedure[] = [];
  for (const [i, raw] of v.procedures.entries()) {
    const code = normaliseNkpk(typeof raw === 'string' ? raw : raw.code);
    if (!code) return fail(`procedures.${i}: not an NKPK code`);
    const date = typeof raw === 'string' ? v.start : (raw.date ?? v.start);
    if (!procedures.some((p) => p.code === code && p.date === date)) procedures.push({ code, date });
  }
  if (!diagnoses.length && !procedures.length) return fail('episode has neither diagnoses nor procedures');

  const provider =
    'institution' in v
      ? v.institution.resh !== undefined
        ? { system: 'resh' as const, id: v.institution.resh, name: v.institution.name }
        : { system: 'orgnr' as const, id: v.institution.orgnr!, name: v.institution.name }
      : v.practice.orgnr !== undefined
        ? { system: 'orgnr' as const, id: v.practice.orgnr, name: v.practice.name }
        : { system: 'her' as const, id: v.practice.herId!, name: v.practice.name };

  return {
    ok: true,
    episode: {
      registry: kind,
      id: v.id,
      fnr: v.fnr,
      start: v.start,
      ...(v.end !== undefined ? { end: v.end } : {}),
      provider: { system: provider.system, id: provider.id, ...(provider.name !== undefined ? { name: provider.name } : {}) },
      diagnoses,
      procedures,
    },
  };
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export interface RawLine {
  line: number;
  text: string;
  /** The line was cut at the length limit; its text is only the start. */
  truncated: boolean;
}

/**
 * Splits a byte stream into lines (LF or CRLF, UTF-8, a leading BOM ignored) without ever holding more
 * than the length limit of one line: a hostile extract with a gigabyte on one line costs 64 KiB.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array | string>, maxChars = MAX_LINE_CHARS): AsyncGenerator<RawLine> {
  const decoder = new TextDecoder('utf-8');
  let buf = '';
  let line = 1;
  let truncated = false;
  let first = true;
  const take = (text: string): RawLine => {
    const out = { line, text: text.endsWith('\r') ? text.slice(0, -1) : text, truncated };
    line += 1;
    truncated = false;
    return out;
  };
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      if (!truncated) buf += piece;
      if (buf.length > maxChars) {
        buf = buf.slice(0, maxChars);
        truncated = true;
      }
      yield take(buf);
      buf = '';
      start = nl + 1;
    }
    if (!truncated) buf += text.slice(start);
    if (buf.length > maxChars) {
      buf = buf.slice(0, maxChars);
      truncated = true;
    }
  }
  buf += decoder.decode();
  if (buf.length || truncated) yield take(buf);
}
