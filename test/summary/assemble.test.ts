import type { Bundle, Composition, CompositionSection, Condition, Resource } from '@medplum/fhirtypes';
import { recordId } from '../../src/fhir/resource-id.ts';
import { describe, expect, it } from 'vitest';
import { OID } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { assembleSummary, referencesIn, SUMMARY_ISSUE_SYSTEM, type AssembleInput } from '../../src/summary/assemble.ts';
import type { SourceResult } from '../../src/summary/fetch-all.ts';
import { searchMapped } from '../../src/summary/resources.ts';
import { pickLanguage } from '../../src/summary/sections.ts';
import { validateIpsDocument } from '../support/ips-validate.ts';
import { counterIds, demoResults, personaResource } from '../fixtures/summary/results.ts';
import type { PersonaKey } from '../../src/demo/personas.ts';

const NOW = new Date('2026-11-23T09:30:00Z');
const operator = { name: 'Norsk helsenett SF', orgnr: '994598759' };

function build(key: PersonaKey, over: Partial<AssembleInput> = {}) {
  return assembleSummary({ patient: personaResource(key), sourceResults: demoResults(key), lang: 'nb', now: NOW, operator, newId: counterIds(), ...over });
}
const compositionOf = (b: Bundle): Composition => b.entry![0]!.resource as Composition;
const section = (b: Bundle, loinc: string): CompositionSection | undefined => compositionOf(b).section?.find((s) => s.code?.coding?.[0]?.code === loinc);
const resolve = (b: Bundle, ref: string | undefined): Resource | undefined => b.entry?.find((e) => e.fullUrl === ref)?.resource;
const expectValid = (b: Bundle): void => {
  const v = validateIpsDocument(b);
  expect(v.errors).toEqual([]);
};
const replace = (results: SourceResult[], r: SourceResult): SourceResult[] => results.map((x) => (x.source === r.source ? r : x));

describe('assembleSummary: document frame', () => {
  it('builds an IPS document: identifier, timestamp, Composition first with author Device and custodian', () => {
    const { bundle } = build('ms');
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'document', timestamp: NOW.toISOString() });
    expect(bundle.identifier).toMatchObject({ system: 'urn:ietf:rfc:3986', value: expect.stringMatching(/^urn:uuid:/) });
    const c = compositionOf(bundle);
    expect(c).toMatchObject({ status: 'final', date: NOW.toISOString(), title: 'Pasientsammendrag', language: 'nb' });
    expect(c.type.coding?.[0]).toMatchObject({ system: 'http://loinc.org', code: '60591-5' });
    expect(resolve(bundle, c.subject?.reference)?.resourceType).toBe('Patient');
    expect(resolve(bundle, c.author[0]?.reference)).toMatchObject({ resourceType: 'Device', deviceName: [{ name: 'Helsebro' }] });
    expect(resolve(bundle, c.custodian?.reference)).toMatchObject({ resourceType: 'Organization', name: operator.name, identifier: [{ system: OID.orgnr, value: operator.orgnr }] });
    expectValid(bundle);
  });

  it('puts every resource under a urn:uuid and rewrites every reference to one', () => {
    const { bundle } = build('knee');
    for (const e of bundle.entry ?? []) {
      expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(e.fullUrl).toBe(`urn:uuid:${e.resource!.id}`);
      for (const ref of referencesIn(e.resource)) expect(resolve(bundle, ref), ref).toBeDefined();
    }
    expect(JSON.stringify(bundle)).not.toContain('"Patient/knee"');
  });

  it('includes a Medication or Device only because an entry points at it', () => {
    const { bundle } = build('ms');
    const types = (bundle.entry ?? []).map((e) => e.resource!.resourceType);
    expect(types.filter((t) => t === 'Medication')).toHaveLength(2);
    // the implant's Device plus Helsebro itself as author
    expect(types.filter((t) => t === 'Device')).toHaveLength(2);
  });

  it('drops a reference to something that is not in the document, keeping its display', () => {
    const results = demoResults('nodata');
    const withAsserter: Condition = {
      resourceType: 'Condition',
      id: 'c1',
      meta: { tag: [{ system: 'https://helsebro.no/fhir/CodeSystem/summary-source', code: 'npr' }] },
      code: { text: 'Hodepine' },
      subject: { reference: 'Patient/nodata' },
      asserter: { reference: 'Practitioner/somewhere', display: 'Dr. Hansen' },
    };
    const { bundle } = build('nodata', { sourceResults: replace(results, { source: 'npr', status: 'ok', resources: [withAsserter] }) });
    const c = bundle.entry!.find((e) => e.resource?.resourceType === 'Condition')!.resource as Condition;
    expect(c.asserter).toEqual({ display: 'Dr. Hansen' });
    expectValid(bundle);
  });

  it('leaves no empty element where a dropped reference was all there was', () => {
    const results = demoResults('nodata');
    const bare: Condition = {
      resourceType: 'Condition',
      id: 'c2',
      meta: { tag: [{ system: 'https://helsebro.no/fhir/CodeSystem/summary-source', code: 'npr' }] },
      code: { text: 'Hodepine' },
      subject: { reference: 'Patient/nodata' },
      asserter: { reference: 'Practitioner/somewhere' },
    };
    const { bundle } = build('nodata', { sourceResults: replace(results, { source: 'npr', status: 'ok', resources: [bare] }) });
    const c = bundle.entry!.find((e) => e.resource?.resourceType === 'Condition')!.resource as Condition;
    expect(c).not.toHaveProperty('asserter');
    expect(c.subject?.reference).toMatch(/^urn:uuid:/);
    expectValid(bundle);
  });

  it('is deterministic for the same input and ids', () => {
    expect(JSON.stringify(build('knee').bundle)).toBe(JSON.stringify(build('knee').bundle));
  });
});

