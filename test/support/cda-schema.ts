// Every eHDSI CDA a test produces is checked against CDA_Pharma.xsd (CDA R2 with the pharm extension), the
// schema an NCP parses with before anything else: ePrescriptions (Level 3 and Level 1) and eDispensations.
import { expect } from 'vitest';
import { validateXmlAll } from './xsd.ts';

/** Asserts that each document validates; the failure names the document and every schema error. */
export async function expectSchemaValidCda(documents: string | readonly string[], labels: readonly string[] = []): Promise<void> {
  const list = typeof documents === 'string' ? [documents] : documents;
  const results = await validateXmlAll(list, 'cda');
  results.forEach((r, i) => expect(r.errors, `${labels[i] ?? `CDA #${i + 1}`} against CDA_Pharma.xsd`).toEqual([]));
  results.forEach((r, i) => expect(r.valid, `${labels[i] ?? `CDA #${i + 1}`} against CDA_Pharma.xsd:\n${r.output}`).toBe(true));
}
