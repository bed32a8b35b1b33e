// Kjernejournal critical information -> IPS resources (pure).
//   allergies and drug reactions        -> AllergyIntolerance (criticality and the KI certainty level kept)
//   critical conditions, anaesthesia
//   complications, infections           -> Condition (Problems) + Flag (Alerts) while active
//   transplants and foreign bodies      -> Condition (Problems)
//   "annen prosedyreendring" (KjFlag)   -> Flag (Alerts) while active
//   ongoing treatment (KjProcedure)     -> Procedure
//   implants (KjDeviceUseStatement)     -> DeviceUseStatement + Device
// Records entered in error are dropped everywhere; refuted conditions are not problems, but refuted
// allergies stay (with their status) because a removed allergy label is itself clinical information.
import type {
  AllergyIntolerance,
  AllergyIntoleranceReaction,
  Condition,
  Device,
  DeviceUseStatement,
  Extension,
  Flag,
  Identifier,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../../fhir/identifiers.ts';
import { concept } from '../concepts.ts';
import { IPS_PROFILE, KJ_TYPE_SYSTEM, problemListCategory, TERMINOLOGY, unknownDate, type PrimitiveExtensions } from '../ips.ts';
import { localId, patientReference, sourceMeta, type Lang, type PatientKey } from '../source.ts';
import {
  KJ_CONDITION_KIND,
  KJ_IMPLANTED_EXT_SUFFIX,
  KJ_PRESUMED_EXT,
  type KjAllergyIntolerance,
  type KjCodeableConcept,
  type KjCondition,
  type KjConditionKind,
  type KjDevice,
  type KjDeviceUseStatement,
  type KjFlag,
  type KjProcedure,
  type KjRecords,
} from './types.ts';

export const KJ_RECORD_ID_SYSTEM = `${HELSEBRO_NS}/NamingSystem/kjernejournal-record-id`;

/** The critical-information types, as Helsebro codes them on mapped resources (KJ_TYPE_SYSTEM). */
export const KJ_TYPE_LABEL = {
  DrugReaction: { nb: 'Legemiddelreaksjon', en: 'Drug reaction' },
  OtherAllergen: { nb: 'Annen allergi', en: 'Other allergy' },
  CriticalMedicalCondition: { nb: 'Kritisk medisinsk tilstand', en: 'Critical medical condition' },
  ComplicationsOfAnesthesia: { nb: 'Komplikasjon ved anestesi', en: 'Complication of anaesthesia' },
  Infection: { nb: 'Smitte', en: 'Infection' },
  TransplantsAndOtherForeignBodies: { nb: 'Transplantat eller annet fremmedlegeme', en: 'Transplant or other foreign body' },
  OngoingTreatment: { nb: 'Pågående behandling', en: 'Ongoing treatment' },
  Implant: { nb: 'Implantat', en: 'Implant' },
  OtherProcedureChange: { nb: 'Annen prosedyreendring', en: 'Other change of procedure' },
} as const satisfies Record<string, Record<Lang, string>>;
export type KjType = keyof typeof KJ_TYPE_LABEL;

const KIND_TYPE: Record<KjConditionKind, KjType | undefined> = {
  critical: 'CriticalMedicalCondition',
  anesthesia: 'ComplicationsOfAnesthesia',
  infection: 'Infection',
  transplant: 'TransplantsAndOtherForeignBodies',
  other: undefined,
};

/** Condition kinds that are also raised as alerts while active. */
const ALERTING_KINDS = new Set<KjConditionKind>(['critical', 'anesthesia', 'infection']);

/** Category codes of the KI standard (shared/domain/ips-norway.md §4.4), used when a record has no Kj profile. */
const CATEGORY_KIND: Record<string, KjConditionKind> = { '3': 'anesthesia', '4': 'anesthesia', '5': 'critical', '7': 'transplant', '10': 'infection' };

export const kjTypeCoding = (type: KjType): { system: string; code: string; display: string } => ({
  system: KJ_TYPE_SYSTEM,
  code: type,
  display: KJ_TYPE_LABEL[type].en,
});

export function mapKjernejournal(records: Omit<KjRecords, 'status'>, patient: PatientKey): Resource[] {
  const out: Resource[] = [];
  for (const a of records.allergies) {
    const mapped = mapAllergy(a, patient);
    if (mapped) out.push(mapped);
  }
  for (const c of records.conditions) out.push(...mapCondition(c, patient));
  for (const p of records.procedures) {
    const mapped = mapProcedure(p, patient);
    if (mapped) out.push(mapped);
  }
  for (const d of records.devices) out.push(...mapDevice(d, patient));
  for (const f of records.flags) {
    const mapped = mapFlag(f, patient);
    if (mapped) out.push(mapped);
  }
  return out;
}

export function mapAllergy(a: KjAllergyIntolerance, patient: PatientKey): AllergyIntolerance | undefined {
  const verification = statusCode(a.verificationStatus);
  if (verification === 'entered-in-error') return undefined;
  const presumed = a.extension?.some((e) => e.url === KJ_PRESUMED_EXT && e.valueBoolean === true) ?? false;
  const clinical = statusCode(a.clinicalStatus) ?? (verification === 'refuted' ? 'inactive' : 'active');
  const extension: Extension[] = presumed ? [{ url: KJ_PRESUMED_EXT, valueBoolean: true }] : [];
  const out: AllergyIntolerance = {
    resourceType: 'AllergyIntolerance',
    id: localId(patient, 'kj-allergy', a.id),
    meta: sourceMeta('kjernejournal', IPS_PROFILE.allergyIntolerance),
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(a.id, a.meta?.versionId)],
    clinicalStatus: { coding: [{ system: TERMINOLOGY.allergyClinical, code: clinical }] },
    ...(verification ? { verificationStatus: { coding: [{ system: TERMINOLOGY.allergyVerification, code: verification }] } } : {}),
    ...(a.type ? { type: a.type } : {}),
    ...(a.category?.length ? { category: a.category } : {}),
    ...(a.criticality ? { criticality: a.criticality } : {}),
    code: concept(a.code),
    patient: patientReference(patient),
    ...(a.onsetDateTime ? { onsetDateTime: a.onsetDateTime } : {}),
    ...(a.recordedDate ? { recordedDate: a.recordedDate } : {}),
    ...(a.lastOccurrence ? { lastOccurrence: a.lastOccurrence } : {}),
    ...(a.reaction?.length ? { reaction: a.reaction.map(reaction) } : {}),
    ...(a.note?.length ? { note: a.note.map((n) => ({ text: n.text })) } : {}),
  };
  return out;
}

