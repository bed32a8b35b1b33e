// How much of a Norwegian code list a ConceptMap covers: codes mapped to an EU code, codes marked
// unmappable with a reason (equivalence unmatched and a comment), and codes the map does not mention.
// Pure over the loaded terminology; scripts/mapping-coverage.ts writes the figures into mappings/README.md.
import type { ConceptMap } from '@medplum/fhirtypes';
import type { Terminology } from './load.ts';

export interface MapCoverage {
  /** The ConceptMap's id. */
  map: string;
  /** All codes of the source code system. */
  total: number;
  mapped: number;
  /** Marked unmappable, with a reason. */
  unmappable: number;
  /** Codes the map does not mention. */
  missing: string[];
  /** Elements that are unmatched but give no reason. */
  unexplained: string[];
}

export function mapCoverage(map: ConceptMap, sourceCodes: readonly string[]): MapCoverage {
  const elements = new Set((map.group ?? []).flatMap((g) => g.element ?? []).map((e) => e.code ?? ''));
  let mapped = 0;
  let unmappable = 0;
  const missing: string[] = [];
  const unexplained: string[] = [];
  for (const code of sourceCodes) {
    const targets = [...(map.group ?? [])].flatMap((g) => (g.element ?? []).filter((e) => e.code === code).flatMap((e) => e.target ?? []));
    if (!elements.has(code)) missing.push(code);
    else if (targets.some((t) => t.code && t.equivalence !== 'unmatched')) mapped++;
    else if (targets.some((t) => t.equivalence === 'unmatched' && t.comment?.trim())) unmappable++;
    else unexplained.push(code);
  }
  return { map: map.id ?? map.url ?? '', total: sourceCodes.length, mapped, unmappable, missing, unexplained };
}

/** The coverage of one map by its url, against every code of its source code system. */
export function coverageOf(terminology: Terminology, mapUrl: string, sourceSystem: string): MapCoverage {
  const map = terminology.conceptMaps.get(mapUrl);
  const system = terminology.codeSystems.get(terminology.systemAliases.get(sourceSystem) ?? sourceSystem);
  if (!map || !system) throw new Error(`no ConceptMap ${mapUrl} or no CodeSystem ${sourceSystem}`);
  return mapCoverage(map, [...system.concepts.keys()]);
}

export interface CoverageRow {
  list: string;
  coverage: MapCoverage;
  /** The codes of this list that occur in the demo FEST extract, and how many of them map to an EU code. */
  inFest: { codes: string[]; mapped: number };
}

/** The coverage rows as the Markdown table in mappings/README.md. */
export function coverageMarkdown(rows: readonly CoverageRow[]): string {
  const lines = [
    '| code list | ConceptMap | codes | mapped | unmappable (reason given) | not in the map | in the demo FEST extract: codes / mapped |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      ({ list, coverage: c, inFest }) =>
        `| ${list} | \`${c.map}\` | ${c.total} | ${c.mapped} | ${c.unmappable} | ${c.missing.length + c.unexplained.length} | ${inFest.codes.length} / ${inFest.mapped} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Which of `codes` the map sends as an EU code. */
export function mappedCodes(map: ConceptMap, codes: readonly string[]): number {
  return codes.filter((code) => (map.group ?? []).some((g) => (g.element ?? []).some((e) => e.code === code && (e.target ?? []).some((t) => t.code && t.equivalence !== 'unmatched')))).length;
}
