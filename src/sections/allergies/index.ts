// Allergies and intolerances (IPS sectionAllergies, LOINC 48765-2), from Kjernejournal: active before
// inactive, high criticality first.
import type { AllergyIntolerance } from '@medplum/fhirtypes';
import {
  ALLERGY_CATEGORY,
  ALLERGY_CERTAINTY,
  ALLERGY_CRITICALITY,
  ALLERGY_TYPE,
  allergyCertainty,
  CLINICAL_STATUS,
  codeText as label,
  REACTION_SEVERITY,
} from '../../fhir/display-texts.ts';
import { codesText, conceptText, formatDate, join, sourcesText, t } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'type' | 'substance' | 'what' | 'code' | 'reaction' | 'severity' | 'certainty' | 'status' | 'when' | 'source';

const CRITICALITY_RANK: Record<string, number> = { high: 0, 'unable-to-assess': 1, low: 2 };
const activeRank = (x: AllergyIntolerance): number => (x.clinicalStatus?.coding?.[0]?.code === 'active' ? 0 : 1);

export const allergies: SectionModule<Field> = {
  key: 'allergies',
  slice: 'sectionAllergies',
  loinc: '48765-2',
  loincDisplay: 'Allergies and adverse reactions Document',
  title: { nb: 'Allergier og legemiddelreaksjoner', en: 'Allergies and intolerances' },
  required: true,
  entryTypes: ['AllergyIntolerance'],
  sources: ['kjernejournal'],
  sort: (entries) =>
    [...(entries as AllergyIntolerance[])].sort((a, b) => {
      if (activeRank(a) !== activeRank(b)) return activeRank(a) - activeRank(b);
      return (CRITICALITY_RANK[a.criticality ?? ''] ?? 3) - (CRITICALITY_RANK[b.criticality ?? ''] ?? 3);
    }),
  fields: {
    type: { nb: 'Type', en: 'Type' },
    substance: { nb: 'Stoff / legemiddel', en: 'Substance / medicine' },
    what: { nb: 'Hva', en: 'Substance' },
    code: { nb: 'Kode', en: 'Code' },
    reaction: { nb: 'Reaksjon', en: 'Reaction' },
    severity: { nb: 'Alvorlighetsgrad', en: 'Severity' },
    certainty: { nb: 'Sikkerhet', en: 'Certainty' },
    status: { nb: 'Status', en: 'Status' },
    when: { nb: 'Når', en: 'When' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const a = entry as AllergyIntolerance;
    const { lang } = ctx;
    const certainty = label(ALLERGY_CERTAINTY, allergyCertainty(a), lang);
    const status = a.clinicalStatus?.coding?.[0]?.code;
    const type = join(
      [
        join([label(ALLERGY_TYPE, a.type, lang), join((a.category ?? []).map((c) => label(ALLERGY_CATEGORY, c, lang)), ', ')], ' – '),
        certainty,
        status === 'active' ? undefined : label(CLINICAL_STATUS, status, lang),
      ],
      ', ',
    );
    const code = codesText(a.code, ctx);
    const onset = a.onsetDateTime ?? a.onsetPeriod?.start ?? a.reaction?.find((r) => r.onset)?.onset;
    const when = onset
      ? formatDate(onset, lang)
      : (a.onsetString ?? (a.recordedDate ? `${t({ nb: 'registrert', en: 'recorded' }, lang)} ${formatDate(a.recordedDate, lang)}` : undefined));
    return {
      values: {
        type,
        substance: conceptText(a.code, ctx),
        what: join([conceptText(a.code, ctx), code ? `(${code})` : undefined], ' '),
        code,
        reaction: join(
          (a.reaction ?? []).map((r) => join([join((r.manifestation ?? []).map((m) => conceptText(m, ctx)), ', '), r.description], ': ')),
          '; ',
        ),
        severity: join([label(ALLERGY_CRITICALITY, a.criticality, lang), ...(a.reaction ?? []).map((r) => label(REACTION_SEVERITY, r.severity, lang))], ', '),
        certainty,
        status: label(CLINICAL_STATUS, status, lang),
        when,
        source: sourcesText(a, ctx),
      },
      critical: a.criticality === 'high',
    };
  },
  narrative: ['substance', 'code', 'reaction', 'severity', 'certainty', 'status', 'source'],
  view: ['type', 'what', 'reaction', 'severity', 'when', 'source'],
  viewRowHeader: 'what',
};
