// Each form of M1 Dosering, in both outputs: the MPD FHIR Dosage and the eHDSI CDA say the same thing the
// M1 says, and where CDA structure cannot say it (a time of day among them), the CDA gives it as text and
// no structure at all.
import { extractText, getDocumentProxy } from 'unpdf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dosage, MedicationRequest } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { buildM1, type DoseSpec, type DoseringSpec, type LegemiddelItem } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NOW = new Date('2026-03-02T10:00:00+01:00');
const TAB = { v: '1', u: 'tablett' };
const fast = (mengde: { v: string; u: string }, more: Partial<Extract<DoseSpec, { kind: 'fast' }>> = {}): DoseSpec => ({ kind: 'fast', mengde, ...more });
/** The text of the PDF a Level 1 CDA carries. */
async function textOfPdf(cdaL1: string): Promise<string> {
  const b64 = /<text mediaType="application\/pdf" representation="B64">([^<]*)<\/text>/.exec(cdaL1)?.[1];
  if (!b64) throw new Error('no PDF in the Level 1 document');
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(Buffer.from(b64.replace(/\s/g, ''), 'base64'))), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}
const tid = (code: string) => ({ code, display: { '1': 'Morgen', '2': 'Formiddag', '3': 'Midt på dagen', '5': 'Kveld', '6': 'Natt' }[code] });