describe('assembleSummary: sections and emptyReason', () => {
  it('gives the patient with no data the three required sections, unavailable, naming the sources asked', () => {
    const { bundle, warnings } = build('nodata', { lang: 'en' });
    const sections = compositionOf(bundle).section!;
    expect(sections.map((s) => s.code?.coding?.[0]?.code)).toEqual(['11450-4', '48765-2', '10160-0']);
    for (const s of sections) {
      expect(s.entry).toBeUndefined();
      expect(s.emptyReason).toEqual({
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }],
        text: 'No information available',
      });
      expect(s.text?.div).toContain('No information was found in the sources asked');
    }
    expect(sections[0]!.text?.div).toContain('Kjernejournal (critical information): answered');
    expect(sections[0]!.text?.div).toContain('Norwegian Patient Registry (NPR): answered');
    expect(sections[2]!.text?.div).toContain('medication list (PLL): answered');
    expect(warnings).toEqual([]);
    expectValid(bundle);
  });

  it.each([
    ['timeout', 'did not answer in time', 'source-timeout'],
    ['failed', 'could not be reached', 'source-failed'],
    ['malformed', 'answered with content that could not be read', 'source-malformed'],
  ] as const)('marks the sections of a Kjernejournal that %s as unavailable and warns, keeping the other sources', (status, phrase, code) => {
    const results = replace(demoResults('ms'), { source: 'kjernejournal', status, message: 'x' });
    const { bundle, warnings } = build('ms', { sourceResults: results, lang: 'en' });
    const allergies = section(bundle, '48765-2')!;
    expect(allergies.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    expect(allergies.emptyReason?.text).toBe('Source unavailable: Kjernejournal (critical information)');
    expect(allergies.text?.div).toContain('Absence of information here does not mean the patient has none');
    // Alerts and implants come only from Kjernejournal: present, to say they could not be checked.
    expect(section(bundle, '104605-1')?.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    expect(section(bundle, '46264-8')?.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    // Problems still list the registry diagnoses, and say Kjernejournal is missing.
    const problems = section(bundle, '11450-4')!;
    expect(problems.entry?.length).toBe(3);
    expect(problems.text?.div).toMatch(/Kjernejournal \(critical information\): (did not answer in time|was not available|gave an answer that could not be read)/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: 'warning', code: 'incomplete', details: { coding: [{ system: SUMMARY_ISSUE_SYSTEM, code }] } });
    expect(warnings[0]!.diagnostics).toContain(`Kjernejournal (critical information) ${phrase}`);
    expect(warnings[0]!.expression).toContain('Bundle.entry[0].resource.section[1]');
    expectValid(bundle);
  });

  it('withholds what the access rules withhold: a whole source, or a section by key or LOINC code', () => {
    const { bundle, warnings } = build('knee', { withheld: { sources: { 'medication-list': 'ACCESS-GUARDIAN-RESERVED' }, sections: { '11450-4': 'ACCESS-RESTRICTED' } } });
    const meds = section(bundle, '10160-0')!;
    expect(meds.emptyReason?.coding?.[0]?.code).toBe('withheld');
    expect(meds.entry).toBeUndefined();
    const problems = section(bundle, '11450-4')!;
    expect(problems.emptyReason?.coding?.[0]?.code).toBe('withheld');
    expect(problems.text?.div).toContain('holdt tilbake: pasienten har begrenset tilgangen til disse opplysningene');
    expect(bundle.entry!.some((e) => e.resource?.resourceType === 'MedicationStatement' || e.resource?.resourceType === 'Condition')).toBe(false);
    expect(warnings).toContainEqual(expect.objectContaining({ severity: 'information', code: 'suppressed', details: expect.objectContaining({ coding: [expect.objectContaining({ code: 'source-withheld' })] }) }));
    expectValid(bundle);
  });

  it("withholds Kjernejournal for the reserved patient and shows the other sources' content", () => {
    const { bundle, warnings } = build('reserved');
    expect(section(bundle, '48765-2')?.emptyReason?.coding?.[0]?.code).toBe('withheld');
    expect(section(bundle, '48765-2')?.text?.div).toContain('pasienten har reservert seg mot kjernejournal');
    expect(section(bundle, '10160-0')?.entry).toHaveLength(1);
    expect(section(bundle, '11450-4')?.entry).toHaveLength(1);
    expect(JSON.stringify(bundle)).not.toContain('Skalldyr');
    expect(warnings.map((w) => w.code)).toEqual(['suppressed']);
    expectValid(bundle);
  });

  it('says notasked for a required section whose sources were not asked at all', () => {
    const onlyNpr = demoResults('ms').filter((r) => r.source === 'npr');
    const { bundle } = build('ms', { sourceResults: onlyNpr, lang: 'en' });
    expect(section(bundle, '48765-2')?.emptyReason).toMatchObject({ coding: [{ code: 'notasked' }], text: 'No source was asked' });
    expect(section(bundle, '48765-2')?.text?.div).toContain('No source for this section was asked.');
    expect(section(bundle, '11450-4')?.entry).toHaveLength(3);
    expectValid(bundle);
  });

  it('leaves out optional sections with nothing to say and never asserts nilknown', () => {
    const { bundle } = build('addison');
    const codes = compositionOf(bundle).section!.map((s) => s.code?.coding?.[0]?.code);
    expect(codes).toEqual(['11450-4', '48765-2', '10160-0', '104605-1']);
    expect(JSON.stringify(bundle)).not.toContain('nilknown');
  });

  it('lists Kjernejournal critical information before registry diagnoses', () => {
    const { bundle } = build('addison');
    const problems = section(bundle, '11450-4')!.entry!.map((e) => resolve(bundle, e.reference) as Condition);
    expect(problems.map((c) => c.meta?.tag?.[0]?.code)).toEqual(['kjernejournal', 'npr']);
  });
});