function reaction(r: NonNullable<KjAllergyIntolerance['reaction']>[number]): AllergyIntoleranceReaction {
  return {
    ...(r.substance ? { substance: concept(r.substance) } : {}),
    manifestation: r.manifestation.map(concept),
    ...(r.description ? { description: r.description } : {}),
    ...(r.onset ? { onset: r.onset } : {}),
    ...(r.severity ? { severity: r.severity } : {}),
  };
}

export function conditionKind(c: KjCondition): KjConditionKind {
  for (const profile of c.meta?.profile ?? []) {
    const bare = profile.split('|')[0];
    for (const [kind, url] of Object.entries(KJ_CONDITION_KIND)) if (bare === url) return kind as KjConditionKind;
  }
  for (const cat of c.category ?? []) {
    for (const coding of cat.coding ?? []) {
      const kind = coding.code !== undefined ? CATEGORY_KIND[coding.code] : undefined;
      if (kind) return kind;
    }
  }
  return 'other';
}

export function mapCondition(c: KjCondition, patient: PatientKey): Resource[] {
  const verification = statusCode(c.verificationStatus);
  if (verification === 'entered-in-error' || verification === 'refuted') return [];
  const clinical = statusCode(c.clinicalStatus) ?? 'active';
  const kind = conditionKind(c);
  const type = KIND_TYPE[kind];
  const code = concept(c.code);
  const condition: Condition = {
    resourceType: 'Condition',
    id: localId(patient, 'kj-condition', c.id),
    meta: sourceMeta('kjernejournal', IPS_PROFILE.condition),
    identifier: [recordIdentifier(c.id, c.meta?.versionId)],
    clinicalStatus: { coding: [{ system: TERMINOLOGY.conditionClinical, code: clinical }] },
    ...(verification ? { verificationStatus: { coding: [{ system: TERMINOLOGY.conditionVerification, code: verification }] } } : {}),
    category: [problemListCategory(), ...(type ? [{ coding: [kjTypeCoding(type)] }] : [])],
    code,
    subject: patientReference(patient),
    ...(c.onsetDateTime ? { onsetDateTime: c.onsetDateTime } : {}),
    ...(c.abatementDateTime ? { abatementDateTime: c.abatementDateTime } : {}),
    ...(c.recordedDate ? { recordedDate: c.recordedDate } : {}),
    ...(c.note?.length ? { note: c.note.map((n) => ({ text: n.text })) } : {}),
  };
  const out: Resource[] = [condition];
  if (type && ALERTING_KINDS.has(kind) && clinical === 'active') {
    const flag: Flag = {
      resourceType: 'Flag',
      id: localId(patient, 'kj-alert', c.id),
      meta: sourceMeta('kjernejournal', IPS_PROFILE.flag),
      identifier: [recordIdentifier(c.id, c.meta?.versionId)],
      status: 'active',
      category: [{ coding: [{ system: TERMINOLOGY.flagCategory, code: 'clinical', display: 'Clinical' }] }, { coding: [kjTypeCoding(type)] }],
      code,
      subject: patientReference(patient),
      ...(c.onsetDateTime ? { period: { start: c.onsetDateTime } } : {}),
    };
    out.push(flag);
  }
  return out;
}

