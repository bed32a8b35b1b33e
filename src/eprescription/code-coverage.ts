// The codes a FEST catalogue uses from the three lists the EU documents must map (7448 dose form, 7449
// package type, 7452 package unit), and the coverage rows for them. Pure.
import type { FestRecord } from '../registries/fest/types.ts';
import { coverageOf, mappedCodes, type CoverageRow } from '../terminology/coverage.ts';
import { CONCEPT_MAP } from '../terminology/index.ts';
import type { Terminology } from '../terminology/load.ts';

export interface FestCodes {
  doseForms: string[];
  packageTypes: string[];
  units: string[];
}

export function festCodes(records: Iterable<FestRecord>): FestCodes {
  const forms = new Set<string>();
  const types = new Set<string>();
  const units = new Set<string>();
  for (const r of records) {
    if (r.kind === 'merkevare' || r.kind === 'pakning' || r.kind === 'legemiddel-virkestoff') {
      if (r.data.doseForm?.code) forms.add(r.data.doseForm.code);
    }
    if (r.kind === 'pakning') {
      for (const p of r.data.packages) {
        if (p.packageType.code) types.add(p.packageType.code);
        if (p.unit.code) units.add(p.unit.code);
      }
      if (r.data.prescriptionPackage?.unit.code) units.add(r.data.prescriptionPackage.unit.code);
    }
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { doseForms: sorted(forms), packageTypes: sorted(types), units: sorted(units) };
}

const V = (nr: number): string => `urn:oid:2.16.578.1.12.4.1.1.${nr}`;

export function mappingCoverageRows(t: Terminology, fest: FestCodes): CoverageRow[] {
  const rows: [string, string, number, string[]][] = [
    ['7448 Legemiddelform -> EDQM dose form', CONCEPT_MAP.doseForm, 7448, fest.doseForms],
    ['7449 Pakningstype -> EDQM package', CONCEPT_MAP.packageType, 7449, fest.packageTypes],
    ['7452 Enhet for pakning -> UCUM / EDQM unit', CONCEPT_MAP.packageUnit, 7452, fest.units],
  ];
  return rows.map(([list, url, nr, codes]) => {
    const map = t.conceptMaps.get(url)!;
    return { list, coverage: coverageOf(t, url, V(nr)), inFest: { codes, mapped: mappedCodes(map, codes) } };
  });
}