describe('assembleSummary: narrative', () => {
  it('shows the aggregated migraine as in the concept sketch, in Norwegian and in English', () => {
    const nb = section(build('ms').bundle, '11450-4')!.text!.div;
    expect(nb).toContain('<td>Migrene uten aura</td><td>ICD-10 G43.0</td><td>11.03.1993 &#8211; 31.10.2024, 21 oppføringer</td>');
    const en = section(build('ms', { lang: 'en' }).bundle, '11450-4')!.text!.div;
    expect(en).toContain('<td>Migraine without aura</td><td>ICD-10 G43.0</td><td>1993-03-11 &#8211; 2024-10-31, 21 episodes</td>');
    expect(en).toContain('lang="en"');
  });

  it('shows allergies with criticality and the KI certainty level', () => {
    const knee = section(build('knee').bundle, '48765-2')!.text!.div;
    expect(knee).toContain('NSAID (ibuprofen og lignende)');
    // The same severity field as the clinician view (src/sections/allergies), worded by src/fhir/display-texts.ts.
    expect(knee).toContain('<th>Alvorlighetsgrad</th><th>Sikkerhet</th>');
    expect(knee).toContain('<td>Lav kritikalitet, moderat reaksjon</td><td>sannsynlig</td>');
    const addisonEn = section(build('addison', { lang: 'en' }).bundle, '48765-2')!.text!.div;
    expect(addisonEn).toContain('<th>Severity</th><th>Certainty</th>');
    expect(addisonEn).toMatch(/<td>High criticality, severe reaction<\/td><td>confirmed<\/td>/);
    expect(addisonEn).toContain('ATC J01CE02');
  });

  it('shows medicines with their ATC substance and dosage', () => {
    const div = section(build('addison', { lang: 'en' }).bundle, '10160-0')!.text!.div;
    expect(div).toContain('<td>Hydrokortison Orifarm tab 10 mg</td><td>H02AB09 (hydrocortisone)</td>');
    expect(div).toContain('Dobbel dose ved feber');
  });

  it('escapes hostile text everywhere and still validates', () => {
    const { bundle } = build('hostile');
    const divs = [compositionOf(bundle).text!.div, ...compositionOf(bundle).section!.map((s) => s.text!.div)];
    for (const div of divs) {
      expect(div).not.toMatch(/<script|<img|<svg|<\/td><\/tr><\/table><script/);
    }
    expect(divs.join('')).toContain('&lt;script&gt;alert(&quot;kj&quot;)&lt;/script&gt;');
    expect(divs[0]).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The control character in the reaction text is not valid FHIR and is gone from the data too.
    expect(JSON.stringify(bundle)).not.toContain('\u0007');
    expectValid(bundle);
  });
});

