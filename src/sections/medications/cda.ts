// Medicines in the eHDSI PS CDA: a medication statement (substanceAdministration, template 3.4) whose
// product (3.31/3.32) carries the name, the EDQM dose form (eHDSIDoseForm, through Helsebro's Volven 7448
// map) and the ATC classification (eHDSIActiveIngredient). The dosage is text in the narrative row the
// entry references: the medication list states it as text, and a structure would claim more than it says.
import type { CodeableConcept, Coding, MedicationStatement } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../fhir/identifiers.ts';
import { CONCEPT_MAP, translate } from '../../terminology/index.ts';
import { el, textEl, type XmlNode } from '../../xml/write.ts';
import { CDA_OID, codedElement, EHDSI_VS, interval, templateIds, textRef, type SectionCda } from '../cda.ts';

const VOLVEN_7448 = CODE_SYSTEM.volven(7448);

function statement(id: { root: string; extension: string }, textId: string, status: string, start: string | undefined, end: string | undefined, material: XmlNode, code?: XmlNode): XmlNode {
  return el(
    'entry',
    {},
    el(
      'substanceAdministration',
      { classCode: 'SBADM', moodCode: 'INT' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.4', '2.16.840.1.113883.10.20.1.24'),
      el('id', id),
      code,
      textRef(textId),
      el('statusCode', { code: status }),
      interval('effectiveTime', start, end, { 'xsi:type': 'IVL_TS' }),
      el('effectiveTime', { nullFlavor: 'UNK' }),
      el('consumable', {}, el('manufacturedProduct', { classCode: 'MANU' }, templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.31'), material)),
    ),
  );
}

/** The dose form with its EDQM concept first, when Helsebro's map has one. */
function doseForm(form: CodeableConcept | undefined): CodeableConcept | undefined {
  if (!form) return undefined;
  const volven = form.coding?.find((c) => c.system === VOLVEN_7448 && c.code);
  const match = volven ? translate(CONCEPT_MAP.doseForm, volven.system!, volven.code!).matches[0] : undefined;
  const edqm: Coding[] = match ? [{ system: match.system, code: match.code, ...(match.display ? { display: match.display } : {}) }] : [];
  return { ...form, coding: [...edqm, ...(form.coding ?? [])] };
}

export const medicationsCda: SectionCda = {
  templateIds: ['1.3.6.1.4.1.12559.11.10.1.3.1.2.3', '2.16.840.1.113883.10.20.1.8'],
  entry(r, ctx) {
    const m = r as MedicationStatement;
    const found = ctx.resolve(m.medicationReference?.reference);
    const med = found?.resourceType === 'Medication' ? found : undefined;
    const product = med?.code ?? m.medicationCodeableConcept;
    const atc = product?.coding?.filter((c) => c.system === CODE_SYSTEM.atc || c.system === 'urn:oid:2.16.578.1.12.4.1.1.7180');
    const name = product?.text ?? m.medicationReference?.display ?? product?.coding?.find((c) => c.display)?.display;
    const form = doseForm(med?.form);
    const material = el(
      'manufacturedMaterial',
      { classCode: 'MMAT', determinerCode: 'KIND' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.32'),
      textEl('name', name),
      form ? codedElement('pharm:formCode', form, [EHDSI_VS.doseForm]) : el('pharm:formCode', { nullFlavor: 'UNK' }),
      atc?.length
        ? el(
            'pharm:asSpecializedKind',
            { classCode: 'GEN' },
            el('pharm:generalizedMaterialKind', { classCode: 'MMAT', determinerCode: 'KIND' }, codedElement('pharm:code', { coding: atc }, [EHDSI_VS.activeIngredient])),
          )
        : undefined,
    );
    const status = m.status === 'completed' || m.status === 'stopped' ? 'completed' : 'active';
    return statement(ctx.id, ctx.textId, status, m.effectivePeriod?.start ?? m.effectiveDateTime, m.effectivePeriod?.end, material);
  },
  noInfo: (kind, { id, textId }) =>
    statement(
      id,
      textId,
      'completed',
      undefined,
      undefined,
      el('manufacturedMaterial', { nullFlavor: 'NA' }),
      kind === 'withheld'
        ? el('code', { nullFlavor: 'MSK' })
        : el('code', { code: 'no-medication-info', codeSystem: CDA_OID.absentUnknown, displayName: 'No information about medications' }),
    ),
};
