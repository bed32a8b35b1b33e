// Full-profile validation of MPD Bundles with @medplum/core against the StructureDefinitions in
// profiles/mpd (with their snapshots), on top of the pipeline's own checks (validate-fhir.ts).
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { loadMpdProfile } from '../../../src/eprescription/validate-fhir.ts';
import { loadBaseDefinitions } from '../../../src/fhir/base-validation.ts';

let profiles: Map<string, StructureDefinition> | undefined;

function mpdProfiles(): Map<string, StructureDefinition> {
  if (profiles) return profiles;
  loadBaseDefinitions();
  profiles = new Map(
    (['MedicationRequest', 'Medication'] as const).map((n) => {
      const sd = withoutComplexExtensionSlices(loadMpdProfile(n));
      return [sd.url!, sd];
    }),
  );
  return profiles;
}

/**
 * @medplum/core applies the child slices of a complex extension slice (Medication-eu-mpd's `device`, whose
 * sub-extensions `device` and `quantity` are 1..1) to every extension of the resource, so any other
 * extension fails with "slice 'device': expected 1..1". Helsebro never sends the device extension; the
 * slice is taken out of the copy the validator sees, and everything else is validated as published.
 */
function withoutComplexExtensionSlices(sd: StructureDefinition): StructureDefinition {
  const complex = (sd.snapshot?.element ?? [])
    .filter((e) => /^[A-Za-z]+\.extension:[^.]+\.extension:/.test(e.id ?? ''))
    .map((e) => e.id!.split('.extension:')[1]!.split('.')[0]!);
  const drop = new Set(complex.map((name) => `${sd.type}.extension:${name}`));
  const keep = (id: string | undefined): boolean => ![...drop].some((d) => id === d || id?.startsWith(`${d}.`));
  return { ...sd, snapshot: { element: (sd.snapshot?.element ?? []).filter((e) => keep(e.id)) } };
}

/** Errors of every Bundle entry that claims an MPD profile, validated against that profile. */
export function profileErrors(bundle: Bundle): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    for (const url of r?.meta?.profile ?? []) {
      const sd = mpdProfiles().get(url);
      if (!r || !sd) continue;
      try {
        out.push(...validateResource(r, { profile: sd }).filter((i) => i.severity === 'error'));
      } catch (err) {
        if (err instanceof OperationOutcomeError) out.push(...(err.outcome.issue ?? []));
        else throw err;
      }
    }
  }
  return out;
}
