// The eHDSI Patient Summary CDA rendered from the IPS document: schema-valid for every persona at both
// levels, coded with the eHDSI value sets, saying withheld and unavailable the eHDSI way, hostile text inert,
// and a Level 1 PDF a reader (and a text extractor) can read.
import { describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { PERSONAS, type PersonaKey } from '../../src/demo/personas.ts';
import { psCda } from '../../src/summary/ehdsi-ps.ts';
import { summaryPdf } from '../../src/summary/pdf.ts';
import { parseXml } from '../../src/xml/parse.ts';
import type { XmlElement } from '../../src/xml/element.ts';
import { kjernejournalDown, personaDocument } from '../view/support/documents.ts';
import { validateXmlAll } from '../support/xsd.ts';

const OID = '2.999.47';
const V3 = 'urn:hl7-org:v3';
const KEYS = Object.keys(PERSONAS) as PersonaKey[];

const l3 = (key: PersonaKey, lang: 'nb' | 'en' = 'en', opts: Parameters<typeof personaDocument>[1] = {}) =>
  psCda({ document: personaDocument(key, { lang, ...opts }), helsebroOid: OID })!;

function tree(xml: string): XmlElement {
  const parsed = parseXml(xml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
  return parsed.value.root;
}

const all = (e: XmlElement, name: string): XmlElement[] => [...(e.name === name ? [e] : []), ...e.children.flatMap((c) => all(c, name))];
const sectionOf = (root: XmlElement, loinc: string): XmlElement | undefined =>
  all(root, 'section').find((s) => s.child(V3, 'code')?.attr('code') === loinc);
const attr = (e: XmlElement | undefined, name: string) => e?.attributes.find((a) => a.name === name)?.value;

async function pdfText(pdf: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

describe('eHDSI PS CDA: schema', () => {
  it('every persona, in both languages, at Level 3 and Level 1, validates against CDA_Pharma.xsd', async () => {
    const docs: string[] = [];
    for (const key of KEYS) {
      for (const lang of ['nb', 'en'] as const) {
        const document = personaDocument(key, { lang });
        docs.push(psCda({ document, helsebroOid: OID })!, psCda({ document, helsebroOid: OID, pdf: await summaryPdf(document) })!);
      }
    }
    docs.push(l3('addison', 'nb', { results: kjernejournalDown }));
    const results = await validateXmlAll(docs, 'cda');
    results.forEach((r, i) => expect(r.errors, `document ${i}`).toEqual([]));
    expect(results.every((r) => r.valid)).toBe(true);
  });
});

describe('eHDSI PS CDA: Level 3 content', () => {
  it('has the wave 8 header: template, LOINC 60591-5, the patient by fødselsnummer, language, custodian', () => {
    const root = tree(l3('ms'));
    expect(attr(root.child(V3, 'templateId'), 'root')).toBe('1.3.6.1.4.1.12559.11.10.1.3.1.1.3');
    expect(attr(root.child(V3, 'code'), 'code')).toBe('60591-5');
    expect(attr(root.child(V3, 'languageCode'), 'code')).toBe('en-GB');
    const patientRole = all(root, 'patientRole')[0]!;
    expect(attr(patientRole.child(V3, 'id'), 'extension')).toBe(PERSONAS.ms.fnr);
    expect(attr(patientRole.child(V3, 'id'), 'root')).toBe('2.16.578.1.12.4.1.4.1');
    expect(all(patientRole, 'family')[0]!.text).toBe('Haugland');
    expect(attr(all(patientRole, 'birthTime')[0], 'value')).toBe('19660805');
    expect(all(all(root, 'custodian')[0]!, 'name')[0]!.text).toContain('Norsk helsenett');
  });

  it("codes the MS persona's G35 and G43.0 with eHDSI's ICD-10 and English displays, the Norwegian text as originalText", () => {
    const problems = sectionOf(tree(l3('ms')), '11450-4')!;
    expect(problems.child(V3, 'templateId') && attr(problems.child(V3, 'templateId'), 'root')).toBe('1.3.6.1.4.1.12559.11.10.1.3.1.2.9');
    const values = all(problems, 'value').filter((v) => attr(v, 'codeSystem') === '1.3.6.1.4.1.12559.11.10.1.3.1.44.2');
    const byCode = new Map(values.map((v) => [attr(v, 'code'), v]));
    expect(attr(byCode.get('G35'), 'displayName')).toBe('Multiple sclerosis');
    expect(attr(byCode.get('G43.0'), 'displayName')).toBe('Migraine without aura [common migraine]');
    expect(byCode.get('G43.0')!.child(V3, 'originalText')!.text).toBe('Migrene uten aura');
    expect(attr(byCode.get('G35')!.child(V3, 'translation'), 'codeSystem')).toBe('2.16.578.1.12.4.1.1.7110');
    // Each entry points at its row of the narrative table.
    const refs = all(problems, 'reference').map((r) => attr(r, 'value'));
    const rowIds = all(problems, 'tr').map((r) => attr(r, 'ID')).filter(Boolean);
    expect(rowIds.length).toBe(3);
    for (const id of rowIds) expect(refs).toContain(`#${id}`);
  });

  it('codes medicines by ATC (eHDSIActiveIngredient) and EDQM dose form (eHDSIDoseForm)', () => {
    const meds = sectionOf(tree(l3('ms')), '10160-0')!;
    const atc = all(meds, 'code').find((c) => c.ns === 'urn:hl7-org:pharm' && attr(c, 'codeSystem') === '2.16.840.1.113883.6.73');
    expect(attr(atc, 'code')).toBe('L04AG03');
    expect(attr(atc, 'displayName')).toBe('natalizumab');
    const form = all(meds, 'formCode')[0]!;
    expect(attr(form, 'codeSystem')).toBe('0.4.0.127.0.16.1.1.2.1');
    expect(attr(form, 'displayName')).toBe('Concentrate for solution for infusion');
    expect(all(meds, 'name')[0]!.text).toContain('Tysabri');
  });

  it("codes the Addison persona's penicillin allergy: agent by ATC, anaphylaxis by eHDSIReactionAllergy, criticality, certainty, status", () => {
    const allergies = sectionOf(tree(l3('addison')), '48765-2')!;
    const agent = all(allergies, 'playingEntity')[0]!.child(V3, 'code')!;
    expect([attr(agent, 'code'), attr(agent, 'codeSystem'), attr(agent, 'displayName')]).toEqual(['J01CE02', '2.16.840.1.113883.6.73', 'phenoxymethylpenicillin']);
    const coded = all(allergies, 'value').map((v) => `${attr(v, 'code')} ${attr(v, 'displayName')}`);
    expect(coded).toContain('39579001 Anaphylaxis');
    expect(coded).toContain('high High Risk');
    expect(coded).toContain('confirmed Confirmed');
    expect(coded).toContain('active Active');
    expect(attr(all(allergies, 'observation')[0]!.child(V3, 'code'), 'code')).toBe('609328004');
  });

  it('keeps a code the catalogue lacks as nullFlavor OTH with its text and the Norwegian code (NKPK procedures, ICPC-2)', () => {
    const root = tree(l3('knee', 'nb'));
    const procedure = all(sectionOf(root, '47519-4')!, 'procedure').map((p) => p.child(V3, 'code')!);
    const spiro = procedure.find((c) => attr(c.child(V3, 'translation'), 'code') === 'GDFC05')!;
    expect(attr(spiro, 'nullFlavor')).toBe('OTH');
    expect(attr(spiro.child(V3, 'translation'), 'codeSystem')).toBe('2.16.578.1.12.4.1.1.7275');
    const k86 = all(sectionOf(root, '11450-4')!, 'value').find((v) => attr(v.child(V3, 'translation'), 'code') === 'K86')!;
    expect(attr(k86, 'nullFlavor')).toBe('OTH');
    expect(k86.child(V3, 'originalText')!.text).toBeTruthy();
  });

  it('says withheld the eHDSI way for the persona reserved against Kjernejournal: masked entries and the reason in the narrative', () => {
    const root = tree(l3('reserved', 'nb'));
    const allergies = sectionOf(root, '48765-2')!;
    expect(all(allergies, 'value').some((v) => attr(v, 'nullFlavor') === 'MSK')).toBe(true);
    const text = all(allergies.child(V3, 'text')!, 'paragraph').map((p) => p.text).join(' ');
    expect(text).toContain('Holdt tilbake');
    expect(text).toContain('Kjernejournal');
    // Never an empty section: every section has narrative and an entry.
    for (const s of all(root, 'section')) {
      expect(all(s.child(V3, 'text')!, 'paragraph').length + all(s, 'tr').length, attr(s.child(V3, 'code'), 'code')).toBeGreaterThan(0);
    }
  });

  it('says no information the eHDSI way for the persona without data (IPS absent/unknown codes), not "no known"', () => {
    const root = tree(l3('nodata'));
    const codes = all(root, 'value').concat(all(root, 'code')).map((c) => attr(c, 'code'));
    expect(codes).toEqual(expect.arrayContaining(['no-problem-info', 'no-allergy-info', 'no-medication-info']));
    expect(codes.filter((c) => c?.startsWith('no-known'))).toEqual([]);
    expect(all(sectionOf(root, '48765-2')!, 'paragraph')[0]!.text).toBe('No information available');
  });

  it('names the source that failed in the sections it feeds', () => {
    const root = tree(l3('addison', 'en', { results: kjernejournalDown }));
    const text = all(sectionOf(root, '48765-2')!, 'paragraph').map((p) => p.text).join(' ');
    expect(text).toContain('Source unavailable: Kjernejournal');
    expect(text).toContain('was not available');
  });

  it("keeps the hostile persona's text inert: escaped in the XML, the same text when read back", () => {
    const xml = l3('hostile', 'nb');
    expect(xml).not.toMatch(/<script|<img|<b>/);
    const root = tree(xml);
    const given = all(all(root, 'patientRole')[0]!, 'given').map((g) => g.text);
    expect(given).toContain(PERSONAS.hostile.given[0]);
    expect(all(root, 'td').map((t) => t.text).join(' ')).toContain('<script>alert("kj")</script>');
    // The narrative is what a doctor abroad reads: no direction override may reorder it.
    expect(all(root, 'td').map((t) => t.text).join(' ')).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });
});

describe('eHDSI PS CDA: Level 1', () => {
  it('carries the PDF in a nonXMLBody, with the patient name and every diagnosis readable in it', async () => {
    const document = personaDocument('ms', { lang: 'nb' });
    const pdf = await summaryPdf(document);
    const root = tree(psCda({ document, helsebroOid: OID, pdf })!);
    const body = all(root, 'nonXMLBody')[0]!.child(V3, 'text')!;
    expect([attr(body, 'mediaType'), attr(body, 'representation')]).toEqual(['application/pdf', 'B64']);
    expect(all(root, 'structuredBody')).toHaveLength(0);
    expect(attr(root.child(V3, 'templateId'), 'root')).toBe('1.3.6.1.4.1.12559.11.10.1.3.1.1.7');
    const text = await pdfText(new Uint8Array(Buffer.from(body.text, 'base64')));
    expect(text).toContain('Pasientsammendrag');
    expect(text).toContain('Bjørn Erik Haugland');
    for (const diagnosis of ['Multippel sklerose', 'Migrene uten aura', 'Urinretensjon']) expect(text).toContain(diagnosis);
  });

  it('is in English when the summary is, with English displays of the diagnoses', async () => {
    const text = await pdfText(await summaryPdf(personaDocument('knee', { lang: 'en' })));
    expect(text).toContain('Patient Summary');
    for (const d of ['Hypertension uncomplicated', 'Lipid disorder', 'Panic disorder']) expect(text).toContain(d);
  });

  it('draws hostile names without markup or direction controls', async () => {
    const text = await pdfText(await summaryPdf(personaDocument('hostile', { lang: 'nb' })));
    expect(text).toContain('<script>alert("x")</script>');
    expect(text).not.toMatch(/[\u202A-\u202E]/);
  });
});
