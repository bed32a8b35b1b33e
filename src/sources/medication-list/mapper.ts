// Medication list items -> IPS MedicationStatement + Medication (pure). The PLL item id and the
// prescription id stay as identifiers; the medication carries its ATC code as `http://www.whocc.no/atc`
// whatever spelling SFM used. A statement with a guardian-access reservation is labelled restricted
// (meta.security R) so the access rules can keep it from a guardian.
import type { CodeableConcept, Coding, Identifier, Medication, MedicationStatement, Resource } from '@medplum/fhirtypes';
import { canonicalSystem, CODE_SYSTEM } from '../../fhir/identifiers.ts';
import { IPS_PROFILE, TERMINOLOGY, unknownDate, type PrimitiveExtensions } from '../ips.ts';
import { concept } from '../concepts.ts';
import { localId, patientReference, sourceMeta, type PatientKey } from '../source.ts';
import type { MedicationListItem, SfmIdentifier, SfmMedicationStatement } from './types.ts';

/** Statement states that belong in a summary of current medication. */
const CURRENT = new Set(['active', 'intended', 'on-hold', 'unknown']);

export const RESTRICTED_LABEL: Coding = { system: TERMINOLOGY.confidentiality, code: 'R', display: 'restricted' };

export function isPllId(ident: SfmIdentifier): boolean {
  const label = `${ident.type?.text ?? ''} ${(ident.type?.coding ?? []).map((c) => c.code ?? '').join(' ')}`;
  return /\bPLL\b/i.test(label);
}

export function mapMedicationList(items: readonly MedicationListItem[], patient: PatientKey): Resource[] {
  const out: Resource[] = [];
  items.forEach((item, index) => {
    if (!CURRENT.has(item.statement.status)) return;
    out.push(...mapItem(item, index, patient));
  });
  return out;
}

function mapItem(item: MedicationListItem, index: number, patient: PatientKey): Resource[] {
  const st = item.statement;
  const key = st.identifier?.find(isPllId)?.value ?? st.identifier?.find((i) => i.value)?.value ?? st.id ?? String(index);
  const statementId = localId(patient, 'pll', key);
  const code = medicationCode(item);
  const name = code.text ?? code.coding?.[0]?.display ?? 'legemiddel';
  const out: Resource[] = [];
  let medicationRef: Pick<MedicationStatement, 'medicationReference' | 'medicationCodeableConcept'>;
  if (item.medication) {
    const medicationId = localId(patient, 'pll-medication', key);
    const medication: Medication = {
      resourceType: 'Medication',
      id: medicationId,
      meta: sourceMeta('medication-list', IPS_PROFILE.medication),
      code,
      ...(item.medication.form && concept(item.medication.form).coding ? { form: concept(item.medication.form) } : {}),
    };
    out.push(medication);
    medicationRef = { medicationReference: { reference: `Medication/${medicationId}`, display: name } };
  } else {
    medicationRef = { medicationCodeableConcept: code };
  }
  const ids = identifiers(st);
  const meta = sourceMeta('medication-list', IPS_PROFILE.medicationStatement);
  if (hasGuardianReservation(st)) meta.security = [RESTRICTED_LABEL];
  const statement: MedicationStatement = {
    resourceType: 'MedicationStatement',
    id: statementId,
    meta,
    ...(ids.length ? { identifier: ids } : {}),
    status: st.status as MedicationStatement['status'],
    ...medicationRef,
    subject: patientReference(patient),
    ...effective(st),
    ...(st.dateAsserted ? { dateAsserted: st.dateAsserted } : {}),
    ...(st.reasonCode?.length ? { reasonCode: st.reasonCode.map(concept).filter((c) => c.coding || c.text) } : {}),
    ...(st.dosage?.some((d) => d.text) ? { dosage: st.dosage.filter((d) => d.text).map((d) => ({ text: d.text })) } : {}),
    ...(st.note?.length ? { note: st.note.map((n) => ({ text: n.text })) } : {}),
  };
  out.unshift(statement);
  return out;
}

function medicationCode(item: MedicationListItem): CodeableConcept {
  const base = concept(item.medication?.code ?? item.statement.medicationCodeableConcept ?? {});
  // ATC first: it is the coding a foreign reader can use.
  const coding = [...(base.coding ?? [])].sort((a, b) => Number(b.system === CODE_SYSTEM.atc) - Number(a.system === CODE_SYSTEM.atc));
  return { ...base, ...(coding.length ? { coding } : {}) };
}

function identifiers(st: SfmMedicationStatement): Identifier[] {
  return (st.identifier ?? [])
    .filter((i) => i.value)
    .map((i) => ({
      ...(i.type?.text || i.type?.coding ? { type: { ...(i.type.text ? { text: i.type.text } : {}), ...(i.type.coding ? { coding: i.type.coding.map((c) => ({ ...c, ...(c.system ? { system: canonicalSystem(c.system) } : {}) })) } : {}) } } : {}),
      ...(i.system ? { system: i.system } : {}),
      value: i.value,
    }));
}

function effective(st: SfmMedicationStatement): Pick<MedicationStatement, 'effectiveDateTime' | 'effectivePeriod'> & PrimitiveExtensions<'_effectiveDateTime'> {
  if (st.effectivePeriod?.start) return { effectivePeriod: st.effectivePeriod };
  if (st.effectiveDateTime) return { effectiveDateTime: st.effectiveDateTime };
  return { _effectiveDateTime: unknownDate() };
}

function hasGuardianReservation(st: SfmMedicationStatement): boolean {
  return (st.extension ?? []).some((e) => /guardiantransparencyreservation$/i.test(e.url) && e.valueBoolean === true);
}
