// XML bodies in ISO-8859-1 (as KITH messages often are) are read with the Content-Type's charset and the
// document's declaration together: a label that agrees is accepted and æøå survive, a label on a document
// without a declaration is how it is read, and a label that contradicts the document is refused naming both.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import { decode } from '../../src/xml/parse.ts';
import { isProblem } from '../../src/fhir/outcomes.ts';
import { engines } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { fixture } from '../eprescription/support/pipeline.ts';

const FAMILY = 'Kjærnes-Øvergård';
const GIVEN = 'Åse';

/** The real M1 fixture 02 with a new MsgId, the patient renamed with æøå, and the declaration given. */
function m1(declaration: string | undefined): string {
  const xml = fixture('valid', '02-merkevare-fludrokortison.xml')
    .toString('utf8')
    .replace(/<MsgId>[^<]*<\/MsgId>/, `<MsgId>${randomUUID()}</MsgId>`)
    .replace('<FamilyName>Solstad</FamilyName>', `<FamilyName>${FAMILY}</FamilyName>`)
    .replace('<GivenName>Ingrid</GivenName>', `<GivenName>${GIVEN}</GivenName>`);
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  expect(body).toContain(FAMILY);
  return declaration === undefined ? body : `<?xml version="1.0" encoding="${declaration}"?>\n${body}`;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('decoding an XML body with a transport charset', () => {
  const text = (bytes: Buffer, charset?: string) => {
    const d = decode(bytes, charset);
    return isProblem(d) ? `refused: ${d.issues[0]!.diagnostics}` : d.text;
  };
  const doc = (decl: string | undefined, name = 'Bjørn Ærlig Åsen') => `${decl ? `<?xml version="1.0" encoding="${decl}"?>` : ''}<a>${name}</a>`;

  it.each([
    ['ISO-8859-1', 'ISO-8859-1'],
    ['iso-8859-1', 'latin1'],
    ['windows-1252', 'windows-1252'],
    ['UTF-8', 'utf-8'],
  ])('reads a document declaring %s labelled charset=%s in that encoding', (decl, charset) => {
    const bytes = decl === 'UTF-8' ? utf8(doc(decl)) : latin1(doc(decl));
    expect(text(bytes, charset)).toContain('Bjørn Ærlig Åsen');
  });

  it('reads a document without a declaration in the labelled charset, and as UTF-8 without one', () => {
    expect(text(latin1(doc(undefined)), 'iso-8859-1')).toBe('<a>Bjørn Ærlig Åsen</a>');
    expect(text(latin1(doc(undefined)))).toMatch(/^refused: .*no encoding declaration/);
  });

  it.each([
    ['latin1 declared ISO-8859-1, labelled utf-8', latin1(doc('ISO-8859-1')), 'utf-8', /charset=utf-8 .*encoding="iso-8859-1"/],
    ['UTF-8 declared UTF-8, labelled iso-8859-1', utf8(doc('UTF-8')), 'iso-8859-1', /charset=iso-8859-1 .*encoding="utf-8"/],
    ['UTF-8 with a BOM, labelled iso-8859-1', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(doc(undefined))]), 'iso-8859-1', /byte order mark/],
    ['Windows-1252 declared, labelled iso-8859-1', latin1(doc('windows-1252')), 'iso-8859-1', /charset=iso-8859-1 .*encoding="windows-1252"/],
    ['an unsupported declaration, labelled utf-8', utf8(doc('EBCDIC-CP-US')), 'utf-8', /encoding="ebcdic-cp-us"/],
  ])('refuses %s, naming both', (_label, bytes, charset, message) => {
    expect(text(bytes, charset)).toMatch(message);
    expect(text(bytes, charset)).toMatch(/must agree/);
  });
});

