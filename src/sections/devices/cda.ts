// Devices and implants in the eHDSI PS CDA: a device use (supply, template 3.5) with the device as
// participant. eHDSIMedicalDevice has SNOMED CT and EMDN concepts; Kjernejournal describes devices in text,
// which travels as originalText under nullFlavor OTH.
import type { DeviceUseStatement } from '@medplum/fhirtypes';
import { el, type XmlNode } from '../../xml/write.ts';
import { CDA_OID, codedElement, EHDSI_VS, interval, noInfoValue, templateIds, textRef, type SectionCda } from '../cda.ts';
import { join } from '../read.ts';

function supply(id: { root: string; extension: string }, textId: string, time: XmlNode, deviceCode: XmlNode): XmlNode {
  return el(
    'entry',
    {},
    el(
      'supply',
      { classCode: 'SPLY', moodCode: 'EVN' },
      templateIds('1.3.6.1.4.1.12559.11.10.1.3.1.3.5'),
      el('id', id),
      textRef(textId),
      time,
      el(
        'participant',
        { typeCode: 'DEV' },
        el('participantRole', { classCode: 'MANU' }, el('playingDevice', { classCode: 'DEV', determinerCode: 'INSTANCE' }, deviceCode)),
      ),
    ),
  );
}

export const devicesCda: SectionCda = {
  templateIds: ['1.3.6.1.4.1.12559.11.10.1.3.1.2.4', '2.16.840.1.113883.10.20.1.7'],
  entry(r, ctx) {
    const d = r as DeviceUseStatement;
    const found = ctx.resolve(d.device?.reference);
    const dev = found?.resourceType === 'Device' ? found : undefined;
    const name = join([d.device?.display ?? dev?.deviceName?.[0]?.name, dev?.type?.text, dev?.manufacturer], ', ');
    return supply(
      ctx.id,
      ctx.textId,
      interval('effectiveTime', d.timingDateTime ?? d.timingPeriod?.start ?? d.recordedOn, d.timingPeriod?.end, { 'xsi:type': 'IVL_TS' }),
      codedElement('code', dev?.type, [EHDSI_VS.medicalDevice], { originalText: name }),
    );
  },
  noInfo: (kind, { id, textId }) =>
    supply(
      id,
      textId,
      el('effectiveTime', { 'xsi:type': 'IVL_TS', nullFlavor: 'NA' }),
      noInfoValue('code', kind, { code: 'no-device-info', codeSystem: CDA_OID.absentUnknown, displayName: 'No information about devices' }),
    ),
};
