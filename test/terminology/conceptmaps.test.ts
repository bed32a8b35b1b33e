// Integrity of every ConceptMap in terminology/: sources exist in the source code system, targets in
// the target code system and target value set, equivalences are honest, and each map carries its review status.
import { describe, expect, it } from 'vitest';
import type { ConceptMap } from '@medplum/fhirtypes';
import {
  CONCEPT_MAP,
  getTerminology,
  hasValueSet,
  lookup,
  reviewStatus,
  translate,
  validateCode,
} from '../../src/terminology/index.ts';

const t = getTerminology();
const maps: ConceptMap[] = [...t.conceptMaps.values()];
const EQUIVALENCES = new Set(['relatedto', 'equivalent', 'equal', 'wider', 'subsumes', 'narrower', 'specializes', 'inexact', 'unmatched', 'disjoint']);
const REVIEW_STATES = new Set(
  (t.codeSystems.get('https://helsebro.no/fhir/CodeSystem/mapping-review-status')?.resource.concept ?? []).map((c) => c.code),
);

describe('every ConceptMap', () => {
  it('exists for each map the code relies on', () => {
    expect([...REVIEW_STATES]).toEqual(['unreviewed', 'in-review', 'reviewed', 'approved']);
    for (const url of Object.values(CONCEPT_MAP)) expect(t.conceptMaps.has(url), url).toBe(true);
    expect(maps.length).toBeGreaterThanOrEqual(8);
  });

  describe.each(maps.map((m) => [m.id ?? '?', m] as const))('%s', (_id, map) => {
    it('is a draft with a review status from the review-status code system', () => {
      expect(map.status).toBe('draft');
      const review = reviewStatus(map);
      expect(review).toBeDefined();
      expect(REVIEW_STATES.has(review?.status ?? '')).toBe(true);
    });

    it('names source and target value sets that resolve here', () => {
      expect(map.sourceUri && hasValueSet(map.sourceUri)).toBe(true);
      expect(map.targetUri && hasValueSet(map.targetUri)).toBe(true);
    });

    it('lists only source codes of its source code system, each once per group', () => {
      for (const group of map.group ?? []) {
        const codes = (group.element ?? []).map((e) => e.code);
        expect(new Set(codes).size, `${group.source} -> ${group.target}`).toBe(codes.length);
        for (const element of group.element ?? []) {
          const found = lookup(group.source ?? '', element.code ?? '');
          expect(found, `${group.source}|${element.code}`).toBeDefined();
          expect(element.display, `${element.code}`).toBe(found?.display);
        }
      }
    });

    it('points only at codes of the target code system that are in the target value set, with their display', () => {
      for (const group of map.group ?? []) {
        for (const element of group.element ?? []) {
          expect(element.target?.length, `${element.code} has no target row`).toBeGreaterThan(0);
          for (const target of element.target ?? []) {
            expect(EQUIVALENCES.has(target.equivalence)).toBe(true);
            if (target.equivalence === 'unmatched') {
              // An unmatched row names no target and says why.
              expect(target.code).toBeUndefined();
              expect(target.comment?.length ?? 0).toBeGreaterThan(10);
              continue;
            }
            const where = `${element.code} -> ${group.target}|${target.code}`;
            expect(group.target, where).toBeDefined();
            const concept = lookup(group.target ?? '', target.code ?? '');
            expect(concept, where).toBeDefined();
            expect(target.display, where).toBe(concept?.display);
            expect(validateCode(map.targetUri ?? '', group.target ?? '', target.code ?? '').result, where).toBe(true);
          }
        }
      }
    });

    it('explains every target that is not equivalent', () => {
      for (const group of map.group ?? []) {
        for (const element of group.element ?? []) {
          const targets = element.target ?? [];
          // The first target of a row carries the explanation for the row; later targets are the alternatives it names.
          const first = targets[0];
          if (first && first.equivalence !== 'equivalent' && first.equivalence !== 'unmatched' && first.equivalence !== 'wider') {
            expect(first.comment, `${map.id} ${element.code}`).toBeTruthy();
          }
        }
      }
    });
  });
});

// Codes the official eResept samples carry (shared/reference/eresept/samples): M1 Resept, M10, M94, M96 and
// the magistral M1. The demo FEST extract's codes are checked in test/registries/fest-coverage.test.ts.
const SAMPLE_CODES = {
  doseForm: ['53', '9', '101', '95'], // Tablett, Mikstur, Injeksjonsvæske, Infusjonsvæske (magistral)
  packageUnit: ['stk', 'ml'], // M1 PakningsinfoResept/EnhetPakning (7452)
  pharmacyUnit: ['ML', 'MLAMP'], // M10 EnhetPakning (7484)
};

// The 50 dose forms Helsebro expects most often on Norwegian prescriptions: the oral solids and liquids,
// the common cutaneous, eye, ear, nose, inhalation, parenteral, rectal and vaginal forms.
const COMMON_DOSE_FORMS = [
  '53', '25', '28', '16', '5', '10', '57', '48', '50', '52', '32', '24', '27', '7', '218', '9', '208', '14', '6', '11',
  '34', '46', '29', '66', '79', '77', '58', '177', '90', '91', '94', '80', '68', '74', '96', '99', '100', '101', '95',
  '103', '102', '435', '460', '426', '112', '110', '123', '117', '120', '115',
];

describe('coverage', () => {
  it('maps every code of the official samples', () => {
    for (const code of SAMPLE_CODES.doseForm) expect(translate(CONCEPT_MAP.doseForm, 'urn:oid:2.16.578.1.12.4.1.1.7448', code).result, code).toBe(true);
    for (const code of SAMPLE_CODES.packageUnit) expect(translate(CONCEPT_MAP.packageUnit, 'urn:oid:2.16.578.1.12.4.1.1.7452', code).result, code).toBe(true);
    for (const code of SAMPLE_CODES.pharmacyUnit) expect(translate(CONCEPT_MAP.pharmacyUnit, 'urn:oid:2.16.578.1.12.4.1.1.7484', code).result, code).toBe(true);
  });

  it('maps the 50 most common dose forms', () => {
    expect(new Set(COMMON_DOSE_FORMS).size).toBe(50);
    const unmapped = COMMON_DOSE_FORMS.filter((c) => !translate(CONCEPT_MAP.doseForm, 'urn:oid:2.16.578.1.12.4.1.1.7448', c).result);
    expect(unmapped).toEqual([]);
  });

  it('maps every human route of administration that eHDSI knows', () => {
    const unmatched = (t.conceptMaps.get(CONCEPT_MAP.route)?.group?.[0]?.element ?? []).filter((e) =>
      e.target?.every((x) => x.equivalence === 'unmatched'),
    );
    // Only veterinary routes and the three human routes absent from eHDSIRouteofAdministration stay unmatched.
    expect(unmatched.map((e) => e.code).sort()).toEqual(
      ['72', '73', '100', '91', '92', '93', '94', '95', '96', '97', '98', '99', '102', '103', '105', '106', '107', '108', '109', '110'].sort(),
    );
  });
});