export function mapProcedure(p: KjProcedure, patient: PatientKey): Procedure | undefined {
  if (p.status === 'entered-in-error') return undefined;
  const performed: Pick<Procedure, 'performedDateTime' | 'performedPeriod'> & PrimitiveExtensions<'_performedDateTime'> = p.performedPeriod?.start
    ? { performedPeriod: p.performedPeriod }
    : p.performedDateTime
      ? { performedDateTime: p.performedDateTime }
      : { _performedDateTime: unknownDate() };
  return {
    resourceType: 'Procedure',
    id: localId(patient, 'kj-procedure', p.id),
    meta: sourceMeta('kjernejournal', IPS_PROFILE.procedure),
    identifier: [recordIdentifier(p.id, p.meta?.versionId)],
    status: p.status,
    category: { coding: [kjTypeCoding('OngoingTreatment')] },
    code: concept(p.code),
    subject: patientReference(patient),
    ...performed,
    ...(p.note?.length ? { note: p.note.map((n) => ({ text: n.text })) } : {}),
  };
}

export function mapDevice(d: KjDeviceUseStatement, patient: PatientKey): Resource[] {
  if (d.status === 'entered-in-error') return [];
  const contained = findContainedDevice(d);
  const deviceId = localId(patient, 'kj-device', d.id);
  const name = contained?.deviceName?.[0]?.name ?? contained?.type?.text ?? d.device.display;
  const device: Device = {
    resourceType: 'Device',
    id: deviceId,
    meta: sourceMeta('kjernejournal', IPS_PROFILE.device),
    ...(contained?.type ? { type: concept(contained.type) } : name ? { type: { text: name } } : {}),
    ...(name ? { deviceName: [{ name, type: 'user-friendly-name' as const }] } : {}),
    ...(contained?.manufacturer ? { manufacturer: contained.manufacturer } : {}),
    ...(contained?.modelNumber ? { modelNumber: contained.modelNumber } : {}),
    patient: patientReference(patient),
  };
  const implanted = d.extension?.find((e) => e.url.endsWith(KJ_IMPLANTED_EXT_SUFFIX) && typeof e.valueDateTime === 'string')
    ?.valueDateTime as string | undefined;
  const timing: Pick<DeviceUseStatement, 'timingDateTime' | 'timingPeriod'> & PrimitiveExtensions<'_timingDateTime'> = implanted
    ? { timingDateTime: implanted }
    : d.timingDateTime
      ? { timingDateTime: d.timingDateTime }
      : d.timingPeriod?.start
        ? { timingPeriod: d.timingPeriod }
        : { _timingDateTime: unknownDate() };
  const statement: DeviceUseStatement = {
    resourceType: 'DeviceUseStatement',
    id: localId(patient, 'kj-implant', d.id),
    meta: sourceMeta('kjernejournal', IPS_PROFILE.deviceUseStatement),
    identifier: [recordIdentifier(d.id, d.meta?.versionId)],
    status: d.status,
    subject: patientReference(patient),
    ...timing,
    device: { reference: `Device/${deviceId}`, ...(name ? { display: name } : {}) },
    ...(d.bodySite ? { bodySite: concept(d.bodySite) } : {}),
    ...(d.note?.length ? { note: d.note.map((n) => ({ text: n.text })) } : {}),
  };
  return [statement, device];
}

function findContainedDevice(d: KjDeviceUseStatement): KjDevice | undefined {
  const ref = d.device.reference;
  if (!ref?.startsWith('#')) return undefined;
  const found = d.contained?.find((r) => r.resourceType === 'Device' && r.id === ref.slice(1));
  return found as KjDevice | undefined;
}

export function mapFlag(f: KjFlag, patient: PatientKey): Flag | undefined {
  // IPS alerts are active by definition (Flag-alert-uv-ips fixes status); an inactive KjFlag was refuted.
  if (f.status !== 'active') return undefined;
  return {
    resourceType: 'Flag',
    id: localId(patient, 'kj-flag', f.id),
    meta: sourceMeta('kjernejournal', IPS_PROFILE.flag),
    identifier: [recordIdentifier(f.id, f.meta?.versionId)],
    status: 'active',
    category: [{ coding: [{ system: TERMINOLOGY.flagCategory, code: 'clinical', display: 'Clinical' }] }, { coding: [kjTypeCoding('OtherProcedureChange')] }],
    code: concept(f.code),
    subject: patientReference(patient),
    ...(f.period ? { period: f.period } : {}),
  };
}

function recordIdentifier(id: string, version: string | undefined): Identifier {
  return { system: KJ_RECORD_ID_SYSTEM, value: version ? `${id}/_history/${version}` : id };
}

function statusCode(cc: KjCodeableConcept | undefined): string | undefined {
  return cc?.coding?.find((c) => c.code)?.code;
}
