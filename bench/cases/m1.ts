// M1 conversion to both EU outputs (MPD FHIR Bundle and eHDSI CDA) against xml2js parsing alone of the
// same messages, in this process, messages per second over the corpus. Goal: ratio >= 0.5.
// Runs once src/eprescription/pipeline.ts exports the conversion (see lib/pipeline.ts).
import xml2js from 'xml2js';
import type { BenchContext } from '../lib/context.ts';
import { m1Corpus, type CorpusMessage } from '../lib/corpus.ts';
import { loadPipeline } from '../lib/pipeline.ts';
import { fmtInt, fmtRatio, notYet, type Row } from '../lib/report.ts';
import { alternate, roundRatios } from '../lib/rounds.ts';

const NAME = 'M1 -> EU MPD FHIR + eHDSI CDA (in-process)';
const GOAL = 'ratio >= 0.5';

/** Passes over the whole corpus for `seconds`; returns messages per second. */
async function measure(messages: CorpusMessage[], seconds: number, one: (m: CorpusMessage) => unknown): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (const m of messages) await one(m);
    n += messages.length;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** xml2js alone, with the namespace resolution the project's XML layer also asks of it. */
function xml2jsOnly(m: CorpusMessage): unknown {
  let out: unknown;
  xml2js.parseString(m.bytes.toString('utf8'), { xmlns: true, explicitChildren: true, preserveChildrenOrder: true, async: false }, (err, r) => {
    if (err) throw err;
    out = r;
  });
  return out;
}

export async function m1Case(ctx: BenchContext): Promise<Row[]> {
  const pipeline = await loadPipeline(ctx);
  if ('missing' in pipeline) return [notYet(NAME, GOAL, pipeline.missing)];
  // Only the messages that convert: a refusal by rule stops before enrichment and the emitters.
  const messages: CorpusMessage[] = [];
  for (const m of m1Corpus()) if (await pipeline.convert(m.bytes)) messages.push(m);
  if (messages.length === 0) throw new Error('no corpus message converted');
  // Windows of a second each, alternating (bench/lib/rounds.ts), after an unmeasured window of each: the
  // optimising compiler takes a few hundred calls to reach the conversion's inner functions.
  const rounds = ctx.quick ? 2 : 8;
  const seconds = ctx.quick ? 0.75 : 1;
  await measure(messages, seconds, xml2jsOnly);
  await measure(messages, seconds, (m) => pipeline.convert(m.bytes));
  ctx.log(`m1: ${messages.length} messages, xml2js alone and the full conversion in ${rounds} alternating rounds`);
  const results = await alternate(
    rounds,
    () => measure(messages, seconds, xml2jsOnly),
    () => measure(messages, seconds, (m) => pipeline.convert(m.bytes)),
  );
  const { ratio, each } = roundRatios(results, (x) => x);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const real = mean(results.map((r) => r.real));
  const base = mean(results.map((r) => r.base));
  return [
    {
      case: `${NAME}, ${messages.length} corpus messages`,
      figure: `${fmtInt(real)} messages/s`,
      baseline: `${fmtInt(base)} messages/s (xml2js parse only)`,
      ratio: fmtRatio(ratio),
      goal: GOAL,
      verdict: ratio >= 0.5 ? 'pass' : 'FAIL',
      note: `${pipeline.note} ${rounds} alternating rounds of ${seconds} s, ratio the median of ${each.map((x) => x.toFixed(2)).join(', ')}.`,
    },
  ];
}
