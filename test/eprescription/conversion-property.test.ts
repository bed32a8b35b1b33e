// Property: any generated valid M1 (any drug type, flags, namespace style, dates) either converts to EU
// outputs that pass their checks, or is refused by named export rules only; the pipeline never throws.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertM1, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { checkEhdsiCda } from '../../src/eprescription/cda-check.ts';
import { EXPORT_RULE_CODES } from '../../src/eprescription/rules.ts';
import { exportContext, m1Spec, nsStyle } from './support/m1-arbitraries.ts';
import { buildM1 } from './support/m1-builder.ts';
import { depsFor, preparedDb } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

describe('conversion of generated M1s', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    deps = depsFor(await preparedDb('pglite'));
  });

  it('converts with checked outputs or refuses by named rules, and never throws', async () => {
    const codes = new Set<string>(EXPORT_RULE_CODES);
    const cdas: string[] = [];
    await fc.assert(
      fc.asyncProperty(m1Spec, nsStyle, exportContext, async (spec, style, ctx) => {
        const r = await convertM1(buildM1(spec, style), deps, {
          now: ctx.now,
          facts: { dispensingsSoFar: ctx.dispensingsSoFar, recalled: ctx.recalled, patientRestricted: ctx.patientRestricted, chain: ctx.chain },
        });
        if (!r.ok) {
          // A refusal of the input itself must be the sender's fault (4xx) and name where.
          expect(r.problem.status).toBeGreaterThanOrEqual(400);
          expect(r.problem.status).toBeLessThan(500);
          return;
        }
        const c = r.value;
        if (!c.exportable) {
          expect(c.decision.reasons.length).toBeGreaterThan(0);
          for (const reason of c.decision.reasons) expect(codes.has(reason.code), reason.code).toBe(true);
          return;
        }
        expect(c.bundle.type).toBeDefined();
        expect(c.bundle.entry!.some((e) => e.resource!.resourceType === 'MedicationRequest')).toBe(true);
        expect(checkEhdsiCda(c.cda, 'ePrescription')).toEqual(expect.objectContaining({ ok: true }));
        cdas.push(c.cda);
      }),
      { numRuns: 60 },
    );
    await expectSchemaValidCda(cdas);
  });
});
