// The Level 1 PDF renderer itself (src/pdf/document.ts): which letters it draws (all of Latin, Greek and
// Cyrillic, NFC first), which it cannot (right-to-left scripts, anything the fonts lack) and how it says so,
// controls dropped, the same spec giving the same bytes, and the committed fonts being ones whose subsets
// @pdf-lib/fontkit writes correctly.
import { readFileSync } from 'node:fs';
import fontkit from '@pdf-lib/fontkit';
import { extractText, getDocumentProxy } from 'unpdf';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasUndrawable, loadPdfFonts, pdfText, renderPdf, UNDRAWABLE, UNDRAWABLE_NOTICE, type PdfDocumentSpec } from '../../src/pdf/document.ts';

const fontFile = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../src/pdf/fonts/${name}`, import.meta.url)));

async function textOf(pdf: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

// Names of the kinds the audit found turned into "?" (F5), and of the EU/EEA neighbours' alphabets.
const NAMES = [
  'Máret-Ánne Ŋuđđi Čáhppes-Áillohaš', // Northern Sámi: á č đ ŋ š ŧ ž
  'Ǯiŋŋávuođđá-Ødegaard Ǥǥ Ǩǩ Ǯǯ Ʒʒ Ŧŧ Žž', // Skolt and Inari Sámi
  'Zofia Wiśniewska Łódź Żaneta Źdźbło', // Polish
  'Ķēniņš Ģirts Ļaņa Šarūnas Žemaitė Ėglė Ąžuolas', // Latvian, Lithuanian
  'Dvořák Ťažký Ľudovít Őry Űrhajó Ştefan Țurcanu Şükrü İlkay ğ', // Czech, Slovak, Hungarian, Romanian, Turkish
  'Nguyễn Thị Ánh Ðặng', // Vietnamese
  'Ελένη Παπαδοπούλου', // Greek
  'Ольга Иванова Ґалина Їжак Ђорђе Љубица Џејн', // Cyrillic: Russian, Ukrainian, Serbian
  'Þórunn Ægisdóttir Øyvind Åsmund', // Icelandic, Norwegian
];

describe('Level 1 PDF text', () => {
  beforeAll(loadPdfFonts);

  it('keeps every letter of Latin, Greek and Cyrillic names, in both fonts', () => {
    for (const name of NAMES) expect(pdfText(name), name).toBe(name);
    const [regular, bold] = [fontkit.create(fontFile('DejaVuSans.ttf')), fontkit.create(fontFile('DejaVuSans-Bold.ttf'))];
    for (const font of [regular, bold]) {
      for (const ch of new Set(NAMES.join('').replace(/[ -]/g, ''))) expect(font.hasGlyphForCodePoint(ch.codePointAt(0)!), ch).toBe(true);
      expect(font.hasGlyphForCodePoint(UNDRAWABLE.codePointAt(0)!)).toBe(true);
    }
  });

  it('normalises to NFC first: a letter written with a combining accent is the one letter', () => {
    expect(pdfText('Iña\u0301rritu-e\u0301 Ma\u0301ret Z\u030Ciz\u030Cek')).toBe('Iñárritu-é Máret Žižek');
  });

  it('drops direction overrides, isolates, zero-width characters and controls; line breaks become spaces', () => {
    expect(pdfText('Ola\u202E nordmann\u202C\u2066x\u2069\u200B\u200D\uFEFF\u0007\u0085 A\r\nB\tC')).toBe('Ola nordmannx A B C');
  });

  it('draws right-to-left letters and what the fonts lack as U+FFFD, never "?"', () => {
    expect(pdfText('Miriam \u05DE\u05E8\u05D9\u05DD')).toBe(`Miriam ${UNDRAWABLE.repeat(4)}`);
    expect(pdfText('\u062D\u062F\u0627\u062F')).toBe(UNDRAWABLE.repeat(4));
    expect(pdfText('王 芳')).toBe(`${UNDRAWABLE} ${UNDRAWABLE}`);
    expect(pdfText('\u0915\u{1F9EC}')).toBe(UNDRAWABLE.repeat(2)); // Devanagari KA, DNA double helix
    expect(hasUndrawable('王')).toBe(true);
    expect(hasUndrawable('Wiśniewska')).toBe(false);
    // A U+FFFD the text already held (a source's own decoding error) is drawn, and is not ours to explain.
    expect(hasUndrawable(`Ola ${UNDRAWABLE}`)).toBe(false);
  });

  it('commits fonts whose glyph records are all of even length, so @pdf-lib/fontkit 1.1.1 subsets them intact', () => {
    for (const name of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']) {
      const font = fontkit.create(fontFile(name)) as fontkit.Font & { loca: { offsets: number[] } };
      const offsets = font.loca.offsets;
      const odd = offsets.slice(1).filter((end, i) => (end - offsets[i]!) % 2 !== 0).length;
      expect(odd, name).toBe(0);
    }
  });
});

describe('renderPdf', () => {
  const spec = (patient: string, lang: 'nb' | 'en' = 'en'): PdfDocumentSpec => ({
    title: 'ePrescription from Norway',
    lang,
    header: [{ label: 'Patient', value: patient }],
    sections: [{ heading: 'Medicine', rows: [{ label: 'Medicine', value: 'Hydrokortison Orifarm Tab 10 mg' }] }],
    footer: 'Made by Helsebro',
    created: new Date('2026-03-02T10:00:00+01:00'),
  });

  it('gives the same bytes for the same spec (fixed subset tags, no random font names)', async () => {
    const a = await renderPdf(spec('Zofia Wiśniewska'));
    const b = await renderPdf(spec('Zofia Wiśniewska'));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('says under the header, in its language, what "\uFFFD" means, only when it drew one', async () => {
    expect(await textOf(await renderPdf(spec('Zofia Wiśniewska')))).not.toContain('Level 3');
    const en = await textOf(await renderPdf(spec('Miriam \u05DE\u05E8\u05D9\u05DD')));
    expect(en).toContain(`Patient: Miriam ${UNDRAWABLE.repeat(4)}`);
    expect(en).toContain(UNDRAWABLE_NOTICE.en);
    const nb = await textOf(await renderPdf(spec('Miriam \u05DE\u05E8\u05D9\u05DD', 'nb')));
    expect(nb).toContain(UNDRAWABLE_NOTICE.nb);
  });

  it('extracts a letter drawn on its own as itself after a composite made from it was drawn (Ǯ before Ʒ)', async () => {
    // Ǯ is drawn from Ʒ's outline: the PDF font keeps Ʒ's glyph, made first as a part of Ǯ, for the process.
    await renderPdf(spec('Ǯiŋŋávuođđá'));
    expect(await textOf(await renderPdf(spec('Ʒʒ Ʒaŋŋá')))).toContain('Patient: Ʒʒ Ʒaŋŋá');
  });

  it('keeps a one-page document small: subsets, not whole fonts', async () => {
    const pdf = await renderPdf(spec(NAMES.join(' ')));
    expect(pdf.length).toBeLessThan(60_000);
    expect(await textOf(pdf)).toContain(`Patient: ${NAMES.join(' ')}`);
  });
});
