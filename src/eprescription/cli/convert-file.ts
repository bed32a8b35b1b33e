// One file through the pipeline for the convert-m1 command: read, convert, name the outputs (never for a
// refused or a group A/B prescription), and report the outcome in a few numbers and codes. Shared by the
// main thread and the worker threads; the outputs are written by one thread only (write-outputs.ts).
// Synchronous file calls: the command's threads do nothing else while a file is read or written, and each
// asynchronous call would cost two thread hand-offs (to libuv's pool and back) per file system call.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { fail, toOperationOutcome } from '../../fhir/outcomes.ts';
import { messageProblem } from '../../xml/errors.ts';
import { personaPopulationRegistry } from '../../demo/population.ts';
import { demoHprRegistry, hprRegistryFromTable } from '../../registries/hpr.ts';
import type { PopulationRegistry } from '../../registries/population.ts';
import { memoryDrugRegistry, readFestRecords } from '../fest-memory.ts';
import { assertExportableGroup } from '../guard.ts';
import { convertM1, type PipelineDeps } from '../pipeline.ts';
import { exportReasonIssues, type ReasonLanguage } from '../rules.ts';
import type { OutputFile } from './write-outputs.ts';

export type OutputFormat = 'fhir' | 'cda' | 'both';

export interface ConvertSettings {
  mode: 'demo' | 'production';
  helsebroOid: string;
  operator: { name: string; orgnr?: string | undefined };
  festPath: string;
  format: OutputFormat;
  /** Output folder; undefined: no files are written. */
  out?: string | undefined;
  /** The day the export rules judge on (ISO date); undefined: today. */
  date?: string | undefined;
  maxBytes: number;
  /** The language of refusal reasons in NAME.outcome.json. */
  lang: ReasonLanguage;
}

export interface FileJob {
  path: string;
  /** Path below the input root, for the output's name. */
  rel: string;
}

export interface FileResult {
  path: string;
  outcome: 'converted' | 'refused' | 'failed';
  /** Rule codes (refused) or error codes (failed). */
  codes: string[];
  message?: string;
  /** The conversion's warnings by kind (the registry code, else the issue type), for the summary. */
  warnings: string[];
  /** The output text, when asked for (a single file printed to stdout). */
  output?: string;
  /** What to write into the --out folder (writeOutputs). */
  files: OutputFile[];
}

// No population register without a store (production mode): the patient is described from the message, and
// with no one to ask about address protection every address is withheld (enrich.ts, fail closed).
const noPopulation: PopulationRegistry = { byPersonNumber: async () => undefined };

export async function pipelineFor(settings: ConvertSettings): Promise<PipelineDeps> {
  const records = await readFestRecords(settings.festPath);
  return {
    registries: {
      drugs: memoryDrugRegistry(records),
      prescribers: settings.mode === 'demo' ? demoHprRegistry() : hprRegistryFromTable([]),
      // Demo mode has the personas, as the demo server does, so both state the same patient.
      population: settings.mode === 'demo' ? personaPopulationRegistry() : noPopulation,
    },
    helsebroOid: settings.helsebroOid,
    operator: settings.operator,
  };
}

const outputPath = (settings: ConvertSettings, rel: string, suffix: string): string => join(settings.out!, `${rel.replace(/\.xml$/i, '')}${suffix}`);

/** A warning's kind: its stable code (FEST-UNKNOWN-PRODUCT, unmapped-code ...) when it has one. */
export const warningKind = (i: OperationOutcomeIssue): string => i.details?.coding?.[0]?.code ?? i.code;

const errorCodes = (oo: OperationOutcome): string[] => {
  const codes = oo.issue.flatMap((i) => i.details?.coding?.map((c) => c.code ?? '') ?? []).filter(Boolean);
  return codes.length ? [...new Set(codes)] : [...new Set(oo.issue.map((i) => i.code))];
};

export async function convertFile(job: FileJob, deps: PipelineDeps, settings: ConvertSettings, keepOutput = false): Promise<FileResult> {
  const files: OutputFile[] = [];
  const output = (path: string, data: string): void => void files.push({ path, data });
  try {
    const size = statSync(job.path).size;
    const now = settings.date ? new Date(`${settings.date}T12:00:00+01:00`) : new Date();
    // A file over the limit is refused unread, with the outcome the parser would have given it (and its file
    // beside the others'), so a run's failures all read the same way.
    const r =
      size > settings.maxBytes
        ? fail(messageProblem(413, 'too-costly', 'xml-too-large', `Document is ${size} bytes; the limit is ${settings.maxBytes} bytes`))
        : // CDA output is both levels: Level 3 and Level 1 (its PDF in English and bokmål, whatever --lang says).
          await convertM1(readFileSync(job.path), deps, { now, parse: { maxBytes: settings.maxBytes }, ...(settings.format !== 'fhir' ? { level1: true } : {}) });
    if (!r.ok) {
      const oo = toOperationOutcome(r.problem);
      if (settings.out) output(outputPath(settings, job.rel, '.outcome.json'), `${JSON.stringify(oo, null, 2)}\n`);
      return { path: job.path, outcome: 'failed', codes: errorCodes(oo), warnings: [], message: r.problem.issues[0]?.diagnostics ?? 'failed', files };
    }
    const c = r.value;
    if (!c.exportable) {
      const oo: OperationOutcome = { resourceType: 'OperationOutcome', issue: exportReasonIssues(c.decision, settings.lang) };
      if (settings.out) output(outputPath(settings, job.rel, '.outcome.json'), `${JSON.stringify(oo, null, 2)}\n`);
      return { path: job.path, outcome: 'refused', codes: c.decision.reasons.map((x) => x.code), warnings: [], files };
    }
    // The last gate before anything leaves: never a group A or B prescription.
    assertExportableGroup([...c.groups, c.enrichment.product?.prescriptionGroup], 'the convert-m1 output');
    const fhir = `${JSON.stringify(c.bundle, null, 2)}\n`;
    if (settings.out) {
      if (settings.format !== 'cda') output(outputPath(settings, job.rel, '.fhir.json'), fhir);
      if (settings.format !== 'fhir') {
        output(outputPath(settings, job.rel, '.cda.xml'), c.cda);
        if (c.cdaL1) output(outputPath(settings, job.rel, '.cda-l1.xml'), c.cdaL1);
      }
      // Beside the outputs, what the reader of them should know: a product FEST lacks, an unmapped code ...
      const sidecar: OperationOutcome = { resourceType: 'OperationOutcome', issue: c.warnings.length ? c.warnings : [{ severity: 'information', code: 'informational', diagnostics: 'No warnings' }] };
      output(outputPath(settings, job.rel, '.warnings.json'), `${JSON.stringify(sidecar, null, 2)}\n`);
    }
    const result: FileResult = { path: job.path, outcome: 'converted', codes: [], warnings: c.warnings.map(warningKind), files };
    if (keepOutput) result.output = settings.format === 'cda' ? c.cda : settings.format === 'both' ? `${fhir}${c.cda}` : fhir;
    return result;
  } catch (err) {
    return { path: job.path, outcome: 'failed', codes: ['exception'], warnings: [], message: err instanceof Error ? err.message : String(err), files: [] };
  }
}
