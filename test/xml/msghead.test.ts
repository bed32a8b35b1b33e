import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { messageErrorCode } from '../../src/xml/errors.ts';
import { documentPayload, MSGHEAD_NS, parseMsgHead, readMsgHead } from '../../src/xml/msghead.ts';
import { parseXml } from '../../src/xml/parse.ts';

const official = (path: string): Buffer => readFileSync(fileURLToPath(new URL(`../fixtures/m1/official/${path}`, import.meta.url)));
const M94 = 'Ekspedering og utlevering/M94 Nedlasting av resept.xml';

const minimal = (inner: string, ns = MSGHEAD_NS, mig = 'v1.2 2006-05-24'): string => `<?xml version="1.0" encoding="UTF-8"?>
<MsgHead xmlns="${ns}">
  <MsgInfo>
    <Type V="ERM1" DN="Resept"/>
    <MIGversion>${mig}</MIGversion>
    <GenDate>2026-02-10T09:14:03+01:00</GenDate>
    <MsgId>6c0e2a4b-9d1f-4b8e-8a37-2f5d1c9e0a11</MsgId>
    <Sender><Organisation><OrganisationName>Nidelv legesenter</OrganisationName>
      <Ident><Id>987654325</Id><TypeId V="ENH" S="2.16.578.1.12.4.1.1.9051"/></Ident></Organisation></Sender>
    <Receiver><Organisation><OrganisationName>Reseptformidleren</OrganisationName>
      <Ident><Id>80624</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051"/></Ident></Organisation></Receiver>
  </MsgInfo>
  ${inner}
</MsgHead>`;

const doc = '<Document><RefDoc><MsgType V="XML"/><Content><X xmlns="urn:payload"/></Content></RefDoc></Document>';

describe('MsgHead v1.2 reader', () => {
  it('reads an official envelope of another message type (M9.4) generically', () => {
    const r = parseMsgHead(official(M94));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { head } = r.value;
    expect(head.type).toEqual({ code: 'ERM94', display: 'Nedlasting av resept' });
    expect(head.msgId).toBe('18ee921e-f754-48eb-91da-c3dc532a82fe');
    expect(head.conversationRef).toEqual({
      refToParent: '18e1aadc-a3ce-4fef-8a92-1b0d6a59355a',
      refToConversation: '9ac162fe-17b4-497a-b4e2-5bb0a6e185df',
    });
    expect(head.sender.name).toBe('Reseptformidleren');
    expect(head.receiver.idents.map((i) => i.type.code)).toEqual(['ENH', 'LOK', 'AKO', 'HER']);
    expect(head.receiver.telecom).toEqual([{ type: { code: 'HP', display: 'Hovedtelefon' }, address: 'tel:23 20 41 00' }]);
    expect(head.documents).toHaveLength(2);
    expect(head.patient).toBeUndefined(); // M9.4 names no patient in its envelope
  });

  it('unwraps a Base64Container (the M1 inside M9.4) as bytes for a fresh parse', () => {
    const r = parseMsgHead(official(M94));
    if (!r.ok) throw new Error('parse failed');
    const [first, second] = r.value.head.documents.map(documentPayload);
    expect(first).toMatchObject({ ok: true, value: { kind: 'xml' } });
    expect(second?.ok && second.value.kind).toBe('base64');
    if (!second?.ok || second.value.kind !== 'base64') return;
    const inner = parseMsgHead(second.value.bytes, { expectType: 'ERM1' });
    expect(inner.ok && inner.value.head.msgId).toBe('c2883dc2-8eef-4b8e-a80f-167f858425f7');
  });

  it('refuses a Base64Container that is not base64', () => {
    const xml = minimal(
      '<Document><RefDoc><MsgType V="XML"/><Content><bas:Base64Container xmlns:bas="http://www.kith.no/xmlstds/base64container">not*base64!</bas:Base64Container></Content></RefDoc></Document>',
    );
    const r = parseMsgHead(xml);
    if (!r.ok) throw new Error('envelope should parse');
    const payload = documentPayload(r.value.head.documents[0]!);
    expect(payload.ok).toBe(false);
    if (!payload.ok) expect(payload.problem.issues[0]?.expression).toEqual(['MsgHead.Document.RefDoc.Content.Base64Container']);
  });

  it('knows whether the message is signed', () => {
    const unsigned = parseMsgHead(minimal(doc));
    const signed = parseMsgHead(minimal(`${doc}<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`));
    expect(unsigned.ok && unsigned.value.head.signed).toBe(false);
    expect(signed.ok && signed.value.head.signed).toBe(true);
  });

  it('refuses another MsgHead version, a wrong MIGversion and a foreign root', () => {
    const old = parseMsgHead(minimal(doc, 'http://www.kith.no/xmlstds/msghead/2005-11-22'));
    expect(!old.ok && messageErrorCode(old.problem)).toBe('unsupported-version');
    expect(!old.ok && old.problem.issues[0]?.code).toBe('not-supported');

    const mig = parseMsgHead(minimal(doc, MSGHEAD_NS, 'v1.1 2006-02-15'));
    expect(!mig.ok && messageErrorCode(mig.problem)).toBe('unsupported-version');
    expect(!mig.ok && mig.problem.issues[0]?.expression).toEqual(['MsgHead.MsgInfo.MIGversion']);

    const foreign = parseMsgHead('<Bundle xmlns="http://hl7.org/fhir"/>');
    expect(!foreign.ok && messageErrorCode(foreign.problem)).toBe('wrong-root');
  });

  it('refuses a message of another type when one is expected, naming MsgInfo/Type', () => {
    const r = parseMsgHead(minimal(doc), { expectType: 'ERM10' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.status).toBe(400);
    expect(messageErrorCode(r.problem)).toBe('unsupported-message-type');
    expect(r.problem.issues[0]?.expression).toEqual(['MsgHead.MsgInfo.Type']);
  });

  it('names the path of a missing mandatory envelope element', () => {
    const noDoc = parseMsgHead(minimal(''));
    expect(!noDoc.ok && noDoc.problem.issues[0]?.expression).toEqual(['MsgHead.Document']);
    const noSender = parseMsgHead(minimal(doc).replace(/<Sender>[\s\S]*<\/Sender>/, ''));
    expect(!noSender.ok && noSender.problem.issues[0]?.expression).toEqual(['MsgHead.MsgInfo.Sender']);
    const badDate = parseMsgHead(minimal(doc).replace('2026-02-10T09:14:03+01:00', '10.02.2026 09:14'));
    expect(!badDate.ok && messageErrorCode(badDate.problem)).toBe('invalid-value');
    expect(!badDate.ok && badDate.problem.issues[0]?.expression).toEqual(['MsgHead.MsgInfo.GenDate']);
  });

  it('refuses a second MsgInfo instead of silently reading the first', () => {
    const twice = minimal(doc).replace('</MsgInfo>', '</MsgInfo><MsgInfo/>');
    const r = parseXml(twice);
    if (!r.ok) throw new Error('xml should parse');
    const head = readMsgHead(r.value.root);
    expect(!head.ok && messageErrorCode(head.problem)).toBe('unexpected-element');
    expect(!head.ok && head.problem.issues[0]?.expression).toEqual(['MsgHead.MsgInfo[1]']);
  });
});
