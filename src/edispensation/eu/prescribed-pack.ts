// How an EU prescription counts what may be dispensed on it, read from the stored prescription: in packs
// (with what one prescribed pack holds, so that other pack sizes are counted by content) or in an amount
// (21 vials, 300 ml). The eHDSI CDA nests the pack up to three containers deep (3 ml in a pen, 5 pens in a
// box); the stored MedicationRequest keeps only the innermost quantity, so the content of the outer pack is
// read from the CDA as received. Pure.
import type { Medication } from '@medplum/fhirtypes';
import type { XmlElement } from '../../xml/element.ts';
import { parseXml } from '../../xml/parse.ts';
import { medicationRequestOf, type PrescriptionRow } from '../store/prescriptions.ts';
import { isPackUnit } from '../prescription-facts.ts';
import { medicationPackContent, toAmount, type Amount, type EuDispenseInput } from './dispense-rules.ts';

const V3 = 'urn:hl7-org:v3';
const PHARM = 'urn:hl7-org:pharm';

/** The prescribed product: the Medication the stored MedicationRequest references. */
export function prescribedMedication(row: PrescriptionRow | undefined): Medication | undefined {
  const request = medicationRequestOf(row?.fhir);
  const ref = request?.medicationReference?.reference;
  return request?.contained?.find((r): r is Medication => r.resourceType === 'Medication' && `#${r.id}` === ref);
}

export function prescribedCounting(row: PrescriptionRow): EuDispenseInput['counting'] {
  if (row.quantityPrescribed === undefined) return undefined;
  const unit = row.quantityUnit ?? 'pakning';
  if (!isPackUnit(unit)) return { kind: 'amount', unit };
  const content = (row.cdaXml ? cdaPackContent(row.cdaXml) : undefined) ?? medicationPackContent(prescribedMedication(row));
  return content ? { kind: 'packs', packContent: content } : { kind: 'packs' };
}

/** The content of the outermost prescribed pack: innermost quantity times the counts of the containers around it. */
export function cdaPackContent(xml: string): Amount | undefined {
  const doc = parseXml(xml);
  if (!doc.ok) return undefined;
  const material = find(doc.value.root, V3, 'manufacturedMaterial', 0);
  let level = material?.child(PHARM, 'asContent');
  let total: Amount | undefined;
  for (let depth = 0; level && depth < 3; depth++) {
    const q = level.child(PHARM, 'quantity');
    const value = Number(q?.attr('value'));
    if (!q || !Number.isFinite(value) || value <= 0) return undefined;
    const unit = q.attr('unit') ?? '1';
    if (!total) {
      const original = q.child(V3, 'translation')?.child(V3, 'originalText')?.text;
      total = toAmount(value, unit === '1' && original ? original : unit, unit);
      if (!total) return undefined;
    } else if (unit === '1') {
      total = { value: Math.round(total.value * value * 1e6) / 1e6, unit: total.unit };
    } else return undefined;
    level = level.child(PHARM, 'containerPackagedProduct')?.child(PHARM, 'asContent');
  }
  return total;
}

function find(el: XmlElement, ns: string, name: string, depth: number): XmlElement | undefined {
  if (depth > 30) return undefined;
  if (el.ns === ns && el.name === name) return el;
  for (const c of el.children) {
    const hit = find(c, ns, name, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}
