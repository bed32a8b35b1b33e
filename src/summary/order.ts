// The order entries appear in within a section: what a clinician in a hurry must see first.
import type { AllergyIntolerance, Condition, Procedure, Resource } from '@medplum/fhirtypes';
import { readEpisodeSummary } from '../sources/registry-episodes/aggregate.ts';
import { sourcesOf } from '../sources/source.ts';
import type { SectionKey } from './sections.ts';

const CRITICALITY_RANK: Record<string, number> = { high: 0, 'unable-to-assess': 1, low: 2 };

const desc = (a: string | undefined, b: string | undefined): number => (a ?? '').localeCompare(b ?? '') * -1;

export function sortEntries(key: SectionKey, entries: Resource[]): Resource[] {
  const sorted = [...entries];
  switch (key) {
    case 'problems':
      // Kjernejournal's critical information first, then registry diagnoses, most recently seen first.
      return sorted.sort((a, b) => {
        const ka = sourcesOf(a).includes('kjernejournal') ? 0 : 1;
        const kb = sourcesOf(b).includes('kjernejournal') ? 0 : 1;
        if (ka !== kb) return ka - kb;
        const la = readEpisodeSummary(a as Condition)?.lastSeen ?? (a as Condition).onsetDateTime;
        const lb = readEpisodeSummary(b as Condition)?.lastSeen ?? (b as Condition).onsetDateTime;
        return desc(la, lb);
      });
    case 'allergies':
      return sorted.sort((a, b) => {
        const aa = a as AllergyIntolerance;
        const bb = b as AllergyIntolerance;
        const active = (x: AllergyIntolerance): number => (x.clinicalStatus?.coding?.[0]?.code === 'active' ? 0 : 1);
        if (active(aa) !== active(bb)) return active(aa) - active(bb);
        return (CRITICALITY_RANK[aa.criticality ?? ''] ?? 3) - (CRITICALITY_RANK[bb.criticality ?? ''] ?? 3);
      });
    case 'procedures':
      return sorted.sort((a, b) => {
        const date = (p: Procedure): string | undefined => p.performedDateTime ?? p.performedPeriod?.start;
        // Ongoing treatment before history.
        const ongoing = (p: Procedure): number => (p.status === 'in-progress' ? 0 : 1);
        const pa = a as Procedure;
        const pb = b as Procedure;
        if (ongoing(pa) !== ongoing(pb)) return ongoing(pa) - ongoing(pb);
        return desc(date(pa), date(pb));
      });
    default:
      return sorted;
  }
}
