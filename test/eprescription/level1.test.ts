// The eHDSI ePrescription Level 1 document: the Level 3 header around a readable PDF of the same
// prescription, in English and bokmål side by side like the Level 3 narrative (whoever asks), valid against
// CDA_Pharma.xsd, with names drawn letter for letter and hostile names drawn as inert text.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import fontkit from '@pdf-lib/fontkit';
import { PDFDict, PDFDocument, PDFName, PDFRawStream, PDFRef } from 'pdf-lib';
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

/** The embedded font programs of a PDF (FontFile2 streams, inflated), by BaseFont; a standard font has none. */
async function fontsOf(pdf: Uint8Array): Promise<Map<string, Uint8Array | undefined>> {
  const doc = await PDFDocument.load(pdf);
  const out = new Map<string, Uint8Array | undefined>();
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFDict) || obj.get(PDFName.of('Type')) !== PDFName.of('Font') || obj.get(PDFName.of('Subtype')) === PDFName.of('CIDFontType2')) continue;
    const name = obj.get(PDFName.of('BaseFont'))?.toString() ?? '';
    const descendants = obj.lookup(PDFName.of('DescendantFonts'));
    const cid = descendants && 'get' in descendants ? doc.context.lookup((descendants as unknown as { get(i: number): PDFRef }).get(0)) : undefined;
    const descriptor = cid instanceof PDFDict ? cid.lookup(PDFName.of('FontDescriptor')) : undefined;
    const file = descriptor instanceof PDFDict ? descriptor.lookup(PDFName.of('FontFile2')) : undefined;
    out.set(name, file instanceof PDFRawStream ? new Uint8Array(inflateSync(file.contents)) : undefined);
  }
  return out;
}