describe('dosage in both outputs', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const convert = async (item: Partial<LegemiddelItem>, edit: (xml: string) => string = (x) => x): Promise<Converted> => {
    const r = await convertM1(edit(buildM1(specFor(item))), deps, { now: NOW });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error('refused');
    await expectSchemaValidCda(r.value.cda);
    return r.value;
  };
  const dosageOf = (c: Converted): Dosage[] =>
    (c.bundle.entry!.find((e) => e.resource?.resourceType === 'MedicationRequest')!.resource as MedicationRequest).dosageInstruction ?? [];
  const item = (c: Converted): string => /<substanceAdministration classCode="SBADM" moodCode="INT">[\s\S]*<\/substanceAdministration>/.exec(c.cda)![0];
  /** The second effectiveTime and the structure around it, without the narrative. */
  const frequency = (c: Converted): string => /<\/effectiveTime>\s*(<effectiveTime[\s\S]*?)(?=<routeCode|<doseQuantity|<maxDoseQuantity|<consumable)/.exec(item(c))![1]!;
  const dosering = (...doses: DoseSpec[]): DoseringSpec[] => [{ start: '2026-03-01', doses }];

  it('DoseFastTidspunkt with Intervall: PIVL_TS with the period, one doseQuantity', async () => {
    const c = await convert({ dosering: dosering(fast({ v: '2', u: 'tablett' }, { intervall: { v: '8', u: 'Time' } })) });
    expect(dosageOf(c)[0]).toMatchObject({ timing: { repeat: { frequency: 1, period: 8, periodUnit: 'h' } }, doseAndRate: [{ doseQuantity: { value: 2 } }] });
    expect(frequency(c)).toMatch(/^<effectiveTime operator="A" xsi:type="PIVL_TS" institutionSpecified="false">\s*<period value="8" unit="h"\/>/);
    expect(item(c)).toMatch(/<doseQuantity value="2" unit="\{Tablet\}"\/>/);
  });

  it('DoseFastTidspunkt with Tidsomrade (morning, daily): FHIR when MORN; the CDA as text, never the meal event "breakfast"', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('1'), intervall: { v: '1', u: 'Døgn' } })) });
    expect(dosageOf(c)[0]?.timing?.repeat).toMatchObject({ when: ['MORN'], period: 1, periodUnit: 'd' });
    expect(dosageOf(c)[0]?.doseAndRate?.[0]?.doseQuantity).toMatchObject({ value: 1, code: '15054000' });
    // HL7 TimingEvent has no "morning"; CM means "at breakfast", an instruction the prescriber did not give.
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(item(c)).not.toContain('EIVL_TS');
    expect(c.cda).not.toMatch(/code="(CM|CD|CV|HS|MORN|NOON|EVE|NIGHT)"/);
    expect(c.cda).toContain('every day, morning: 1 Tablet');
    expect(c.cda).toContain('hver dag, morgen: 1 tablett');
  });

  it('DoseFastTidspunkt with Klokkeslett: PIVL_TS with the clock time as phase, FHIR timeOfDay', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { klokkeslett: '08:00:00', gisEksakt: true })) });
    expect(dosageOf(c)[0]?.timing?.repeat).toMatchObject({ timeOfDay: ['08:00:00'] });
    expect(frequency(c)).toMatch(/<phase>\s*<low value="19700101080000"\/>\s*<\/phase>\s*<period value="1" unit="d"\/>/);
  });

  it('the same amount morning and evening: FHIR doses side by side (MORN, EVE); the CDA as text, no event structure', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('1') }), fast(TAB, { tidsomrade: tid('5') })) });
    expect(dosageOf(c).map((d) => [d.sequence, d.timing?.repeat?.when?.[0]])).toEqual([[1, 'MORN'], [1, 'EVE']]);
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(item(c)).not.toMatch(/SXPR_TS|EIVL_TS|<doseQuantity/);
    expect(c.cda).toContain('morning: 1 Tablet; evening: 1 Tablet');
  });

  it('the official sample\'s morning, midday and evening stay times of day: MORN/NOON/EVE in FHIR, text in the CDA and the PDF, no meal', async () => {
    const r = await convertM1(fixture('official', 'Lege endrer på legemiddelbehandling/M1 Resept.xml'), deps, { now: new Date('2019-07-18T12:00:00+02:00'), level1: true });
    if (!r.ok || !r.value.exportable) throw new Error('not converted');
    const c = r.value;
    const cdaL1 = c.cdaL1;
    if (!cdaL1) throw new Error('no Level 1 document');
    await expectSchemaValidCda([c.cda, cdaL1], ['Level 3', 'Level 1']);
    // Tidsomrade 1, 3 and 5 (Morgen, Midt på dagen, Kveld), one tablet each, every day for 33 days.
    expect(dosageOf(c).map((d) => [d.timing?.repeat?.when, d.timing?.repeat?.period, d.timing?.repeat?.periodUnit, d.doseAndRate?.[0]?.doseQuantity?.value])).toEqual([
      [['MORN'], 1, 'd', 1],
      [['NOON'], 1, 'd', 1],
      [['EVE'], 1, 'd', 1],
    ]);
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(c.cda).not.toMatch(/EIVL_TS|code="(CM|CD|CV)"|breakfast|lunch|dinner/);
    expect(c.cda).toContain('every day, morning: 1 Tablet; every day, midday: 1 Tablet; every day, evening: 1 Tablet');
    expect(c.cda).toContain('1 tablett morgen, 1 tablett midt på dagen og 1 tablett kveld i 33 dager');
    const pdf = await textOfPdf(cdaL1);
    expect(pdf).toContain('every day, morning: 1 Tablet; every day, midday: 1 Tablet; every day, evening: 1 Tablet');
    expect(pdf).not.toMatch(/breakfast|lunch|dinner/);
  });

  it('a split dose 1 + 1 + 2 keeps each time\'s amount: FHIR per dose, the CDA as text with no structure', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('1') }), fast(TAB, { tidsomrade: tid('3') }), fast({ v: '2', u: 'tablett' }, { tidsomrade: tid('5') })) });
    expect(dosageOf(c).map((d) => [d.timing?.repeat?.when?.[0], d.doseAndRate?.[0]?.doseQuantity?.value])).toEqual([['MORN', 1], ['NOON', 1], ['EVE', 2]]);
    expect(frequency(c)).toBe('<effectiveTime nullFlavor="UNK"/>\n              ');
    expect(item(c)).not.toContain('<doseQuantity');
    expect(c.cda).toContain('morning: 1 Tablet; midday: 1 Tablet; evening: 2 Tablet');
    expect(c.cda).toContain('morgen: 1 tablett; midt på dagen: 1 tablett; kveld: 2 tablett');
  });

  it('DoseEtterBehov: as needed with the daily maximum in both; no fixed schedule in the CDA', async () => {
    const behov: DoseSpec = { kind: 'behov', mengde: TAB, dognMaks: { v: '6', u: 'tablett' }, tidsromMaks: { v: '2', u: 'tablett' }, tidsrom: { v: '4', u: 'Time' }, intervallMin: { v: '4', u: 'Time' } };
    const c = await convert({ dosVeiledEnkel: '1 tablett ved smerter, høyst 6 per døgn', dosering: dosering(behov) });
    expect(dosageOf(c)[0]).toMatchObject({ asNeededBoolean: true, maxDosePerPeriod: { numerator: { value: 6 }, denominator: { value: 1, code: 'd' } } });
    const sa = item(c);
    expect(sa).not.toContain('PIVL_TS');
    expect(sa).toMatch(/<maxDoseQuantity>\s*<numerator value="6" unit="\{Tablet\}"\/>\s*<denominator value="1" unit="d"\/>\s*<\/maxDoseQuantity>/);
    expect(sa).toMatch(/<precondition typeCode="PRCN">\s*<criterion classCode="OBS" moodCode="EVN.CRT">\s*<text>\s*<reference value="#dosage-1"\/>/);
    expect(c.cda).toContain('as needed: 1 Tablet, at most 6 Tablet per 24 hours');
    expect(c.cda).toContain('minst 4 timer mellom dosene');
    // The pharmacist abroad reads the interval and the per-period maximum in English time words.
    expect(c.cda).toContain('at least 4 hours between doses');
    expect(c.cda).toContain('at most 2 tablett (Norwegian unit) per 4 hours');
    expect(c.cda).not.toContain('Norwegian units');
  });

  it('DoseEtterBehov whose per-day maximum repeats DoseDognMaks says the daily maximum once', async () => {
    const behov: DoseSpec = { kind: 'behov', mengde: TAB, dognMaks: { v: '8', u: 'tablett' }, tidsromMaks: { v: '8', u: 'tablett' }, tidsrom: { v: '1', u: 'Døgn' }, intervallMin: { v: '30', u: 'Minutt' } };
    const c = await convert({ dosering: dosering(behov) });
    expect(c.cda).toContain('as needed: 1 Tablet, at most 8 Tablet per 24 hours, at least 30 minutes between doses');
    expect(c.cda).not.toMatch(/at most 8 tablett.*per (1 )?(Døgn|day)/);
    expect(c.cda).toContain('ved behov: 1 tablett, høyst 8 tablett per døgn, minst 30 minutter mellom dosene');
  });

  it('a time of day HL7 TimingEvent has no code for (formiddag): text only in the CDA, still MORN.late in FHIR', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('2') })) });
    expect(dosageOf(c)[0]?.timing?.repeat?.when).toEqual(['MORN.late']);
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(c.cda).toContain('late morning: 1 Tablet');
  });

  it('two Dosering periods (tapering): FHIR in sequence, the CDA as text only', async () => {
    const c = await convert({
      dosering: [
        { start: '2026-03-01', end: '2026-03-07', doses: [fast({ v: '2', u: 'tablett' }, { tidsomrade: tid('1') })] },
        { start: '2026-03-08', end: '2026-03-14', doses: [fast(TAB, { tidsomrade: tid('1') })] },
      ],
    });
    expect(dosageOf(c).map((d) => d.sequence)).toEqual([1, 2]);
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(c.cda).toContain('2026-03-01 – 2026-03-07: morning: 2 Tablet; then 2026-03-08 – 2026-03-14: morning: 1 Tablet');
    expect(c.cda).toContain('2026-03-01 – 2026-03-07: morgen: 2 tablett; deretter 2026-03-08 – 2026-03-14: morgen: 1 tablett');
  });

  it('FastDose on fixed weekdays (9082): FHIR twice a week on mon and thu, the CDA as text in English weekdays, never "every day"', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('1'), intervall: { v: '1', u: 'Døgn' } })) }, (xml) =>
      xml.replace(/(<GisEksakt>false<\/GisEksakt>)/, '$1<FastDose><FasteUkedager V="4" DN="Torsdag"/><FasteUkedager V="1" DN="Mandag"/></FastDose>'),
    );
    const d = dosageOf(c)[0]!;
    expect(d.timing?.repeat).toMatchObject({ frequency: 2, period: 1, periodUnit: 'wk', dayOfWeek: ['mon', 'thu'], when: ['MORN'] });
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(item(c)).not.toMatch(/PIVL_TS|<doseQuantity/);
    expect(c.cda).toContain('every Monday and Thursday, morning: 1 Tablet');
    expect(c.cda).toContain('hver mandag og torsdag, morgen: 1 tablett');
    expect(c.cda).not.toMatch(/every day|hver dag|Mandag|Torsdag/);
  });

  it('a weekday code 9082 does not know: no structure anywhere, the word the prescriber system gave, marked Norwegian', async () => {
    const c = await convert({ dosering: dosering(fast(TAB, { tidsomrade: tid('1'), intervall: { v: '1', u: 'Døgn' } })) }, (xml) =>
      xml.replace(/(<GisEksakt>false<\/GisEksakt>)/, '$1<FastDose><FasteUkedager V="8" DN="Helligdag"/></FastDose>'),
    );
    const d = dosageOf(c)[0]!;
    expect(d.timing?.repeat?.when).toBeUndefined();
    expect(d.timing?.repeat?.dayOfWeek).toBeUndefined();
    expect(d.text).toContain('kun faste ukedager: Helligdag');
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(c.cda).toContain('morning: 1 Tablet, only on fixed weekdays (Norwegian): Helligdag');
    expect(c.cda).not.toMatch(/every day|hver dag/);
  });

  it('Kortdose "1+0+2" without Dosering says more than the text: doses per time of day, text in the CDA', async () => {
    const c = await convert({ dosVeiledEnkel: undefined, kortdose: { code: '99', display: '1+0+2', ot: '1 tablett morgen og 2 tabletter kveld' } });
    expect(dosageOf(c).map((d) => [d.timing?.repeat?.when?.[0], d.doseAndRate?.[0]?.doseQuantity?.value])).toEqual([['MORN', 1], ['EVE', 2]]);
    expect(dosageOf(c)[0]?.text).toBe('1 tablett morgen og 2 tabletter kveld');
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(c.cda).toContain('morgen: 1; kveld: 2');
  });

  // Kodeverk 9101 (Legemiddelbruk): 1 Fast, 2 Kur, 3 Ved behov.
  const VED_BEHOV = { code: '3', display: 'Ved behov' };

  it('Bruk 3 (Ved behov) with the dosage as text only: asNeededBoolean in FHIR, a PRCN precondition on the text in the CDA, "As needed" in the PDF', async () => {
    // An Addison patient's extra stress dose: taken when needed, said only in words.
    const spec = specFor({ dosVeiledEnkel: '1 tablett ekstra ved feber eller stor påkjenning', bruk: VED_BEHOV });
    const r = await convertM1(buildM1(spec), deps, { now: NOW, level1: true });
    if (!r.ok || !r.value.exportable) throw new Error('not converted');
    const c = r.value;
    const cdaL1 = c.cdaL1;
    if (!cdaL1) throw new Error('no Level 1 document');
    await expectSchemaValidCda([c.cda, cdaL1], ['Level 3', 'Level 1']);
    expect(dosageOf(c)).toEqual([expect.objectContaining({ text: '1 tablett ekstra ved feber eller stor påkjenning', asNeededBoolean: true })]);
    expect(dosageOf(c)[0]?.timing).toBeUndefined();
    const sa = item(c);
    expect(sa).toMatch(/<precondition typeCode="PRCN">\s*<criterion classCode="OBS" moodCode="EVN.CRT">\s*<text>\s*<reference value="#pinstruct-1"\/>/);
    // The reference resolves to the dosage as written.
    expect(c.cda).toMatch(/<td ID="pinstruct-1">1 tablett ekstra ved feber eller stor påkjenning<\/td>/);
    expect(c.cda).toMatch(/<th>Use \/ Bruk<\/th>\s*<td ID="use-1">As needed \/ Ved behov<\/td>/);
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
    expect(await textOfPdf(cdaL1)).toContain('Use / Bruk: As needed / Ved behov');
  });

  it('Bruk 3 (Ved behov) with a fixed interval: "every 8 hours when needed" in both, the CDA criterion on the structured dosage', async () => {
    const c = await convert({ bruk: VED_BEHOV, dosering: dosering(fast(TAB, { intervall: { v: '8', u: 'Time' } })) });
    expect(dosageOf(c)[0]).toMatchObject({ asNeededBoolean: true, timing: { repeat: { frequency: 1, period: 8, periodUnit: 'h' } } });
    expect(frequency(c)).toMatch(/xsi:type="PIVL_TS"[^>]*>\s*<period value="8" unit="h"\/>/);
    expect(item(c)).toMatch(/<precondition typeCode="PRCN">\s*<criterion classCode="OBS" moodCode="EVN.CRT">\s*<text>\s*<reference value="#dosage-1"\/>/);
    expect(c.cda).toContain('Dosage, as needed / Dosering ved behov');
    expect(c.cda).toMatch(/<td ID="dosage-1">/);
  });

  it('Bruk 1 (Fast) says nothing about as needed: no asNeededBoolean, no precondition', async () => {
    const c = await convert({ bruk: { code: '1', display: 'Fast' }, dosering: dosering(fast(TAB, { intervall: { v: '8', u: 'Time' } })) });
    expect(dosageOf(c)[0]?.asNeededBoolean).toBeUndefined();
    expect(item(c)).not.toContain('<precondition');
    expect(c.cda).not.toMatch(/as needed|Ved behov/i);
  });

  it('Kortdose that is not a split pattern adds no structure', async () => {
    const c = await convert({ kortdose: { code: '93', display: '1 daglig' } });
    expect(dosageOf(c)[0]?.timing).toBeUndefined();
    expect(frequency(c)).toMatch(/^<effectiveTime nullFlavor="UNK"\/>/);
  });
});
