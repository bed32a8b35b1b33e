// Problems in the eHDSI PS CDA: a problem concern act (template 3.15) around a problem observation (3.7)
// whose value is the diagnosis, ICD-10 as eHDSI codes it (eHDSIIllnessandDisorder); ICPC-2 has no eHDSI
// concept and travels as nullFlavor OTH with its text and the ICPC-2 code as translation.
import type { Condition } from '@medplum/fhirtypes';
import { el } from '../../xml/write.ts';
import { CDA_OID, code, codedElement, EHDSI_VS, interval, noInfoValue, templateIds, textRef, XSI_CD, type SectionCda } from '../cda.ts';
import { episodeSummary } from '../read.ts';

const CONCERN = { code: 'CONC', codeSystem: CDA_OID.actClass };
const FINDING = { code: '404684003', codeSystem: CDA_OID.snomed, displayName: 'Clinical finding' };

function concern(id: { root: string; extension: string }, textId: string, status: string, low: string | undefined, high: string | undefined, value: ReturnType<typeof el>) {
  return el(
    'entry',
    {},
    el(
      'act',
      { classCode: 'ACT', moodCode: 'EVN' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.15', '2.16.840.1.113883.10.20.1.27'),
      el('id', id),
      code('code', CONCERN),
      textRef(textId),
      el('statusCode', { code: status }),
      interval('effectiveTime', low, high),
      el(
        'entryRelationship',
        { typeCode: 'SUBJ', inversionInd: 'false' },
        el(
          'observation',
          { classCode: 'OBS', moodCode: 'EVN' },
          templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.7'),
          el('id', { root: id.root, extension: `${id.extension}.1` }),
          code('code', FINDING),
          textRef(textId),
          el('statusCode', { code: 'completed' }),
          interval('effectiveTime', low, high),
          value,
        ),
      ),
    ),
  );
}

export const problemsCda: SectionCda = {
  templateIds: ['1.3.6.1.4.1.12559.11.10.1.3.1.2.9', '2.16.840.1.113883.10.20.1.11'],
  entry(r, ctx) {
    const c = r as Condition;
    const ep = episodeSummary(c);
    const low = ep?.firstSeen ?? c.onsetDateTime ?? c.onsetPeriod?.start;
    const status = c.clinicalStatus?.coding?.[0]?.code;
    const ended = status === 'inactive' || status === 'resolved' || status === 'remission';
    const value = codedElement('value', c.code, [EHDSI_VS.illness], { attrs: XSI_CD });
    return concern(ctx.id, ctx.textId, ended ? 'completed' : 'active', low, ended ? c.abatementDateTime : undefined, value);
  },
  noInfo: (kind, ctx) =>
    concern(ctx.id, ctx.textId, 'active', undefined, undefined, noInfoValue('value', kind, { code: 'no-problem-info', codeSystem: CDA_OID.absentUnknown, displayName: 'No information about current problems' }, XSI_CD)),
};