describe.each(engines)('XML intake with a charset (%s)', (engine) => {
  let srv: TestServer;
  const NCP = 'system/MedicationRequest.crs system/MedicationDispense.crus';
  const post = (path: string, body: Buffer, contentType: string, client = 'ncp-no') =>
    srv.fetchAs(NCP, path, { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }, { client });
  const importM1 = (body: Buffer, contentType: string) => post('/fhir/MedicationRequest/$import-m1', body, contentType);
  const patientOf = (b: Bundle) => b.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;

  beforeAll(async () => {
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0' });
  });
  afterAll(async () => {
    await srv.close();
  });

  it.each(['application/xml; charset=ISO-8859-1', 'application/xml; charset="iso-8859-1"', 'application/xml; charset=latin1', 'application/xml'])(
    'imports an ISO-8859-1 M1 sent as %s, keeping æøå in the name',
    async (contentType) => {
      const res = await importM1(latin1(m1('ISO-8859-1')), contentType);
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(201);
      const name = patientOf(JSON.parse(text) as Bundle).name![0]!;
      expect(name.family).toBe(FAMILY);
      expect(name.given).toContain(GIVEN);
    },
  );

  it('imports an ISO-8859-1 M1 without a declaration when the Content-Type names the charset, and not without it', async () => {
    const bytes = latin1(m1(undefined));
    const labelled = await importM1(bytes, 'application/xml; charset=ISO-8859-1');
    expect(labelled.status).toBe(201);
    expect(patientOf((await labelled.json()) as Bundle).name![0]!.family).toBe(FAMILY);
    const unlabelled = await importM1(latin1(m1(undefined)), 'application/xml');
    expect(unlabelled.status).toBe(400);
  });

  it('refuses an M1 whose Content-Type charset contradicts its declaration, in both directions, naming the conflict', async () => {
    for (const [bytes, contentType] of [
      [latin1(m1('ISO-8859-1')), 'application/xml; charset=utf-8'],
      [utf8(m1('UTF-8')), 'application/xml; charset=ISO-8859-1'],
    ] as const) {
      const res = await importM1(bytes, contentType);
      expect(res.status).toBe(400);
      const issue = ((await res.json()) as OperationOutcome).issue[0]!;
      expect(issue.diagnostics).toMatch(/Content-Type says charset=.* but its XML declaration says encoding=.*must agree/);
    }
  });

  it('still answers 415 for a charset it does not read', async () => {
    const res = await importM1(utf8(m1('UTF-8')), 'application/xml; charset=koi8-r');
    expect(res.status).toBe(415);
  });

  // All XML intake routes share the body reader: each decodes the label (refusing a conflict) before its handler.
  const xmlRoutes = allDocumentedRoutes().filter((r) => r.accepts?.includes('xml'));
  it('has XML intake routes to check', () => {
    expect(xmlRoutes.map((r) => r.path).sort()).toEqual(
      ['/MedicationDispense/$import-ehdsi-cda', '/MedicationDispense/$import-m10', '/MedicationRequest/$import-ehdsi-cda', '/MedicationRequest/$import-m1'].sort(),
    );
  });
  // As a caller each route admits: an unadmitted one is refused before its body is read.
  it.each(xmlRoutes.map((r) => [r.path, r.access !== 'public' && r.access.admits.includes('ncp') ? 'ncp-no' : 'pharmacy-apotek1']))(
    '%s reads ISO-8859-1 by its label and refuses a contradicting one (as %s)',
    async (path, client) => {
    const doc = (decl: string) => `<?xml version="1.0" encoding="${decl}"?><Nothing>Bjørn Ærlig Åsen</Nothing>`;
    const conflict = await post(`/fhir${path}`, utf8(doc('UTF-8')), 'application/xml; charset=iso-8859-1', client);
    expect(conflict.status).toBe(400);
    expect(((await conflict.json()) as OperationOutcome).issue[0]!.diagnostics).toMatch(/must agree/);
    // Read and passed on: the handler refuses the document for what it is, not for its encoding.
    const agreed = await post(`/fhir${path}`, latin1(doc('ISO-8859-1')), 'application/xml; charset=ISO-8859-1', client);
    const text = await agreed.text();
    expect(agreed.status, text.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expect(agreed.status).toBeLessThan(500);
    expect(text).not.toMatch(/charset|encoding|UTF-8/i);
    },
  );
});
