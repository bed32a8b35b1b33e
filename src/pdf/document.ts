// A generic, readable A4 PDF for the eHDSI Level 1 documents (patient summary, ePrescription): a title,
// label/value rows, and sections of paragraphs, label/value rows or tables, with text wrapped and pages
// broken as needed. Made with pdf-lib and DejaVu Sans (src/pdf/fonts/, see SOURCES.md there), embedded as a
// subset of the glyphs used, so names keep their letters: Sámi, Polish, Baltic, Greek, Cyrillic and the rest
// of Latin. Text is NFC-normalised first (a letter written with a combining accent becomes the one letter),
// direction and zero-width controls are dropped, so hostile text cannot break the file or reorder what a
// reader sees. A character the font cannot draw, and every right-to-left letter (Hebrew, Arabic ...: pdf-lib
// lays text out left to right only, so it would be drawn backwards), is drawn as U+FFFD "�", never silently
// as "?", and the document then says under its header that "�" marks such characters and that the structured
// document (Level 3) holds the exact spelling. The PDF carries its title and language in its metadata.
// Pure apart from pdf-lib, fontkit and reading the two font files once per process (on the first document:
// importing fontkit and parsing the fonts take a few hundred ms of CPU, which a server's start or a CLI run
// without PDFs need not spend).
import { readFileSync } from 'node:fs';
import type fontkit from '@pdf-lib/fontkit';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export type PdfLang = 'nb' | 'en';

export interface PdfRow {
  label: string;
  value: string | undefined;
}

export interface PdfTable {
  headers: string[];
  rows: (string | undefined)[][];
}

export interface PdfSection {
  heading: string;
  paragraphs?: string[];
  rows?: PdfRow[];
  table?: PdfTable;
}

