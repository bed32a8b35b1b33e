// The eHDSI ePrescription Level 1 document: the Level 3 header around a readable PDF of the same
// prescription (bokmål by default, English on request), valid against CDA_Pharma.xsd, with hostile names
// drawn as inert text.
import { randomUUID } from 'node:crypto';
import { extractText, getDocumentProxy } from 'unpdf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import { memoryDrugRegistry, readFestRecords } from '../../src/eprescription/fest-memory.ts';
import { EHDSI_TEMPLATE } from '../../src/eprescription/emit-cda.ts';
import { convertM1, type Converted, type PipelineDeps } from '../../src/eprescription/pipeline.ts';
import { currentLevel1, importM1 } from '../../src/eprescription/service.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import type { Db } from '../../src/store/db.ts';
import { parseXml } from '../../src/xml/parse.ts';
import type { XmlElement } from '../../src/xml/element.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { buildM1, type DoseSpec } from './support/m1-builder.ts';
import { specFor } from './support/m1-spec.ts';
import { depsFor, fixture, preparedDb } from './support/pipeline.ts';

const V3 = 'urn:hl7-org:v3';
const NOW = new Date('2026-03-02T10:00:00+01:00');

function rootOf(cda: string): XmlElement {
  const parsed = parseXml(cda);
  if (!parsed.ok) throw new Error('the CDA does not parse');
  return parsed.value.root;
}

/** The PDF a Level 1 CDA carries, decoded from its nonXMLBody. */
function pdfOf(cda: string): Uint8Array {
  const text = rootOf(cda).child(V3, 'component')?.child(V3, 'nonXMLBody')?.child(V3, 'text');
  expect(text?.attr('mediaType')).toBe('application/pdf');
  expect(text?.attr('representation')).toBe('B64');
  return new Uint8Array(Buffer.from(text!.text, 'base64'));
}

