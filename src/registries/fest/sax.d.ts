// Minimal types for the `sax` streaming parser (a dependency of xml2js; it ships no types of its own).
declare module 'sax' {
  export interface QualifiedAttribute {
    name: string;
    value: string;
    prefix: string;
    local: string;
    uri: string;
  }
  export interface QualifiedTag {
    name: string;
    prefix: string;
    local: string;
    uri: string;
    attributes: Record<string, QualifiedAttribute>;
    ns: Record<string, string>;
    isSelfClosing: boolean;
  }
  export interface SAXOptions {
    xmlns?: boolean;
    position?: boolean;
    trim?: boolean;
    normalize?: boolean;
    strictEntities?: boolean;
  }
  export interface SAXParser {
    line: number;
    column: number;
    position: number;
    onerror: ((err: Error) => void) | null;
    onopentag: ((tag: QualifiedTag) => void) | null;
    onclosetag: ((name: string) => void) | null;
    ontext: ((text: string) => void) | null;
    oncdata: ((text: string) => void) | null;
    ondoctype: ((doctype: string) => void) | null;
    onprocessinginstruction: ((pi: { name: string; body: string }) => void) | null;
    write(chunk: string): SAXParser;
    close(): SAXParser;
  }
  const sax: { parser(strict: boolean, opt?: SAXOptions): SAXParser };
  export default sax;
}
