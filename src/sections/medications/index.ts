// Medication summary (IPS sectionMedications, LOINC 10160-0), from the medication list (PLL), in the
// list's own order.
import type { MedicationStatement } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../fhir/identifiers.ts';
import { conceptText, formatDate, join, sourcesText } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'atc' | 'name' | 'dosage' | 'reason' | 'started' | 'source';

export const medications: SectionModule<Field> = {
  key: 'medications',
  slice: 'sectionMedications',
  loinc: '10160-0',
  loincDisplay: 'History of Medication use Narrative',
  title: { nb: 'Legemidler', en: 'Medication summary' },
  required: true,
  entryTypes: ['MedicationStatement'],
  sources: ['medication-list'],
  sort: (entries) => [...entries],
  fields: {
    atc: { nb: 'Virkestoff (ATC)', en: 'Active substance (ATC)' },
    name: { nb: 'Legemiddel', en: 'Medicine' },
    dosage: { nb: 'Dosering', en: 'Dosage' },
    reason: { nb: 'Bruksområde', en: 'Used for' },
    started: { nb: 'Startet', en: 'Started' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const m = entry as MedicationStatement;
    const med = ctx.resolve(m.medicationReference?.reference);
    const code = (med?.resourceType === 'Medication' ? med.code : undefined) ?? m.medicationCodeableConcept;
    const atc = code?.coding?.find((c) => c.system === CODE_SYSTEM.atc && c.code);
    const substance = atc ? (ctx.vocabulary.display(atc.system, atc.code, ctx.lang) ?? atc.display) : undefined;
    return {
      values: {
        atc: atc ? join([atc.code, substance ? `(${substance})` : undefined], ' ') : undefined,
        name: code?.text ?? m.medicationReference?.display ?? conceptText(code, ctx),
        dosage: join((m.dosage ?? []).map((d) => d.text ?? d.patientInstruction), '; '),
        reason: join([...(m.reasonCode ?? []).map((r) => conceptText(r, ctx)), ...(m.reasonReference ?? []).map((r) => r.display)], '; '),
        started: formatDate(m.effectivePeriod?.start ?? m.effectiveDateTime, ctx.lang),
        source: sourcesText(m, ctx),
      },
    };
  },
  narrative: ['name', 'atc', 'dosage', 'reason', 'started', 'source'],
  view: ['atc', 'name', 'dosage', 'reason', 'started', 'source'],
  viewRowHeader: 'name',
};
