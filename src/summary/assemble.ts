// The IPS 2.0 document (pure): Bundle type document with identifier and timestamp, the Composition
// first, every resource under a urn:uuid fullUrl and every reference rewritten to one, sections from the
// registry with entries or an emptyReason:
//   a source failed, timed out or answered garbage -> unavailable (+ a warning naming the source)
//   the patient's settings or an access rule kept it -> withheld
//   the sources answered with nothing              -> unavailable, "No information available"
// Never nilknown: that no source recorded an allergy does not mean the patient has none.
import { randomUUID } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Composition,
  CompositionSection,
  Device,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import { CODE_SYSTEM, HELSEBRO_NS, OID } from '../fhir/identifiers.ts';
import { issue } from '../fhir/outcomes.ts';
import { documentPatientId, isUuid } from '../fhir/resource-id.ts';
import { IPS_PROFILE, TERMINOLOGY, unknownDate } from '../sources/ips.ts';
import { SOURCE_LABEL, type Lang, type SourceName } from '../sources/source.ts';
import type { SourceResult } from './fetch-all.ts';
import { compositionNarrative, sectionNarrative, withheldReasonText } from './narrative.ts';
import { applyWithheld, cleanStrings, collectResources, setOwn, type WithheldDecision } from './resources.ts';
import { SECTIONS, type SectionDef } from './sections.ts';

export interface AssembleInput {
  /** The patient as Helsebro knows it (population registry / demo). */
  patient: Patient & { id: string };
  sourceResults: readonly SourceResult[];
  withheld?: WithheldDecision;
  lang: Lang;
  now: Date;
  operator: { name: string; orgnr: string };
  /** UUID source; tests pass a deterministic one. */
  newId?: () => string;
  softwareVersion?: string;
}

export interface AssembledSummary {
  bundle: Bundle;
  /** Issues for the response's OperationOutcome: a warning per source that could not be read. */
  warnings: OperationOutcomeIssue[];
}

