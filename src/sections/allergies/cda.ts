// Allergies in the eHDSI PS CDA: an allergy concern act (3.16) around an allergy observation (3.17) with
// the adverse event type (eHDSIAdverseEventType), the agent (eHDSIActiveIngredient for medicines by ATC,
// eHDSIAllergenNoDrug otherwise), each reaction (3.44, eHDSIReactionAllergy, with its severity) and the
// criticality (3.33), certainty (3.35) and status (3.34) observations.
import type { AllergyIntolerance, CodeableConcept } from '@medplum/fhirtypes';
import { allergyCertainty } from '../../fhir/display-texts.ts';
import { el, type XmlNode } from '../../xml/write.ts';
import { CDA_OID, code, codedElement, EHDSI_VS, interval, noInfoValue, templateIds, textRef, XSI_CD, type SectionCda } from '../cda.ts';

const SNOMED = 'http://snomed.info/sct';
const CONCERN = { code: 'CONC', codeSystem: CDA_OID.actClass };
const REPORTED = { code: '418799008', codeSystem: CDA_OID.snomed, displayName: 'Finding reported by subject or history provider' };

/** Adverse event type by FHIR type and category (eHDSIAdverseEventType has these three). */
function eventType(a: AllergyIntolerance): CodeableConcept {
  const code = a.type === 'allergy' ? '609328004' : a.type === 'intolerance' ? '782197009' : '420134006';
  return { coding: [{ system: SNOMED, code }] };
}

const SEVERITY: Record<string, string> = { mild: '255604002', moderate: '6736007', severe: '24484000' };

function simpleObservation(template: string, what: { code: string; codeSystem: string; displayName: string }, value: XmlNode, typeCode = 'SUBJ'): XmlNode {
  return el(
    'entryRelationship',
    { typeCode },
    el('observation', { classCode: 'OBS', moodCode: 'EVN' }, templateIds(template), code('code', what), el('statusCode', { code: 'completed' }), value),
  );
}

function concern(id: { root: string; extension: string }, textId: string, status: string, observation: XmlNode[]): XmlNode {
  return el(
    'entry',
    {},
    el(
      'act',
      { classCode: 'ACT', moodCode: 'EVN' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.16'),
      el('id', id),
      code('code', CONCERN),
      el('statusCode', { code: status }),
      el('entryRelationship', { typeCode: 'SUBJ', inversionInd: 'false' }, el('observation', { classCode: 'OBS', moodCode: 'EVN' }, observation)),
    ),
  );
}

export const allergiesCda: SectionCda = {
  templateIds: ['1.3.6.1.4.1.12559.11.10.1.3.1.2.12'],
  entry(r, ctx) {
    const a = r as AllergyIntolerance;
    const { id, textId } = ctx;
    const status = a.clinicalStatus?.coding?.[0]?.code;
    const certainty = allergyCertainty(a);
    const reactions = (a.reaction ?? []).flatMap((reaction, i) =>
      (reaction.manifestation ?? []).map((m, j) =>
        el(
          'entryRelationship',
          { typeCode: 'MFST', inversionInd: 'true' },
          el(
            'observation',
            { classCode: 'OBS', moodCode: 'EVN' },
            templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.44'),
            el('id', { root: id.root, extension: `${id.extension}.r${i + 1}.${j + 1}` }),
            code('code', REPORTED),
            textRef(textId),
            el('statusCode', { code: 'completed' }),
            codedElement('value', m, [EHDSI_VS.reaction], { attrs: XSI_CD, originalText: [m.text, reaction.description].filter(Boolean).join(': ') || undefined }),
            reaction.severity
              ? el(
                  'entryRelationship',
                  { typeCode: 'SUBJ', inversionInd: 'true' },
                  el(
                    'observation',
                    { classCode: 'OBS', moodCode: 'EVN' },
                    templateIds('1.3.6.1.4.1.19376.1.5.3.1.4.1', '2.16.840.1.113883.10.20.1.55'),
                    code('code', { code: 'SEV', codeSystem: CDA_OID.actCode }),
                    el('statusCode', { code: 'completed' }),
                    codedElement('value', { coding: [{ system: SNOMED, code: SEVERITY[reaction.severity] ?? '' }], text: reaction.severity }, [EHDSI_VS.severity], { attrs: XSI_CD }),
                  ),
                )
              : undefined,
          ),
        ),
      ),
    );
    const observation = [
      ...templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.17'),
      el('id', { root: id.root, extension: `${id.extension}.1` }),
      codedElement('code', eventType(a), [EHDSI_VS.adverseEventType]),
      textRef(textId),
      el('statusCode', { code: 'completed' }),
      interval('effectiveTime', a.onsetDateTime ?? a.onsetPeriod?.start, a.lastOccurrence),
      el(
        'participant',
        { typeCode: 'CSM' },
        el('participantRole', { classCode: 'MANU' }, el('playingEntity', { classCode: 'MMAT' }, codedElement('code', a.code, [EHDSI_VS.activeIngredient, EHDSI_VS.allergenNoDrug])))),
      ...reactions,
      a.criticality
        ? simpleObservation(
            '1.3.6.1.4.1.12559.11.10.1.3.1.3.33',
            { code: '82606-5', codeSystem: CDA_OID.loinc, displayName: 'Allergy or intolerance criticality' },
            codedElement('value', { coding: [{ system: 'http://hl7.org/fhir/allergy-intolerance-criticality', code: a.criticality }] }, [EHDSI_VS.criticality], { attrs: XSI_CD }),
          )
        : undefined,
      certainty
        ? simpleObservation(
            '1.3.6.1.4.1.12559.11.10.1.3.1.3.35',
            { code: '66455-7', codeSystem: CDA_OID.loinc, displayName: 'Condition status' },
            // Kjernejournal's "sannsynlig" has no eHDSI concept: it travels as its own text.
            codedElement('value', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: certainty }], ...(certainty === 'presumed' ? { text: 'presumed (sannsynlig)' } : {}) }, [EHDSI_VS.allergyCertainty], { attrs: XSI_CD }),
          )
        : undefined,
      status
        ? simpleObservation(
            '1.3.6.1.4.1.12559.11.10.1.3.1.3.34',
            { code: '33999-4', codeSystem: CDA_OID.loinc, displayName: 'Status' },
            codedElement('value', { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: status }] }, [EHDSI_VS.allergyStatus], { attrs: XSI_CD }),
            'REFR',
          )
        : undefined,
    ].filter((x): x is XmlNode => x !== undefined);
    return concern(id, textId, status === 'active' || !status ? 'active' : 'completed', observation);
  },
  noInfo: (kind, { id, textId }) =>
    concern(id, textId, 'active', [
      ...templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.17'),
      el('id', { root: id.root, extension: `${id.extension}.1` }),
      code('code', { code: '609328004', codeSystem: CDA_OID.snomed, displayName: 'Allergic disposition' }),
      textRef(textId),
      el('statusCode', { code: 'completed' }),
      el('effectiveTime', {}, el('low', { nullFlavor: 'UNK' })),
      noInfoValue('value', kind, { code: 'no-allergy-info', codeSystem: CDA_OID.absentUnknown, displayName: 'No information about allergies' }, XSI_CD),
    ]),
};
