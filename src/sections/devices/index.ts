// Medical devices and implants (IPS sectionMedicalDevices, LOINC 46264-8), from Kjernejournal.
import type { DeviceUseStatement } from '@medplum/fhirtypes';
import { conceptText, formatDate, join, notes, sourcesText, t } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'device' | 'implanted' | 'bodySite' | 'note' | 'source';

export const devices: SectionModule<Field> = {
  key: 'devices',
  slice: 'sectionMedicalDevices',
  loinc: '46264-8',
  loincDisplay: 'History of medical device use',
  title: { nb: 'Implantater og medisinsk utstyr', en: 'Medical devices and implants' },
  required: false,
  entryTypes: ['DeviceUseStatement'],
  sources: ['kjernejournal'],
  sort: (entries) => [...entries],
  fields: {
    device: { nb: 'Implantat / utstyr', en: 'Implant / device' },
    implanted: { nb: 'Implantert', en: 'Implanted' },
    bodySite: { nb: 'Plassering', en: 'Body site' },
    note: { nb: 'Merknad', en: 'Note' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const d = entry as DeviceUseStatement;
    const found = ctx.resolve(d.device?.reference);
    const dev = found?.resourceType === 'Device' ? found : undefined;
    const name = d.device?.display ?? dev?.deviceName?.[0]?.name ?? conceptText(dev?.type, ctx);
    const maker = join([dev?.manufacturer, dev?.modelNumber ? `${t({ nb: 'modell', en: 'model' }, ctx.lang)} ${dev.modelNumber}` : undefined], ', ');
    return {
      values: {
        device: join([name, maker ? `(${maker})` : undefined], ' '),
        implanted: formatDate(d.timingDateTime ?? d.timingPeriod?.start ?? d.recordedOn, ctx.lang),
        bodySite: conceptText(d.bodySite, ctx),
        note: notes(d.note),
        source: sourcesText(d, ctx),
      },
    };
  },
  narrative: ['device', 'implanted', 'bodySite', 'note', 'source'],
  view: ['device', 'implanted', 'bodySite', 'note', 'source'],
  viewRowHeader: 'device',
};