const DEJAVU = fontkit.create(new Uint8Array(readFileSync(new URL('../../src/pdf/fonts/DejaVuSans.ttf', import.meta.url))));

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

  const convert = async (bytes: string | Uint8Array, now = NOW): Promise<Converted & { cdaL1: string }> => {
    const r = await convertM1(bytes, deps, { now, level1: true });
    if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
    if (!r.value.exportable) throw new Error('refused');
    const { cdaL1 } = r.value;
    if (!cdaL1) throw new Error('no Level 1 document');
    await expectSchemaValidCda([r.value.cda, cdaL1], ['Level 3', 'Level 1']);
    return { ...r.value, cdaL1 };
  };

  it('is the Level 3 header around a PDF naming the medicine, the dosage and the patient, in English and bokmål', async () => {
    const c = await convert(buildM1(specFor({ dosVeiledEnkel: '1 tablett morgen og 1 tablett kveld' })));
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
    expect(text).toContain('ePrescription from Norway / Resept fra Norge');
    expect(text).toContain('Medicine / Legemiddel: Hydrokortison Orifarm Tab 10 mg');
    expect(text).toContain('Dosage as the prescriber wrote it (Norwegian) / Dosering slik forskriver skrev den: 1 tablett morgen og 1 tablett kveld');
    expect(text).toContain('Patient / Pasient: Ingrid Marie Solstad');
    expect(text).toContain('Valid until / Gyldig til: 2027-03-01');
    expect(text).toContain('Substitution / Bytte: Allowed / Tillatt');
    // What one package holds, as the Level 3 narrative says it, in both languages.
    const pakning = /<th>Package \/ Pakning<\/th>\s*<td>([^<]* \/ [^<]*)<\/td>/.exec(c.cda)?.[1];
    expect(pakning).toBeTruthy();
    expect(text).toContain(`Package / Pakning: ${pakning}`);
    expect(text).toContain('Made by Helsebro from the Norwegian ePrescription');
    expect(text).toContain('Laget av Helsebro fra den norske e-resepten');
  });

  it('gives the structured dosage on a line in each language, and the substitution reserve in both', async () => {
    const behov: DoseSpec = { kind: 'behov', mengde: { v: '1', u: 'tablett' }, dognMaks: { v: '6', u: 'tablett' }, tidsromMaks: { v: '2', u: 'tablett' }, tidsrom: { v: '4', u: 'Time' }, intervallMin: { v: '4', u: 'Time' } };
    const spec = specFor({ dosVeiledEnkel: '1 tablett ved smerter, høyst 6 per døgn', dosering: [{ start: '2026-03-01', doses: [behov] }], bytteresRekvirent: true });
    const c = await convert(buildM1(spec));
    // The prescription's language, as Level 3 says it: the PDF is bilingual, the document Norwegian.
    expect(rootOf(c.cdaL1).child(V3, 'languageCode')?.attr('code')).toBe(rootOf(c.cda).child(V3, 'languageCode')?.attr('code'));
    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain('Hydrokortison Orifarm Tab 10 mg');
    expect(text).toContain('Dosage, as needed: as needed: 1 Tablet, at most 6 Tablet per 24 hours');
    // The same words the Level 3 narrative gives, English then bokmål.
    const nb = /as needed: 1 Tablet, at most 6 Tablet per 24 hours[^<]*<br\/>\s*([^<]+?)\s*</.exec(c.cda)?.[1];
    expect(nb).toMatch(/ved behov/i);
    expect(text).toContain(`Dosering ved behov: ${nb}`);
    expect(text).toContain('1 tablett ved smerter, høyst 6 per døgn');
    expect(text).toContain('Substitution / Bytte: Not allowed (the prescriber reserves against substitution) / Ikke tillatt (forskriver har reservert seg mot bytte)');
  });

  it('gives the birth date Level 3 derives from the fødselsnummer when the M1 has no DateOfBirth', async () => {
    // The official sample names the patient by fødselsnummer 21014605158 only; the population registry does not know her.
    const m1 = fixture('official', 'Lege endrer på legemiddelbehandling/M1 Resept.xml');
    expect(m1.toString('utf8')).not.toContain('DateOfBirth');
    const c = await convert(m1, new Date('2019-07-18T12:00:00+02:00'));
    const patient = c.bundle.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
    expect(patient.birthDate).toBe('1946-01-21');
    expect(rootOf(c.cda).child(V3, 'recordTarget')?.child(V3, 'patientRole')?.child(V3, 'patient')?.child(V3, 'birthTime')?.attr('value')).toBe('19460121');
    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain('Date of birth / Født: 1946-01-21');
    expect(text).not.toContain('not stated / ikke oppgitt');
  });

  it('names a prescriber the M1 gives by HPR number only with HPR\'s given and family names, alike in FHIR, Level 3 and the PDF', async () => {
    const m1 = fixture('pipeline', 'p03-forskriver-bare-hpr-nummer.xml');
    const hpr = /<HealthcareProfessional>\s*<Ident>\s*<Id>(\d+)<\/Id>/.exec(m1.toString('utf8'))?.[1];
    expect(m1.toString('utf8')).not.toMatch(/<HealthcareProfessional>[\s\S]*?<(FamilyName|GivenName)>[\s\S]*?<\/HealthcareProfessional>/);
    const person = await deps.registries.prescribers.byHpr(hpr!);
    if (!person) throw new Error('the demo HPR registry does not know the prescriber');
    expect(person.given.length).toBeGreaterThan(0);
    const c = await convert(m1, new Date('2026-02-17T10:00:00+01:00'));
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
    expect(text).toContain(`Prescriber / Forskriver: ${[...person.given, person.family].join(' ')}`);
    expect(text).not.toContain('not stated');
  });

  it('draws the hostile persona\'s markup and right-to-left name as plain text: nothing runs, nothing reorders', async () => {
    const m1 = fixture('valid', '27-fiendtlige-navn.xml');
    expect(m1.toString('utf8')).toContain('<![CDATA[<script>alert("x")</script>]]>');
    const c = await convert(m1, new Date('2026-02-11T10:00:00+01:00'));
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

  // The D-nummer fixture's patient (unknown to the population registry, so named as the message names her),
  // renamed: a Polish name as D-nummer holders often have, and a Northern and Skolt Sámi one written with
  // combining accents (NFD), as some systems send them.
  const renamed = (given: string, family: string): Buffer =>
    Buffer.from(
      fixture('valid', '26-d-nummer.xml')
        .toString('utf8')
        .replace('<FamilyName>Kowalski</FamilyName>', `<FamilyName>${family}</FamilyName>`)
        .replace('<GivenName>Marta</GivenName>', `<GivenName>${given}</GivenName>`),
      'utf8',
    );
  const D_NUMMER_NOW = new Date('2026-02-11T10:00:00+01:00');

  it('draws Polish and Sámi names letter for letter (embedded font, NFC), as Level 3 spells them', async () => {
    for (const [given, family] of [
      ['Zofia', 'Wiśniewska'],
      ['Ma\u0301ret-A\u0301nne Ŋuđđi', 'Čáhppes-Áillohaš Ǯiŋŋávuođđá-Ødegaard ŧ ž'],
      ['Ελένη Ольга', 'Łódź-Ķēniņš Nguyễn'],
    ]) {
      const c = await convert(renamed(given!, family!), D_NUMMER_NOW);
      const name = `${given} ${family}`.normalize('NFC');
      const text = await textOf(pdfOf(c.cdaL1));
      expect(text).toContain(`Patient / Pasient: ${name}`);
      expect(text).not.toContain('?');
      expect(text).not.toContain('\uFFFD');
      // Level 3 holds the same letters.
      expect(c.cda.normalize('NFC')).toContain(`<family>${family!.normalize('NFC')}</family>`);
    }
  });

  it('embeds its fonts as subsets whose glyphs are DejaVu Sans\'s own, so what a reader sees is what is extracted', async () => {
    const name = 'Ŋuđđi Čáhppes-Áillohaš Ǯiŋŋávuođđá Wiśniewska';
    const c = await convert(renamed('Ŋuđđi', 'Čáhppes-Áillohaš Ǯiŋŋávuođđá Wiśniewska'), D_NUMMER_NOW);
    const pdf = pdfOf(c.cdaL1);
    const fonts = await fontsOf(pdf);
    // Every font is embedded (none of the standard 14, which a reader substitutes), and a subset.
    expect([...fonts.keys()].sort()).toEqual(['/HBROAA+DejaVuSans', '/HBROAB+DejaVuSans-Bold']);
    const regular = fonts.get('/HBROAA+DejaVuSans');
    if (!regular) throw new Error('no font program embedded');
    expect(regular.length).toBeLessThan(40_000);
    // @pdf-lib/fontkit 1.1.1 can write a subset whose glyph offsets are shifted (a font with long offsets
    // and odd-length glyph records), drawing blanks or garbage that text extraction would not notice: each
    // letter of the name must be drawn with DejaVu Sans's own outline.
    const subset = fontkit.create(regular);
    const drawn = new Set(Array.from({ length: subset.numGlyphs }, (_, id) => subset.getGlyph(id).path.toSVG()));
    for (const ch of new Set(name.replace(/[ -]/g, ''))) expect(drawn.has(DEJAVU.glyphForCodePoint(ch.codePointAt(0)!).path.toSVG()), ch).toBe(true);
  });

  it('draws a right-to-left name, which it cannot lay out, as \u201c\uFFFD\u201d and says under the header that Level 3 holds the exact spelling', async () => {
    const c = await convert(renamed('Miriam \u05DE\u05E8\u05D9\u05DD', 'Haddad \u062D\u062F\u0627\u062F'), D_NUMMER_NOW);
    const text = await textOf(pdfOf(c.cdaL1));
    expect(text).toContain('Patient / Pasient: Miriam \uFFFD\uFFFD\uFFFD\uFFFD Haddad \uFFFD\uFFFD\uFFFD\uFFFD');
    expect(text).toMatch(/\uFFFD marks a character this PDF cannot show .*the structured document \(Level 3\) holds the exact spelling/);
    expect(text).toMatch(/\uFFFD står for et tegn denne PDF-en ikke kan vise .*det strukturerte dokumentet \(nivå 3\) har den nøyaktige skrivemåten/);
    expect(text).not.toMatch(/[\u0590-\u08FF]/);
    expect(c.cda).toContain('<family>Haddad \u062D\u062F\u0627\u062F</family>');
    // A document whose characters are all drawn says nothing of the kind.
    const plain = await convert(renamed('Miriam', 'Haddad'), D_NUMMER_NOW);
    expect(await textOf(pdfOf(plain.cdaL1))).not.toContain('Level 3) holds the exact spelling');
  });

  it('currentLevel1 (what the $ehdsi-cda?level=1 route calls) renders the stored Level 3 of an imported prescription', async () => {
    const spec = specFor({ dosVeiledEnkel: '2 tabletter morgen' });
    spec.msgId = randomUUID();
    const outcome = await importM1(db, buildM1(spec), deps, { now: NOW });
    if (outcome.kind !== 'created') throw new Error(`not created: ${outcome.kind}`);
    const l1 = await currentLevel1(db, outcome.row, deps, { dispensingsSoFar: 0, recalled: false, patientRestricted: false }, NOW);
    if (!l1) throw new Error('no Level 1 document');
    await expectSchemaValidCda(l1);
    const l3Id = rootOf(outcome.row.cdaXml!).child(V3, 'id')!.attr('extension');
    expect(rootOf(l1).child(V3, 'id')?.attr('extension')).toBe(`${l3Id}.L1`);
    const text = await textOf(pdfOf(l1));
    expect(text).toContain('2 tabletter morgen');
    expect(text).toContain('Hydrokortison Orifarm Tab 10 mg');
  });
});