describe('searchMapped', () => {
  it('serves plain searches from the same mapped resources, with local ids and Patient references', () => {
    const conditions = searchMapped('Condition', demoResults('knee')) as Condition[];
    expect(conditions.map((c) => c.code?.coding?.[0]?.code ?? c.code?.text).sort()).toEqual([
      'F41.0',
      'K86',
      'Kraftig postoperativ kvalme og forlenget oppvåkning etter inhalasjonsanestesi (2021)',
      'M17.1',
      'T93',
    ]);
    expect(conditions.every((c) => c.subject?.reference === 'Patient/knee')).toBe(true);
    expect(conditions.map((c) => c.id)).toContain(recordId('knee', 'registry-condition', 'icd10-M17.1'));
  });

  it('answers nothing for types the summary does not hold, and nothing from a withheld source', () => {
    expect(searchMapped('Observation', demoResults('knee'))).toEqual([]);
    expect(searchMapped('MedicationStatement', demoResults('knee'), { sources: { 'medication-list': 'ACCESS-RESTRICTED' } })).toEqual([]);
    expect(searchMapped('AllergyIntolerance', demoResults('reserved'))).toEqual([]);
  });
});

describe('pickLanguage', () => {
  it.each([
    [undefined, 'nb'],
    ['en', 'en'],
    ['en-GB,en;q=0.9', 'en'],
    ['nb-NO, en;q=0.5', 'nb'],
    ['de, en;q=0.3', 'en'],
    ['fr', 'nb'],
    ['en;q=0, nb', 'nb'],
    ['nn', 'nb'],
  ])('%s -> %s', (header, lang) => {
    expect(pickLanguage(header)).toBe(lang);
  });
});

describe('demo personas as documents (pure)', () => {
  it.each(Object.keys(PERSONAS) as PersonaKey[])('%s validates in Norwegian and English', (key) => {
    expectValid(build(key).bundle);
    expectValid(build(key, { lang: 'en' }).bundle);
  });
});
