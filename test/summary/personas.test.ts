// The summary as the server will produce it in demo mode: store-backed sources seeded with the demo
// population, every persona's document validated against R4 and IPS 2.0.
import type { Bundle, Composition, Condition, MedicationStatement, Resource } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS, type PersonaKey } from '../../src/demo/personas.ts';
import { personaPatient } from '../../src/demo/population.ts';
import { EPISODE_SUMMARY_EXT } from '../../src/sources/ips.ts';
import { buildSummarySources } from '../../src/summary/build-sources.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { summarizePatient, type SummarizeOptions } from '../../src/summary/summarize.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateIpsDocument } from '../support/ips-validate.ts';

const operator = { name: 'Norsk helsenett SF (Helsebro demo)', orgnr: '994598759' };
const demoConfig = { mode: 'demo' as const, sources: { kjernejournalBaseUrl: undefined, medicationListBaseUrl: undefined } };

const composition = (b: Bundle): Composition => b.entry![0]!.resource as Composition;
const sectionByCode = (b: Bundle, loinc: string) => composition(b).section?.find((s) => s.code?.coding?.[0]?.code === loinc);
const entriesOf = (b: Bundle, loinc: string): Resource[] =>
  (sectionByCode(b, loinc)?.entry ?? []).map((e) => b.entry!.find((x) => x.fullUrl === e.reference)!.resource!);

describe.each(engines)('demo summaries from the store (%s)', (engine) => {
  let db: Db;
  let opts: SummarizeOptions;
  const summarize = (key: PersonaKey, lang: 'nb' | 'en' = 'nb') => summarizePatient(personaPatient(PERSONAS[key]), PERSONAS[key].fnr, { ...opts, lang });

  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    opts = { sources: buildSummarySources(demoConfig, db), timeoutMs: 2000, lang: 'nb', operator };
  });

  it.each(Object.keys(PERSONAS) as PersonaKey[])("%s's summary validates against R4 and IPS 2.0, in Norwegian and English", async (key) => {
    for (const lang of ['nb', 'en'] as const) {
      const { bundle, sourceResults } = await summarize(key, lang);
      expect(sourceResults.map((r) => r.status).filter((s) => s !== 'ok' && s !== 'withheld')).toEqual([]);
      expect(validateIpsDocument(bundle).errors).toEqual([]);
    }
  });

  it('shows the MS persona’s migraine aggregated: first and last date and the episode count', async () => {
    const { bundle } = await summarize('ms');
    const g430 = entriesOf(bundle, '11450-4').find((r): r is Condition => r.resourceType === 'Condition' && r.code?.coding?.[0]?.code === 'G43.0')!;
    expect(g430.onsetDateTime).toBe('1993-03-11');
    const ext = g430.extension?.find((e) => e.url === EPISODE_SUMMARY_EXT)?.extension ?? [];
    expect(ext).toEqual([
      { url: 'firstSeen', valueDate: '1993-03-11' },
      { url: 'lastSeen', valueDate: '2024-10-31' },
      { url: 'episodes', valueUnsignedInt: 21 },
      { url: 'registry', valueCode: 'NPR' },
    ]);
    expect(sectionByCode(bundle, '11450-4')!.text!.div).toContain('Migrene uten aura</td><td>ICD-10 G43.0</td><td>11.03.1993 &#8211; 31.10.2024, 21 oppføringer');
    // and the rest of the persona: MS, urinary retention, natalizumab, InterStim with its procedures
    const problems = entriesOf(bundle, '11450-4').map((r) => (r as Condition).code?.coding?.[0]?.code);
    expect(problems).toEqual(expect.arrayContaining(['G35', 'R33']));
    expect(entriesOf(bundle, '46264-8')).toHaveLength(1);
    const procedures = JSON.stringify(entriesOf(bundle, '47519-4'));
    expect(procedures).toContain('JHGX00');
    expect(procedures).toContain('KCX20');
    expect(JSON.stringify(entriesOf(bundle, '10160-0'))).toContain('Tysabri');
  });

  it('gives the patient with no data the three required sections with a narrative saying nothing was found', async () => {
    const { bundle, warnings } = await summarize('nodata');
    const sections = composition(bundle).section!;
    expect(sections.map((s) => s.code?.coding?.[0]?.code)).toEqual(['11450-4', '48765-2', '10160-0']);
    for (const s of sections) {
      expect(s.emptyReason?.coding?.[0]?.code).toBe('unavailable');
      expect(s.text?.div).toContain('Ingen opplysninger funnet i kildene som ble spurt');
      expect(s.text?.div).toContain('Kilder spurt');
    }
    expect(warnings).toEqual([]);
  });

  it('withholds Kjernejournal content for the reserved patient', async () => {
    const { bundle, warnings, sourceResults } = await summarize('reserved');
    expect(sourceResults.find((r) => r.source === 'kjernejournal')).toEqual({ source: 'kjernejournal', status: 'withheld', reason: 'kj-reservation' });
    expect(sectionByCode(bundle, '48765-2')?.emptyReason?.coding?.[0]?.code).toBe('withheld');
    expect(sectionByCode(bundle, '104605-1')?.emptyReason?.coding?.[0]?.code).toBe('withheld');
    expect(bundle.entry!.some((e) => e.resource?.meta?.tag?.some((t) => t.code === 'kjernejournal'))).toBe(false);
    expect(warnings).toEqual([expect.objectContaining({ code: 'suppressed', severity: 'information' })]);
  });

  it("labels the child's contraceptive (guardian-access reservation) restricted for the access rules", async () => {
    const { bundle } = await summarize('child');
    const restricted = entriesOf(bundle, '10160-0').filter((r) => r.meta?.security?.some((s) => s.code === 'R')) as MedicationStatement[];
    expect(restricted.map((m) => m.medicationReference?.display)).toEqual(['Microgynon tab']);
  });

  it('brings KPR diagnoses and NPR procedures for the knee patient', async () => {
    const { bundle } = await summarize('knee', 'en');
    const div = sectionByCode(bundle, '11450-4')!.text!.div;
    expect(div).toContain('Hypertension uncomplicated</td><td>ICPC-2 K86');
    expect(div).toContain('Lipid disorder</td><td>ICPC-2 T93');
    const procedures = sectionByCode(bundle, '47519-4')!.text!.div;
    for (const code of ['NGB40', 'SFY0HK', 'GDFC05', 'FPFE50']) expect(procedures).toContain(`NKPK ${code}`);
  });
});
