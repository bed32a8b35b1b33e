// The text of the PDF a Level 1 CDA carries, as a pharmacist's viewer would show it (unpdf), with runs of
// white space made one space.
import { extractText, getDocumentProxy } from 'unpdf';

export async function textOfPdf(cdaL1: string): Promise<string> {
  const b64 = /<text mediaType="application\/pdf" representation="B64">([^<]*)<\/text>/.exec(cdaL1)?.[1];
  if (!b64) throw new Error('no PDF in the Level 1 document');
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(Buffer.from(b64.replace(/\s/g, ''), 'base64'))), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}
