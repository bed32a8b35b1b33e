// convert-m1 and address protection (audit 2, F10). The command has no store and, in production mode, no
// population register (in demo mode, the personas only): it cannot learn that anyone else has strengt
// fortrolig adresse. An address whose protection nobody could confirm is withheld, as the server withholds
// one the register grades, with a warning.
import { describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import { pipelineFor, type ConvertSettings } from '../../src/eprescription/cli/convert-file.ts';
import { convertM1, type Converted } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { fixture, TEST_OID, TEST_OPERATOR } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NOW = new Date('2026-12-07T12:00:00+01:00');

const settings = (mode: 'demo' | 'production'): ConvertSettings => ({
  mode,
  helsebroOid: TEST_OID,
  operator: TEST_OPERATOR,
  festPath: DEMO_FEST_FILE,
  format: 'both',
  maxBytes: 5_000_000,
  lang: 'en',
});

async function convert(mode: 'demo' | 'production', name: string): Promise<Converted> {
  const r = await convertM1(fixture('identity', name), await pipelineFor(settings(mode)), { now: NOW, level1: true });
  if (!r.ok || !r.value.exportable) throw new Error(`${name} was not converted`);
  return r.value;
}

const patientOf = (c: Converted): Patient => c.bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
const warningCodes = (c: Converted): string[] => c.warnings.map((w) => w.details?.coding?.[0]?.code ?? w.code);

describe('address protection in convert-m1 (F10)', () => {
  it('withholds the address when no register can say whether it is protected, with a warning (production mode)', async () => {
    const c = await convert('production', 'a29-strengt-fortrolig-adresse.xml');
    expect(patientOf(c).address).toBeUndefined();
    expect(/<recordTarget[\s\S]*<\/recordTarget>/.exec(c.cda)?.[0]).toContain('<addr nullFlavor="MSK"/>');
    expect(c.cda).not.toMatch(/Storgata|0155/);
    expect(warningCodes(c)).toContain('REG-PROTECTION-UNAVAILABLE');
    await expectSchemaValidCda([c.cda, c.cdaL1!], ['a29 L3', 'a29 L1']);
  });

  it('withholds the strengt fortrolig persona\'s address by the demo register\'s word, and anyone else\'s it cannot answer for (demo mode)', async () => {
    const confidential = await convert('demo', 'a29-strengt-fortrolig-adresse.xml');
    expect(patientOf(confidential).address).toBeUndefined();
    expect(confidential.cda).not.toMatch(/Storgata|0155/);
    expect(warningCodes(confidential)).not.toContain('REG-PROTECTION-UNAVAILABLE');
    const unknown = await convert('demo', 'a16-d-nummer.xml');
    expect(patientOf(unknown).address).toBeUndefined();
    expect(warningCodes(unknown)).toContain('REG-PROTECTION-UNAVAILABLE');
  });
});
