// What a conversion says, field by field, for the cases the corpus was written for: FEST enrichment by
// varenummer, a product FEST does not know, a prescriber known only by HPR number, a hospital prescriber who
// reserves against substitution, D-nummer, dispensings already made, registries that fail, and FEST's own
// group A/B refusing a product the M1 calls group C. And the validate step stopping a broken output.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Medication, MedicationRequest, Patient, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { PERSONAS } from '../../src/demo/personas.ts';
import { loadMappingTable, MAPPINGS_DIR, parseCsv, validateMappingTable } from '../../src/mappings/table.ts';
import { convertM1, type ChainFacts, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { CODE_SYSTEM, OID } from '../../src/fhir/identifiers.ts';
import type { DrugRegistry } from '../../src/registries/drugs.ts';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';

const NOW = new Date('2026-03-02T10:00:00+01:00');

describe('conversions, field by field', () => {
  let deps: PipelineDeps;
  beforeAll(async () => {
    const stored = depsFor(await preparedDb('pglite'));
    // Exactly the demo FEST extract, not the worker's shared store (other files load FEST fixtures into it).
    const drugs = memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE));
    deps = { ...stored, registries: { ...stored.registries, drugs } };
  });

  const convert = async (bytes: Uint8Array | string, facts: Partial<ChainFacts> = {}, d: PipelineDeps = deps) => {
    const r = await convertM1(bytes, d, { now: NOW, facts });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    return r.value;
  };
  const exported = async (bytes: Uint8Array | string, facts: Partial<ChainFacts> = {}, d: PipelineDeps = deps): Promise<Converted> => {
    const c = await convert(bytes, facts, d);
    if (!c.exportable) throw new Error(`refused: ${c.decision.reasons.map((r) => r.code).join(', ')}`);
    await expectSchemaValidCda(c.cda);
    return c;
  };
  const get = <T>(c: Converted, type: string): T => c.bundle.entry!.find((e) => e.resource?.resourceType === type)!.resource as T;
  const codes = (c: Converted) => c.warnings.map((w) => w.details?.coding?.[0]?.code);

  it('enriches a package FEST knows by varenummer: strength, substance, route, package, maker', async () => {
    const c = await exported(fixture('pipeline', 'p01-fest-pakning-merknad-tidligste-utlevering.xml'));
    expect(c.enrichment.matchedBy).toBe('varenr');
    const med = get<Medication>(c, 'Medication');
    expect(med.amount?.numerator).toEqual({ value: 100, unit: 'Tablet', system: 'http://standardterms.edqm.eu', code: '15054000' });
    expect(med.ingredient?.[0]).toMatchObject({ itemCodeableConcept: { text: 'Hydrocortisone' }, isActive: true, strength: { numerator: { value: 10, code: 'mg' } } });
    expect(med.manufacturer?.display).toBe('Orifarm');
    expect(med.code?.coding?.[0]?.system).toBe('http://ehelse.no/fhir/CodeSystem/FEST');
    const mr = get<MedicationRequest>(c, 'MedicationRequest');
    expect(mr.dosageInstruction?.[0]?.route?.coding?.[0]).toMatchObject({ system: 'http://standardterms.edqm.eu', code: '20053000', display: 'Oral use' });
    // TidligsteUtlevering wins over the prescription date for the start of validity.
    expect(mr.dispenseRequest?.validityPeriod).toEqual({ start: '2026-02-20', end: '2027-02-15' });
    expect(mr.note).toEqual([{ text: 'Pasienten skal reise til Spania i mars; utlever gjerne 3 pakninger samtidig.' }]);
    // No Sex in the message: the population registry says female.
    const patient = get<Patient>(c, 'Patient');
    expect(patient).toMatchObject({ gender: 'female', birthDate: PERSONAS.addison.birthDate });
    expect(c.cda).toContain('<code code="FINSTRUCT"');
    expect(c.cda).toContain('Pasienten skal reise til Spania i mars');
    expect(c.provenance.entity?.map((e) => e.what?.display)).toEqual(expect.arrayContaining([expect.stringMatching(/^FEST pakning/), 'Health Personnel Register (HPR)', 'Population registry']));
    // The omitted Norwegian-only fields travel nowhere.
    expect(JSON.stringify(c.bundle)).not.toContain('8143999');
    expect(c.cda).not.toContain('8143999');
  });

  it('converts a product FEST does not know from the M1 alone, with a warning; an amount instead of packages', async () => {
    const c = await exported(fixture('pipeline', 'p02-mengde-ukjent-i-fest-spesialitet.xml'));
    expect(c.enrichment.product).toBeUndefined();
    expect(codes(c)).toContain('FEST-UNKNOWN-PRODUCT');
    const mr = get<MedicationRequest>(c, 'MedicationRequest');
    expect(mr.dispenseRequest?.quantity).toEqual({ value: 200, unit: 'milliliter', system: 'http://unitsofmeasure.org', code: 'mL' });
    expect(mr.dosageInstruction?.[0]).toMatchObject({ asNeededBoolean: true, maxDosePerPeriod: { numerator: { value: 40, code: 'mL' }, denominator: { value: 1, code: 'd' } } });
    const med = get<Medication>(c, 'Medication');
    expect(med.code?.text).toBe('Paracetamol Orifarm Mikst 24 mg/ml');
    expect(med.ingredient ?? []).toEqual([]);
    expect(get<PractitionerRole>(c, 'PractitionerRole').specialty?.[0]?.coding?.[0]).toMatchObject({ system: CODE_SYSTEM.volven(7426), code: '1' });
    // 200 ml prescribed, packages of 200 ml: one package in the CDA supply.
    expect(c.cda).toMatch(/<supply classCode="SPLY" moodCode="RQO">[\s\S]*<quantity value="1" unit="1"\/>/);
  });

  it('describes a prescriber known only by HPR number from HPR; an unmapped dose unit stays Norwegian', async () => {
    const c = await exported(fixture('pipeline', 'p03-forskriver-bare-hpr-nummer.xml'));
    const hpr = await deps.registries.prescribers.byHpr('565501872');
    expect(get<Practitioner>(c, 'Practitioner').name).toEqual([{ family: hpr?.family, given: hpr?.given }]);
    expect(hpr?.given.length).toBeGreaterThan(0);
    expect(get<PractitionerRole>(c, 'PractitionerRole').code?.[0]?.coding?.[0]).toMatchObject({ code: '221', display: 'Medical doctors' });
    expect(c.cda).toMatch(/<functionCode code="221" codeSystem="2.16.840.1.113883.2.9.6.2.7"/);
    const dose = get<MedicationRequest>(c, 'MedicationRequest').dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity;
    expect(dose).toEqual({ value: 2, unit: 'dosetrinn' });
    expect(c.cda).toMatch(/<doseQuantity value="2" unit="1">\s*<translation value="2" code="87" codeSystem="2.16.578.1.12.4.1.1.7480" displayName="dosetrinn"\/>/);
    expect(codes(c)).toContain('unmapped-code');
  });

  it('states a reservation against substitution in both outputs, and a hospital prescriber by department', async () => {
    const c = await exported(fixture('pipeline', 'p04-sykehusavdeling-bytteforbud-pasienttelefon.xml'));
    expect(get<MedicationRequest>(c, 'MedicationRequest').substitution).toEqual({ allowedBoolean: false });
    expect(c.cda).toMatch(/<code code="SUBST" codeSystem="2.16.840.1.113883.5.6"[^>]*\/>\s*<value xsi:type="CE" code="N"/);
    expect(c.cda).toContain('Not allowed');
    expect(get<Practitioner>(c, 'Practitioner').identifier).toContainEqual({ system: OID.hpr, value: '565502011' });
    expect(c.cda).toContain('<streetAddressLine>Haukelandsveien 22</streetAddressLine>');
    expect(c.cda).toContain('<telecom value="tel:+4791234567"');
    expect(c.cda).toMatch(/<effectiveTime operator="A" xsi:type="PIVL_TS" institutionSpecified="false">\s*<period value="4" unit="wk"\/>/);
    expect(c.cda).toContain('<high value="20260818"/>');
  });

  it('names a D-nummer patient with the D-nummer system and the birth date and sex the message gives', async () => {
    const c = await exported(fixture('valid', '26-d-nummer.xml'));
    const p = get<Patient>(c, 'Patient');
    expect(p.identifier?.[0]?.system).toBe(OID.dnr);
    expect(p.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(p.gender).toMatch(/^(male|female)$/);
    expect(c.cda).toContain(`root="2.16.578.1.12.4.1.4.2"`);
  });

  it('keeps hostile names as data: JSON text in the Bundle, escaped markup in the CDA', async () => {
    const c = await exported(fixture('valid', '27-fiendtlige-navn.xml'));
    const raw = readFileSync(new URL('../fixtures/m1/valid/27-fiendtlige-navn.xml', import.meta.url), 'utf8');
    expect(raw).toMatch(/&lt;|<!\[CDATA\[/);
    expect(c.cda).not.toMatch(/<script|<img|<Injected/i);
    expect(c.cda).toContain('&lt;script&gt;');
  });

  it('states the dispensings remaining, and refuses when none are left', async () => {
    const m1 = fixture('valid', '01-pakning-hydrokortison.xml'); // Reiterasjon 3: four dispensings
    const after2 = await exported(m1, { dispensingsSoFar: 2 });
    expect(get<MedicationRequest>(after2, 'MedicationRequest').dispenseRequest?.numberOfRepeatsAllowed).toBe(1);
    expect(after2.cda).toContain('<repeatNumber value="2"/>');
    expect(after2.cda).toContain('2 of 4');
    const spent = await convert(m1, { dispensingsSoFar: 4 });
    expect(spent.exportable).toBe(false);
    expect(spent.decision.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-NO-DISPENSINGS-LEFT']);
    const restricted = await convert(m1, { patientRestricted: true, recalled: true });
    expect(restricted.decision.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-RECALLED', 'NO-EXPORT-PATIENT-RESTRICTION']);
  });

  it("refuses a product FEST lists in group A even when the M1 says group C", async () => {
    const m1 = fixture('valid', '01-pakning-hydrokortison.xml').toString('utf8').replace('<Varenr>581537</Varenr>', '<Varenr>068921</Varenr>');
    const c = await convert(m1);
    expect(c.exportable).toBe(false);
    // The hydrocortisone M1 now names another product's varenummer, so it contradicts itself as well.
    expect(c.decision.reasons).toEqual([
      expect.objectContaining({ code: 'NO-EXPORT-GROUP-A', detail: expect.objectContaining({ en: 'FEST lists the product in prescription group A.' }) }),
      expect.objectContaining({ code: 'NO-EXPORT-PRODUCT-MISMATCH' }),
    ]);
  });

  it('refuses an M1 whose varenummer FEST knows as another product, rather than mixing the two', async () => {
    // Zocor by name and ATC, with the varenummer of a paracetamol package: the audit's a33.
    const base = fixture('pipeline', 'p01-fest-pakning-merknad-tidligste-utlevering.xml').toString('utf8');
    const paracetVarenr = '017454';
    expect((await deps.registries.drugs.byVarenr(paracetVarenr))?.atc?.code).toBe('N02BE01');
    const zocor = base
      .replace('<Varenr>138545</Varenr>', `<Varenr>${paracetVarenr}</Varenr>`)
      .replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Zocor Tab 40 mg</NavnFormStyrke>')
      .replace(/<Atc [^>]*\/>/, '<Atc V="C10AA01" S="2.16.578.1.12.4.1.1.7180" DN="Simvastatin"/>');
    const c = await convert(zocor);
    expect(c.exportable).toBe(false);
    expect(c.decision.reasons).toEqual([
      expect.objectContaining({
        code: 'NO-EXPORT-PRODUCT-MISMATCH',
        detail: { nb: 'Resepten oppgir ATC C10AA01; FEST har N02BE01 for varenummeret.', en: 'The prescription names ATC C10AA01; FEST has N02BE01 for its varenummer.' },
        expression: ['MsgHead.Document.RefDoc.Content.Resept.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning'],
      }),
    ]);
    // Same substance, another strength than FEST lists for the package: also a contradiction.
    const stronger = base.replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Hydrokortison Orifarm Tab 20 mg</NavnFormStyrke>');
    const s = await convert(stronger);
    expect(s.decision.reasons.map((r) => r.code)).toEqual(['NO-EXPORT-PRODUCT-MISMATCH']);
    expect(s.decision.reasons[0]?.detail?.en).toBe('The prescription names strength 20 mg; FEST has 10 mg for its varenummer.');
    // The prescription as written, FEST's own product, is no contradiction; nor is the name without its brand.
    expect((await convert(base)).decision.reasons.map((r) => r.code)).not.toContain('NO-EXPORT-PRODUCT-MISMATCH');
    const plain = base.replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Hydrokortison Tab 10 mg</NavnFormStyrke>');
    expect((await convert(plain)).decision.reasons.map((r) => r.code)).not.toContain('NO-EXPORT-PRODUCT-MISMATCH');
  });

  it('refuses a product FEST does not know when its ATC code is in a class of narcotic or habit-forming medicines', async () => {
    // The M1 calls it group C; only FEST could confirm that, and FEST does not know varenummer 996655.
    const oxycodone = fixture('valid', '01-pakning-hydrokortison.xml')
      .toString('utf8')
      .replace('<Varenr>581537</Varenr>', '<Varenr>996655</Varenr>')
      .replace(/<Atc [^>]*\/>/, '<Atc V="N02AA05" S="2.16.578.1.12.4.1.1.7180" DN="Oksykodon"/>');
    const c = await convert(oxycodone);
    expect(c.exportable).toBe(false);
    expect(c.decision.reasons).toEqual([
      expect.objectContaining({
        code: 'NO-EXPORT-CONTROLLED-UNVERIFIED',
        detail: { nb: 'ATC N02AA05.', en: 'ATC N02AA05.' },
        expression: ['MsgHead.Document.RefDoc.Content.Resept.ReseptDokLegemiddel.Forskrivning.Legemiddelpakning.Atc'],
      }),
    ]);
    // The same unknown product with an ATC code outside those classes converts, with FEST's silence warned of.
    const unknownPlain = fixture('valid', '01-pakning-hydrokortison.xml').toString('utf8').replace('<Varenr>581537</Varenr>', '<Varenr>996655</Varenr>');
    expect((await convert(unknownPlain)).exportable).toBe(true);
  });

  it('states no route when FEST lists several and the M1 names none: a pharmacist abroad reads one route as the route', async () => {
    // Solu-Cortef: FEST lists intravenous and intramuscular; the emergency kit is injected into the thigh.
    const soluCortef = fixture('pipeline', 'p01-fest-pakning-merknad-tidligste-utlevering.xml')
      .toString('utf8')
      .replace('<Varenr>138545</Varenr>', '<Varenr>024592</Varenr>')
      .replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Solu-Cortef Pulv/væske til inj 100 mg</NavnFormStyrke>');
    expect((await deps.registries.drugs.byVarenr('024592'))?.routes.map((r) => r.code)).toEqual(['43', '33']);
    const c = await exported(soluCortef);
    expect(get<MedicationRequest>(c, 'MedicationRequest').dosageInstruction?.every((d) => d.route === undefined)).toBe(true);
    expect(c.cda).not.toContain('<routeCode');
    // A product with one route keeps it (the hydrocortisone tablets: oral use), as the enrichment test above shows.
  });

  it('keeps direction overrides out of the narrative the pharmacist abroad reads', async () => {
    const m1 = fixture('pipeline', 'p01-fest-pakning-merknad-tidligste-utlevering.xml')
      .toString('utf8')
      .replace(/<DosVeiledEnkel>([^<]*)<\/DosVeiledEnkel>/, '<DosVeiledEnkel>\u202E$1</DosVeiledEnkel>');
    expect(m1).toContain('\u202E');
    const c = await exported(m1);
    const narrative = /<text>[\s\S]*?<\/text>/.exec(c.cda)![0];
    expect(narrative).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('still converts when registries fail, saying which', async () => {
    const broken: DrugRegistry = {
      byVarenr: () => Promise.reject(new Error('down')),
      byFestId: () => Promise.reject(new Error('down')),
    };
    const failing: PipelineDeps = {
      ...deps,
      registries: {
        drugs: broken,
        prescribers: { byHpr: () => Promise.reject(new Error('down')) },
        population: { byPersonNumber: () => Promise.reject(new Error('down')) },
      },
    };
    const c = await exported(fixture('valid', '01-pakning-hydrokortison.xml'), {}, failing);
    expect(codes(c)).toEqual(expect.arrayContaining(['FEST-UNAVAILABLE', 'HPR-UNAVAILABLE', 'REG-UNAVAILABLE']));
    // Without the registry the birth date comes from the fødselsnummer itself.
    expect(get<Patient>(c, 'Patient').birthDate).toBe(PERSONAS.addison.birthDate);
  });

  it('refuses to hand out an output that fails validation (here: a table that lost the prescription date)', async () => {
    const csv = readFileSync(`${MAPPINGS_DIR}m1-to-mpd-fhir.csv`, 'utf8').replace('Resept/Forskrivningsdato,MedicationRequest.authoredOn', 'Resept/Utstedt,MedicationRequest.authoredOn');
    const { table } = validateMappingTable('m1-to-mpd-fhir', parseCsv(csv));
    const r = await convertM1(fixture('valid', '01-pakning-hydrokortison.xml'), { ...deps, tables: { fhir: table!, cda: loadMappingTable('m1-to-ehdsi-cda') } }, { now: NOW });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.status).toBe(422);
    expect(r.problem.issues.map((i) => i.diagnostics)).toContain('MedicationRequest-eu-mpd: MedicationRequest.authoredOn is required');
  });
});
