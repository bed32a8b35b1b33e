// Alerts (IPS sectionAlerts, LOINC 104605-1): Kjernejournal's critical-information flags.
import type { Flag } from '@medplum/fhirtypes';
import { conceptText, formatDate, kjType, sourcesText } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'alert' | 'type' | 'since' | 'source';

export const alerts: SectionModule<Field> = {
  key: 'alerts',
  slice: 'sectionAlerts',
  loinc: '104605-1',
  loincDisplay: 'Alert',
  title: { nb: 'Varsler (kritisk informasjon)', en: 'Alerts' },
  required: false,
  entryTypes: ['Flag'],
  sources: ['kjernejournal'],
  sort: (entries) => [...entries],
  fields: {
    alert: { nb: 'Varsel', en: 'Alert' },
    type: { nb: 'Type', en: 'Type' },
    since: { nb: 'Fra', en: 'Since' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const f = entry as Flag;
    return {
      values: { alert: conceptText(f.code, ctx), type: kjType(f.category, ctx), since: formatDate(f.period?.start, ctx.lang), source: sourcesText(f, ctx) },
      critical: f.status === 'active',
    };
  },
  narrative: ['alert', 'type', 'since', 'source'],
  view: ['alert', 'type', 'since', 'source'],
  viewRowHeader: 'alert',
};