async function textOf(pdf: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

/** A header element as written, to compare the two levels. */
const header = (cda: string, name: string): string => new RegExp(`<${name}[ >][\\s\\S]*?</${name}>`).exec(cda)?.[0] ?? '';

describe('eHDSI ePrescription Level 1', () => {
  let deps: PipelineDeps;
  let db: Db;
  beforeAll(async () => {
    db = await preparedDb('pglite');
    const stored = depsFor(db);
    deps = { ...stored, registries: { ...stored.registries, drugs: memoryDrugRegistry(await readFestRecords(DEMO_FEST_FILE)) } };
  });

  const convert = async (bytes: string | Uint8Array, level1: 'nb' | 'en', now = NOW): Promise<Converted & { cdaL1: string }> => {
    const r = await convertM1(bytes, deps, { now, level1 });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error('refused');
    const { cdaL1 } = r.value;
    if (!cdaL1) throw new Error('no Level 1 document');
    await expectSchemaValidCda([r.value.cda, cdaL1], ['Level 3', 'Level 1']);
    return { ...r.value, cdaL1 };
  };

  it('is the Level 3 header around a PDF naming the medicine, the dosage and the patient, in bokmål by default', async () => {
    const c = await convert(buildM1(specFor({ dosVeiledEnkel: '1 tablett morgen og 1 tablett kveld' })), 'nb');
    const l1 = rootOf(c.cdaL1);
    expect(l1.child(V3, 'templateId')?.attr('root')).toBe(EHDSI_TEMPLATE.ePrescriptionL1);
    expect(l1.child(V3, 'templateId')?.attr('root')).toBe('1.3.6.1.4.1.12559.11.10.1.3.1.1.6');
    expect(l1.child(V3, 'code')?.attr('code')).toBe('57833-6');
    expect(l1.child(V3, 'languageCode')?.attr('code')).toBe('nb-NO');
    expect(l1.child(V3, 'component')?.child(V3, 'structuredBody')).toBeUndefined();
    // Its id is the Level 3 document's, marked as Level 1.
    const l3Id = rootOf(c.cda).child(V3, 'id')!;
    expect(l1.child(V3, 'id')?.attr('root')).toBe(l3Id.attr('root'));
    expect(l1.child(V3, 'id')?.attr('extension')).toBe(`${l3Id.attr('extension')}.L1`);
    for (const part of ['recordTarget', 'author', 'custodian', 'legalAuthenticator', 'relatedDocument']) expect(header(c.cdaL1, part), part).toBe(header(c.cda, part));

    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain('Resept fra Norge');
    expect(text).toContain('Hydrokortison Orifarm Tab 10 mg');
    expect(text).toContain('1 tablett morgen og 1 tablett kveld');
    expect(text).toContain('Pasient: Ingrid Marie Solstad');
    expect(text).toContain('Gyldig til: 2027-03-01');
    expect(text).toContain('Bytte: Tillatt');
    // What one package holds, as the Level 3 narrative says it.
    const pakning = /<th>Package \/ Pakning<\/th>\s*<td>[^<]* \/ ([^<]*)<\/td>/.exec(c.cda)?.[1];
    expect(pakning).toBeTruthy();
    expect(text).toContain(`Pakning: ${pakning}`);
  });

  it('in English on request, the structured dosage and the substitution reserve in English', async () => {
    const behov: DoseSpec = { kind: 'behov', mengde: { v: '1', u: 'tablett' }, dognMaks: { v: '6', u: 'tablett' }, tidsromMaks: { v: '2', u: 'tablett' }, tidsrom: { v: '4', u: 'Time' }, intervallMin: { v: '4', u: 'Time' } };
    const spec = specFor({ dosVeiledEnkel: '1 tablett ved smerter, høyst 6 per døgn', dosering: [{ start: '2026-03-01', doses: [behov] }], bytteresRekvirent: true });
    const c = await convert(buildM1(spec), 'en');
    expect(rootOf(c.cdaL1).child(V3, 'languageCode')?.attr('code')).toBe('en-GB');
    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain('ePrescription from Norway');
    expect(text).toContain('Hydrokortison Orifarm Tab 10 mg');
    expect(text).toContain('Dosage, as needed: as needed: 1 Tablet, at most 6 Tablet per 24 hours');
    expect(text).toContain('1 tablett ved smerter, høyst 6 per døgn');
    expect(text).toContain('Substitution: Not allowed (the prescriber reserves against substitution)');
    // The same words the Level 3 narrative gives.
    expect(c.cda).toContain('as needed: 1 Tablet, at most 6 Tablet per 24 hours');
  });

  it('gives the birth date Level 3 derives from the fødselsnummer when the M1 has no DateOfBirth', async () => {
    // The official sample names the patient by fødselsnummer 21014605158 only; the population registry does not know her.
    const m1 = fixture('official', 'Lege endrer på legemiddelbehandling/M1 Resept.xml');
    expect(m1.toString('utf8')).not.toContain('DateOfBirth');
    const nb = await convert(m1, 'nb', new Date('2019-07-18T12:00:00+02:00'));
    const patient = nb.bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    expect(patient.birthDate).toBe('1946-01-21');
    expect(rootOf(nb.cda).child(V3, 'recordTarget')?.child(V3, 'patientRole')?.child(V3, 'patient')?.child(V3, 'birthTime')?.attr('value')).toBe('19460121');
    const nbText = await textOf(pdfOf(nb.cdaL1));
    expect(nbText).toContain('Født: 1946-01-21');
    expect(nbText).not.toContain('ikke oppgitt');
    const en = await convert(m1, 'en', new Date('2019-07-18T12:00:00+02:00'));
    expect(await textOf(pdfOf(en.cdaL1))).toContain('Date of birth: 1946-01-21');
  });

  it('names a prescriber the M1 gives by HPR number only with HPR\'s given and family names, alike in FHIR, Level 3 and the PDF', async () => {
    const m1 = fixture('pipeline', 'p03-forskriver-bare-hpr-nummer.xml');
    const hpr = /<HealthcareProfessional>\s*<Ident>\s*<Id>(\d+)<\/Id>/.exec(m1.toString('utf8'))?.[1];
    expect(m1.toString('utf8')).not.toMatch(/<HealthcareProfessional>[\s\S]*?<(FamilyName|GivenName)>[\s\S]*?<\/HealthcareProfessional>/);
    const person = await deps.registries.prescribers.byHpr(hpr!);
    if (!person) throw new Error('the demo HPR registry does not know the prescriber');
    expect(person.given.length).toBeGreaterThan(0);
    const c = await convert(m1, 'en', new Date('2026-02-17T10:00:00+01:00'));
    const practitioner = c.bundle.entry!.find((e) => e.resource?.resourceType === 'Practitioner')!.resource as Practitioner;
    expect(practitioner.name).toEqual([{ family: person.family, given: person.given }]);
    const l3 = rootOf(c.cda);
    const author = l3.child(V3, 'author')?.child(V3, 'assignedAuthor')?.child(V3, 'assignedPerson')?.child(V3, 'name');
    const signer = l3.child(V3, 'legalAuthenticator')?.child(V3, 'assignedEntity')?.child(V3, 'assignedPerson')?.child(V3, 'name');
    for (const name of [author, signer]) {
      expect(name?.attr('nullFlavor')).toBeUndefined();
      expect(name?.child(V3, 'family')?.text).toBe(person.family);
      expect(name?.children.filter((n) => n.name === 'given').map((n) => n.text)).toEqual(person.given);
    }
    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain(`Prescriber: ${[...person.given, person.family].join(' ')}`);
    expect(text).not.toContain('not stated');
  });

  it('draws the hostile persona\'s markup and right-to-left name as plain text: nothing runs, nothing reorders', async () => {
    const m1 = fixture('valid', '27-fiendtlige-navn.xml');
    expect(m1.toString('utf8')).toContain('<![CDATA[<script>alert("x")</script>]]>');
    const c = await convert(m1, 'nb', new Date('2026-02-11T10:00:00+01:00'));
    // In the CDA the PDF is base64: the names appear only in the escaped header.
    expect(c.cdaL1).not.toMatch(/<script|<img/i);
    expect(c.cdaL1).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const pdf = pdfOf(c.cdaL1);
    const raw = Buffer.from(pdf).toString('latin1');
    expect(raw).not.toMatch(/\/JavaScript|\/JS\b|\/OpenAction|\/Launch/);
    const text = await textOf(pdf);
    expect(text).toContain('<script>alert("x")</script>');
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(text).not.toContain('\u202E');
  });

  it('currentLevel1 (what the $ehdsi-cda?level=1 route calls) renders the stored Level 3 of an imported prescription', async () => {
    const spec = specFor({ dosVeiledEnkel: '2 tabletter morgen' });
    spec.msgId = randomUUID();
    const outcome = await importM1(db, buildM1(spec), deps, { now: NOW });
    if (outcome.kind !== 'created') throw new Error(`not created: ${outcome.kind}`);
    const l1 = await currentLevel1(db, outcome.row, deps, { dispensingsSoFar: 0, recalled: false, patientRestricted: false }, 'en', NOW);
    if (!l1) throw new Error('no Level 1 document');
    await expectSchemaValidCda(l1);
    const l3Id = rootOf(outcome.row.cdaXml!).child(V3, 'id')!.attr('extension');
    expect(rootOf(l1).child(V3, 'id')?.attr('extension')).toBe(`${l3Id}.L1`);
    const text = await textOf(pdfOf(l1));
    expect(text).toContain('2 tabletter morgen');
    expect(text).toContain('Hydrokortison Orifarm Tab 10 mg');
  });
});
