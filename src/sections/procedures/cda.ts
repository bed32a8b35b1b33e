// Procedures in the eHDSI PS CDA (template 3.26). eHDSIProcedure is SNOMED CT; the Norwegian NKPK codes
// have no eHDSI concept and travel as nullFlavor OTH with their text and the NKPK code as translation.
import type { Procedure } from '@medplum/fhirtypes';
import { el, type XmlNode } from '../../xml/write.ts';
import { cdaTs, CDA_OID, codedElement, EHDSI_VS, interval, noInfoValue, templateIds, textRef, type SectionCda } from '../cda.ts';

function procedure(id: { root: string; extension: string }, textId: string, codeEl: XmlNode, status: string, time: XmlNode): XmlNode {
  return el(
    'entry',
    {},
    el(
      'procedure',
      { classCode: 'PROC', moodCode: 'EVN' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.26'),
      el('id', id),
      codeEl,
      textRef(textId),
      el('statusCode', { code: status }),
      time,
    ),
  );
}

export const proceduresCda: SectionCda = {
  templateIds: ['1.3.6.1.4.1.12559.11.10.1.3.1.2.11'],
  entry(r, ctx) {
    const p = r as Procedure;
    const at = cdaTs(p.performedDateTime);
    const time = at
      ? el('effectiveTime', { value: at })
      : p.performedPeriod
        ? interval('effectiveTime', p.performedPeriod.start, p.performedPeriod.end)
        : el('effectiveTime', { nullFlavor: 'UNK' });
    return procedure(ctx.id, ctx.textId, codedElement('code', p.code, [EHDSI_VS.procedure]), p.status === 'in-progress' ? 'active' : 'completed', time);
  },
  noInfo: (kind, { id, textId }) =>
    procedure(
      id,
      textId,
      noInfoValue('code', kind, { code: 'no-procedure-info', codeSystem: CDA_OID.absentUnknown, displayName: 'No information about past history of procedures' }),
      'completed',
      el('effectiveTime', { nullFlavor: 'NA' }),
    ),
};