export const SUMMARY_ISSUE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/summary-issue`;

const TITLE: Record<Lang, string> = { nb: 'Pasientsammendrag', en: 'International Patient Summary' };
const NO_INFO: Record<Lang, string> = { nb: 'Ingen opplysninger tilgjengelig', en: 'No information available' };
const UNAVAILABLE: Record<Lang, string> = { nb: 'Kilde ikke tilgjengelig', en: 'Source unavailable' };
const WITHHELD: Record<Lang, string> = { nb: 'Holdt tilbake', en: 'Withheld' };
const NOT_ASKED: Record<Lang, string> = { nb: 'Ingen kilde ble spurt', en: 'No source was asked' };

const isFailure = (r: SourceResult): boolean => r.status === 'failed' || r.status === 'timeout' || r.status === 'malformed';

export function assembleSummary(input: AssembleInput): AssembledSummary {
  const { lang } = input;
  const newId = input.newId ?? randomUUID;
  const now = input.now.toISOString();
  const results = applyWithheld(input.sourceResults, input.withheld);
  const resources = collectResources(results);
  const byKey = new Map<string, Resource>(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
  const resolve = (ref: string | undefined): Resource | undefined => (ref ? byKey.get(ref) : undefined);

  const urn = new Map<string, string>();
  const urnOf = (r: Resource): string => {
    const key = `${r.resourceType}/${r.id}`;
    let u = urn.get(key);
    if (!u) {
      // Mapped resources carry derived UUIDs (stable per patient and record): keep them as the fullUrl.
      u = isUuid(r.id) ? r.id : newId();
      urn.set(key, u);
    }
    return u;
  };
  const patientKey = `Patient/${input.patient.id}`;
  const patientUuid = documentPatientId(input.patient.id);
  urn.set(patientKey, patientUuid);
  // Per patient, not per call and not shared: only the Composition and the Bundle are new in each document.
  const deviceUuid = documentPatientId(input.patient.id, 'author');
  const custodianUuid = documentPatientId(input.patient.id, 'custodian');

  // Sections and their entries.
  const sections: CompositionSection[] = [];
  const primary: Resource[] = [];
  const sectionIndex = new Map<SectionDef['key'], number>();
  for (const def of SECTIONS) {
    const sectionWithheld = input.withheld?.sections?.[def.key] ?? input.withheld?.sections?.[def.loinc];
    const states = def.sources.map((s) => results.find((r) => r.source === s)).filter((r): r is SourceResult => r !== undefined);
    const failed = states.filter(isFailure);
    const withheldStates = states.filter((r) => r.status === 'withheld');
    const entries =
      sectionWithheld !== undefined ? [] : def.sort(resources.filter((r) => (def.entryTypes as readonly string[]).includes(r.resourceType)));
    if (!def.required && !entries.length && !failed.length && !withheldStates.length && sectionWithheld === undefined) continue;
    const section: CompositionSection = {
      title: def.title[lang],
      code: { coding: [{ system: CODE_SYSTEM.loinc, code: def.loinc, display: def.loincDisplay }] },
      text: {
        status: 'generated',
        div: sectionNarrative(def, entries, { lang, sources: states, resolve, ...(sectionWithheld !== undefined ? { sectionWithheld } : {}) }),
      },
    };
    if (entries.length) {
      section.entry = entries.map((r) => ({ reference: `urn:uuid:${urnOf(r)}` }));
      primary.push(...entries);
    } else {
      section.emptyReason = emptyReason(lang, sectionWithheld, failed, withheldStates, states.length === 0);
    }
    sectionIndex.set(def.key, sections.length);
    sections.push(section);
  }

  // Resources the entries point at (Medication, Device) travel with them; nothing else does.
  const included: Resource[] = [...primary];
  const seen = new Set(included.map((r) => `${r.resourceType}/${r.id}`));
  for (let i = 0; i < included.length; i++) {
    for (const ref of referencesIn(included[i]!)) {
      const target = byKey.get(ref);
      if (target && !seen.has(ref)) {
        seen.add(ref);
        included.push(target);
      }
    }
  }

  const custodian: Organization = {
    resourceType: 'Organization',
    id: custodianUuid,
    meta: { profile: [IPS_PROFILE.organization] },
    identifier: [{ system: OID.orgnr, value: input.operator.orgnr }],
    name: input.operator.name,
  };
  const author: Device = {
    resourceType: 'Device',
    id: deviceUuid,
    deviceName: [{ name: 'Helsebro', type: 'manufacturer-name' }],
    type: { text: lang === 'nb' ? 'Programvare som setter sammen pasientsammendrag' : 'Software assembling patient summaries' },
    ...(input.softwareVersion ? { version: [{ value: input.softwareVersion }] } : {}),
    owner: { reference: `urn:uuid:${custodianUuid}`, display: input.operator.name },
  };
  const patient = documentPatient(input.patient, patientUuid);
  const patientName = nameOf(input.patient);
  // Every included resource gets its urn before any is rewritten: an entry (MedicationStatement) is
  // rewritten before the Medication it points at, and a reference without a urn would be dropped.
  for (const r of included) urnOf(r);
  const composition: Composition = {
    resourceType: 'Composition',
    id: newId(),
    meta: { profile: [IPS_PROFILE.composition] },
    language: lang,
    text: {
      status: 'generated',
      div: compositionNarrative({ title: TITLE[lang], patientName, ...(input.patient.birthDate ? { birthDate: input.patient.birthDate } : {}), date: now, lang }),
    },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${newId()}` },
    status: 'final',
    type: { coding: [{ system: CODE_SYSTEM.loinc, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: `urn:uuid:${patientUuid}`, display: patientName },
    date: now,
    author: [{ reference: `urn:uuid:${deviceUuid}`, display: 'Helsebro' }],
    title: TITLE[lang],
    confidentiality: 'N',
    custodian: { reference: `urn:uuid:${custodianUuid}`, display: input.operator.name },
    section: sections,
  };

  const entries: BundleEntry[] = [
    { fullUrl: `urn:uuid:${composition.id}`, resource: composition },
    { fullUrl: `urn:uuid:${patientUuid}`, resource: patient },
    ...included.map((r) => {
      const id = urnOf(r);
      // The resource is clean already (collectResources); only a dropped reference can leave an empty element.
      let dropped = false;
      const rewritten = rewriteReferences({ ...r, id }, urn, () => (dropped = true));
      return { fullUrl: `urn:uuid:${id}`, resource: dropped ? cleanStrings(rewritten) : rewritten };
    }),
    { fullUrl: `urn:uuid:${deviceUuid}`, resource: author },
    { fullUrl: `urn:uuid:${custodianUuid}`, resource: custodian },
  ];
  const bundleId = newId();
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: bundleId,
    meta: { profile: [IPS_PROFILE.bundle] },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${bundleId}` },
    type: 'document',
    timestamp: now,
    entry: entries,
  };
  return { bundle, warnings: warningsFor(results, sectionIndex) };
}

function emptyReason(lang: Lang, sectionWithheld: string | undefined, failed: SourceResult[], withheld: SourceResult[], noneAsked: boolean): CodeableConcept {
  const code = (c: 'unavailable' | 'withheld' | 'notasked', display: string, text: string): CodeableConcept => ({
    coding: [{ system: TERMINOLOGY.listEmptyReason, code: c, display }],
    text,
  });
  if (sectionWithheld !== undefined) return code('withheld', 'Information Withheld', `${WITHHELD[lang]}: ${withheldReasonText(sectionWithheld, lang)}`);
  if (failed.length) return code('unavailable', 'Unavailable', `${UNAVAILABLE[lang]}: ${failed.map((f) => SOURCE_LABEL[f.source][lang]).join(', ')}`);
  if (withheld.length) return code('withheld', 'Information Withheld', `${WITHHELD[lang]}: ${withheld.map((f) => SOURCE_LABEL[f.source][lang]).join(', ')}`);
  if (noneAsked) return code('notasked', 'Not Asked', NOT_ASKED[lang]);
  return code('unavailable', 'Unavailable', NO_INFO[lang]);
}

function warningsFor(results: readonly SourceResult[], sectionIndex: Map<SectionDef['key'], number>): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  for (const r of results) {
    if (r.status === 'ok') continue;
    const affected = SECTIONS.filter((s) => s.sources.includes(r.source) && sectionIndex.has(s.key));
    const where = affected.map((s) => `Bundle.entry[0].resource.section[${sectionIndex.get(s.key)}]`);
    const names = affected.map((s) => s.title.en).join(', ');
    const label = SOURCE_LABEL[r.source].en;
    if (r.status === 'withheld') {
      out.push(
        issue('suppressed', `${label}: content withheld (${withheldReasonText(r.reason, 'en')}); affected sections: ${names}`, {
          severity: 'information',
          expression: where,
          details: [{ system: SUMMARY_ISSUE_SYSTEM, code: 'source-withheld', display: `Source withheld: ${r.source}` }],
        }),
      );
      continue;
    }
    const what = r.status === 'timeout' ? 'did not answer in time' : r.status === 'malformed' ? 'answered with content that could not be read' : 'could not be reached';
    out.push(
      issue('incomplete', `${label} ${what}; its information is missing from: ${names}`, {
        severity: 'warning',
        expression: where,
        details: [{ system: SUMMARY_ISSUE_SYSTEM, code: `source-${r.status}`, display: `Source ${r.status}: ${r.source satisfies SourceName}` }],
      }),
    );
  }
  return out;
}

function documentPatient(p: Patient & { id: string }, uuid: string): Patient {
  const { meta: _meta, text: _text, ...rest } = p;
  const patient: Patient & { _birthDate?: unknown } = { ...rest, id: uuid, meta: { profile: [IPS_PROFILE.patient] } };
  // Patient-uv-ips requires a birth date; say it is unknown rather than leave it out.
  if (!patient.birthDate) patient._birthDate = unknownDate();
  return patient;
}

function nameOf(p: Patient): string {
  const n = p.name?.[0];
  if (!n) return '';
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/** Every `reference` string inside a resource. */
export function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

/**
 * The resource with every local reference (`Type/id`) replaced by the target's urn:uuid. A reference to
 * something not in the document is dropped, keeping its display and identifier: a document's references
 * must all resolve inside it. Copy on write: only the paths to a changed reference are new objects.
 */
export function rewriteReferences<T extends Resource>(resource: T, urn: ReadonlyMap<string, string>, onDrop?: () => void): T {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const w = walk(v);
        if (w !== v) (out ??= value.slice())[i] = w;
      }
      return out ?? value;
    }
    if (!value || typeof value !== 'object') return value;
    let out: Record<string, unknown> | undefined;
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      const v = (value as Record<string, unknown>)[k];
      let w: unknown = v;
      if (k === 'reference' && typeof v === 'string') {
        if (!v.startsWith('#') && !v.startsWith('urn:uuid:')) {
          const u = urn.get(v);
          w = u ? `urn:uuid:${u}` : undefined;
          if (!u) onDrop?.();
        }
      } else w = walk(v);
      if (w === v) continue;
      // A spread copies "__proto__" as an own data key, as JSON.parse made it.
      out ??= { ...value } as Record<string, unknown>;
      if (w === undefined) delete out[k];
      else setOwn(out, k, w);
    }
    return out ?? value;
  };
  return walk(resource) as T;
}