export interface PdfDocumentSpec {
  title: string;
  lang: PdfLang;
  /** Label/value rows under the title (who the document is about, when it was made). */
  header?: PdfRow[];
  sections: PdfSection[];
  /** A line at the foot of every page. */
  footer?: string;
  /** Shown for an empty cell or value. */
  notStated?: string;
  /** Said under the header when a character is drawn as "�" (default: UNDRAWABLE_NOTICE in the document's language). */
  undrawableNotice?: string;
  /**
   * When the document was made: the PDF's creation and modification dates. Given, the same spec always gives
   * the same bytes, so a document listed with its hash can be made again on retrieval and still match.
   */
  created?: Date;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const GREY = rgb(0.35, 0.35, 0.35);

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
/** Shown for a character the PDF cannot draw. */
export const UNDRAWABLE = '\uFFFD';
/**
 * Right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic, their presentation forms,
 * and the right-to-left blocks beyond the BMP. DejaVu Sans has some of these letters, but pdf-lib draws every
 * run left to right and shapes nothing, so they would come out backwards and unjoined: a wrong spelling.
 */
const RIGHT_TO_LEFT = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/** DejaVu Sans and DejaVu Sans Bold, read and parsed once per process, whatever number of documents. */
interface Fonts {
  regular: Uint8Array;
  bold: Uint8Array;
  /** What pdf-lib calls to parse a font: the parsed font of either file, parsed once. */
  fontkit: { create(bytes: Uint8Array): fontkit.Font };
  /** Both fonts draw it. */
  covers(codePoint: number): boolean;
}

let loaded: Fonts | undefined;
let loading: Promise<Fonts> | undefined;

/** Reads and parses the fonts, once per process; renderPdf calls it, and so must whoever calls pdfText first. */
export function loadPdfFonts(): Promise<Fonts> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= (async () => {
    const kit = (await import('@pdf-lib/fontkit')).default;
    const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fonts/${name}`, import.meta.url)));
    const regular = read('DejaVuSans.ttf');
    const bold = read('DejaVuSans-Bold.ttf');
    const parsed = new Map<Uint8Array, fontkit.Font>([regular, bold].map((b) => [b, withCmapLayout(kit.create(b))]));
    const both = [...parsed.values()];
    const known = new Map<number, boolean>();
    loaded = {
      regular,
      bold,
      fontkit: { create: (bytes) => parsed.get(bytes) ?? kit.create(bytes) },
      covers(cp) {
        let yes = known.get(cp);
        if (yes === undefined) known.set(cp, (yes = both.every((f) => f.hasGlyphForCodePoint(cp))));
        return yes;
      },
    };
    return loaded;
  })();
  return loading;
}

function fonts(): Fonts {
  if (!loaded) throw new Error('the PDF fonts are not loaded: await loadPdfFonts() first');
  return loaded;
}

/**
 * The font with its layout replaced by the cmap alone: one glyph per character, left to right. pdf-lib asks the
 * font to lay out every text it measures or draws, and fontkit's full OpenType layout (substitutions and
 * positioning for every feature) made a one-page prescription take 50-120 ms instead of a few; pdf-lib uses
 * only the glyphs of a layout, never its positions (so no kerning either way). What is drawn needs no
 * shaping: Latin, Greek and Cyrillic after NFC, right-to-left letters being "�"; a combining mark left
 * after NFC is a zero-width glyph drawn over the letter before it. No ligatures, so text extraction gives
 * back the characters as written.
 */
function withCmapLayout(font: fontkit.Font): fontkit.Font {
  const glyphs = (text: string): fontkit.Glyph[] =>
    [...text].map((ch) => {
      const cp = ch.codePointAt(0)!;
      const glyph = font.glyphForCodePoint(cp);
      // fontkit keeps one Glyph per id, with the code points of whoever made it first. A glyph first made as a
      // part of a composite (Ʒ inside Ǯ) has none, and the PDF's ToUnicode map would then give it none or
      // another character's: text copied or extracted from the PDF would not be the name drawn.
      if (!glyph.codePoints.length) (glyph as { codePoints: number[] }).codePoints = [cp];
      return glyph;
    });
  Object.defineProperty(font, 'layout', { value: (text: string) => ({ glyphs: glyphs(text) }) });
  return font;
}

/** The text as drawn: NFC, controls and direction marks dropped, every character the PDF cannot draw "�". */
export function pdfText(text: string): string {
  const f = fonts();
  return [...text.normalize('NFC').replace(CONTROLS, '').replace(/[\t\r\n]+/g, ' ')]
    .map((ch) => (RIGHT_TO_LEFT.test(ch) || !f.covers(ch.codePointAt(0)!) ? UNDRAWABLE : ch))
    .join('');
}

/** Whether drawing the text replaces any of its characters with "�" (one it held already does not count). */
export function hasUndrawable(text: string): boolean {
  return pdfText(text).split(UNDRAWABLE).length > text.normalize('NFC').split(UNDRAWABLE).length;
}

/** What the document says under its header when it drew any character as "�". */
export const UNDRAWABLE_NOTICE: Record<PdfLang, string> = {
  en: `${UNDRAWABLE} marks a character this PDF cannot show (such as a letter of a right-to-left script); the structured document (Level 3) holds the exact spelling.`,
  nb: `${UNDRAWABLE} står for et tegn denne PDF-en ikke kan vise (for eksempel en bokstav i en skrift som leses fra høyre mot venstre); det strukturerte dokumentet (nivå 3) har den nøyaktige skrivemåten.`,
};

/** Every text of a spec that is drawn. */
function textsOf(spec: PdfDocumentSpec): string[] {
  return [
    spec.title,
    spec.footer ?? '',
    ...(spec.header ?? []).flatMap((r) => [r.label, r.value ?? '']),
    ...spec.sections.flatMap((s) => [
      s.heading,
      ...(s.paragraphs ?? []),
      ...(s.rows ?? []).flatMap((r) => [r.label, r.value ?? '']),
      ...(s.table ? [...s.table.headers, ...s.table.rows.flatMap((r) => r.map((c) => c ?? ''))] : []),
    ]),
  ];
}

class Writer {
  page!: PDFPage;
  y = 0;
  private readonly doc: PDFDocument;
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  private readonly footer: string | undefined;
  constructor(doc: PDFDocument, regular: PDFFont, bold: PDFFont, footer: string | undefined) {
    this.doc = doc;
    this.regular = regular;
    this.bold = bold;
    this.footer = footer;
    this.newPage();
  }

  get width(): number {
    return A4[0] - 2 * MARGIN;
  }

  newPage(): void {
    this.page = this.doc.addPage(A4);
    this.y = A4[1] - MARGIN;
    if (this.footer) this.page.drawText(pdfText(this.footer), { x: MARGIN, y: MARGIN / 2, size: 7, font: this.regular, color: GREY });
  }

  ensure(height: number): void {
    if (this.y - height < MARGIN) this.newPage();
  }

  lines(text: string, font: PDFFont, size: number, width: number): string[] {
    const out: string[] = [];
    let line = '';
    for (const word of pdfText(text).split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (font.widthOfTextAtSize(next, size) <= width) {
        line = next;
        continue;
      }
      if (line) out.push(line);
      // A word wider than the column is cut where it must be.
      let rest = word;
      while (font.widthOfTextAtSize(rest, size) > width && rest.length > 1) {
        let cut = rest.length - 1;
        while (cut > 1 && font.widthOfTextAtSize(rest.slice(0, cut), size) > width) cut--;
        out.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    if (line) out.push(line);
    return out.length ? out : [''];
  }

  paragraph(text: string, opts: { font?: PDFFont; size?: number; gap?: number; color?: ReturnType<typeof rgb> } = {}): void {
    const font = opts.font ?? this.regular;
    const size = opts.size ?? 10;
    for (const l of this.lines(text, font, size, this.width)) {
      this.ensure(size * 1.4);
      this.y -= size * 1.4;
      this.page.drawText(l, { x: MARGIN, y: this.y, size, font, ...(opts.color ? { color: opts.color } : {}) });
    }
    this.y -= opts.gap ?? 4;
  }

  row(cells: string[], widths: number[], font: PDFFont, size: number): void {
    const wrapped = cells.map((c, i) => this.lines(c, font, size, widths[i]! - 6));
    const height = Math.max(...wrapped.map((w) => w.length)) * size * 1.3 + 4;
    this.ensure(height);
    let x = MARGIN;
    wrapped.forEach((lines, i) => {
      lines.forEach((l, j) => this.page.drawText(l, { x, y: this.y - (j + 1) * size * 1.3, size, font }));
      x += widths[i]!;
    });
    this.y -= height;
    this.page.drawLine({ start: { x: MARGIN, y: this.y + 2 }, end: { x: MARGIN + this.width, y: this.y + 2 }, thickness: 0.3, color: GREY });
  }
}

/** The PDF of a document spec. */
export async function renderPdf(spec: PdfDocumentSpec): Promise<Uint8Array> {
  const f = await loadPdfFonts();
  const doc = await PDFDocument.create();
  doc.setTitle(pdfText(spec.title));
  doc.setLanguage(spec.lang === 'nb' ? 'nb-NO' : 'en-GB');
  doc.setProducer('Helsebro');
  doc.setCreator('Helsebro');
  if (spec.created) {
    doc.setCreationDate(spec.created);
    doc.setModificationDate(spec.created);
  }
  doc.registerFontkit(f.fontkit);
  // Subsets of the glyphs drawn, with fixed subset tags (pdf-lib would add a random suffix): the same spec gives
  // the same bytes.
  const regular = await doc.embedFont(f.regular, { subset: true, customName: 'HBROAA+DejaVuSans' });
  const bold = await doc.embedFont(f.bold, { subset: true, customName: 'HBROAB+DejaVuSans-Bold' });
  const w = new Writer(doc, regular, bold, spec.footer);
  const none = spec.notStated ?? '-';
  w.paragraph(spec.title, { font: w.bold, size: 16, gap: 8 });
  for (const r of spec.header ?? []) w.paragraph(`${r.label}: ${r.value ?? none}`, { size: 10, gap: 1 });
  if (textsOf(spec).some(hasUndrawable)) {
    w.y -= 4;
    w.paragraph(spec.undrawableNotice ?? UNDRAWABLE_NOTICE[spec.lang], { size: 9, gap: 1, color: GREY });
  }
  w.y -= 8;
  for (const s of spec.sections) {
    w.ensure(40);
    w.paragraph(s.heading, { font: w.bold, size: 12, gap: 4 });
    for (const p of s.paragraphs ?? []) w.paragraph(p, { size: 9 });
    for (const r of s.rows ?? []) w.paragraph(`${r.label}: ${r.value ?? none}`, { size: 9, gap: 1 });
    if (s.table && s.table.headers.length) {
      // Columns as wide as their longest text (within bounds), so names wrap as little as they can.
      const weights = s.table.headers.map((h, i) => Math.min(40, Math.max(8, h.length, ...s.table!.rows.map((r) => (r[i] ?? '').length))));
      const total = weights.reduce((a, b) => a + b, 0);
      const widths = weights.map((x) => (w.width * x) / total);
      w.row(s.table.headers, widths, w.bold, 8);
      for (const r of s.table.rows) w.row(s.table.headers.map((_, i) => r[i] ?? none), widths, w.regular, 8);
    }
    w.y -= 10;
  }
  return doc.save();
}
