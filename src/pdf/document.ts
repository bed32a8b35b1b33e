// A generic, readable A4 PDF for the eHDSI Level 1 documents (patient summary, ePrescription): a title,
// label/value rows, and sections of paragraphs, label/value rows or tables, with text wrapped and pages
// broken as needed. Made with pdf-lib and its standard Helvetica, whose WinAnsi encoding covers Norwegian
// and the Western European languages; characters outside it become "?" and direction controls are dropped,
// so hostile text cannot break the file or reorder what a reader sees. The PDF carries its title and
// language in its metadata. Pure apart from pdf-lib.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

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
  /**
   * When the document was made: the PDF's creation and modification dates. Given, the same spec always gives
   * the same bytes, so a document listed with its hash can be made again on retrieval and still match.
   */
  created?: Date;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 48;
const GREY = rgb(0.35, 0.35, 0.35);

// WinAnsi (Windows-1252) beyond Latin-1.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** Text the standard fonts can draw: controls and direction marks dropped, other unencodable characters "?". */
export function pdfText(text: string): string {
  return [...text.replace(CONTROLS, '').replace(/[\t\r\n]+/g, ' ')]
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || WIN_ANSI_EXTRA.has(ch) ? ch : '?';
    })
    .join('');
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
  const doc = await PDFDocument.create();
  doc.setTitle(pdfText(spec.title));
  doc.setLanguage(spec.lang === 'nb' ? 'nb-NO' : 'en-GB');
  doc.setProducer('Helsebro');
  doc.setCreator('Helsebro');
  if (spec.created) {
    doc.setCreationDate(spec.created);
    doc.setModificationDate(spec.created);
  }
  const w = new Writer(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold), spec.footer);
  const none = spec.notStated ?? '-';
  w.paragraph(spec.title, { font: w.bold, size: 16, gap: 8 });
  for (const r of spec.header ?? []) w.paragraph(`${r.label}: ${r.value ?? none}`, { size: 10, gap: 1 });
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
