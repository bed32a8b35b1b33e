// SFM $getMedication answer -> the medication list's items (pure). Only heads of renewal chains are
// list items; the statements they replaced are history (SFM marks them completed with part-of).
import type { z } from 'zod';
import { compileShape, describeProblem as describe } from '../check-shape.ts';
import { MalformedSourceError } from '../source.ts';
import { sfmBundle, sfmMedication, sfmMedicationStatement, sfmParameters, type MedicationListItem, type SfmMedication } from './types.ts';

const checkParameters = compileShape(sfmParameters);
const checkBundle = compileShape(sfmBundle);
const checkMedication = compileShape(sfmMedication);
const checkStatement = compileShape(sfmMedicationStatement);

export function medicationBundleOf(raw: unknown): unknown {
  const params = checkParameters(raw);
  if (params.success) {
    const medication = params.data.parameter?.find((p) => p.name === 'medication');
    if (!medication?.resource) throw new MalformedSourceError('medication list: Parameters without a medication Bundle');
    return medication.resource;
  }
  // Some servers answer a single-resource operation with the resource itself.
  return raw;
}

export function parseMedicationList(raw: unknown): MedicationListItem[] {
  const bundle = checkBundle(medicationBundleOf(raw));
  if (!bundle.success) throw new MalformedSourceError(`medication list: not a document Bundle (${describe(bundle.error)})`);
  const medications = new Map<string, SfmMedication>();
  const statements: Array<z.infer<typeof sfmMedicationStatement>> = [];
  for (const [i, entry] of (bundle.data.entry ?? []).entries()) {
    const type = entry.resource.resourceType;
    if (type === 'Medication') {
      const med = checkMedication(entry.resource);
      if (!med.success) throw new MalformedSourceError(`medication list entry ${i} (Medication): ${describe(med.error)}`);
      for (const key of keysOf(entry.fullUrl, med.data.id, 'Medication')) medications.set(key, med.data);
    } else if (type === 'MedicationStatement') {
      const st = checkStatement(entry.resource);
      if (!st.success) throw new MalformedSourceError(`medication list entry ${i} (MedicationStatement): ${describe(st.error)}`);
      statements.push(st.data);
    }
    // The Composition and anything else (BandaPrescriptions, Practitioners ...) are not list content.
  }
  const items: MedicationListItem[] = [];
  for (const statement of statements) {
    if (statement.partOf?.length) continue;
    const ref = statement.medicationReference?.reference;
    const medication = ref ? medications.get(ref) : undefined;
    if (ref && !medication) throw new MalformedSourceError('medication list: a statement names a medication the Bundle does not hold');
    if (!medication && !statement.medicationCodeableConcept) throw new MalformedSourceError('medication list: a statement names no medication');
    items.push({ statement, ...(medication ? { medication } : {}) });
  }
  return items;
}

function keysOf(fullUrl: string | undefined, id: string | undefined, type: string): string[] {
  const keys: string[] = [];
  if (fullUrl) keys.push(fullUrl);
  if (id) keys.push(`${type}/${id}`, `#${id}`);
  return keys;
}
