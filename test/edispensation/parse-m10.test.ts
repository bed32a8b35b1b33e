import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/fhir/outcomes.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { messageErrorCode } from '../../src/xml/errors.ts';
import { M10_MSGID_SYSTEM, VARENUMMER_SYSTEM } from '../../src/edispensation/codes.ts';
import { parseM10 } from '../../src/edispensation/parse-m10.ts';
import { escapeXml } from '../../src/fhir/xhtml.ts';
import { fixture, HOSTILE } from './support/fixtures.ts';

const sample = () => fixture('m10/sample-ekspedering-utlevering.xml');
const EU_RX_SYSTEM = 'https://helsebro.no/fhir/NamingSystem/eu-prescription-id';

function refuse(xml: string): { status: number; code: string | undefined; expression: string } {
  const r = parseM10(xml);
  if (r.ok) throw new Error('expected a Problem');
  const p: Problem = r.problem;
  return { status: p.status, code: messageErrorCode(p), expression: p.issues[0]?.expression?.[0] ?? '' };
}

describe('parseM10: official sample M10s', () => {
  it('reads the dispensing report of the "Ekspedering og utlevering" scenario', () => {
    const r = parseM10(sample(), { prescriptionIdSystem: EU_RX_SYSTEM });
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    const d = r.value;
    expect(d.source).toBe('m10');
    expect(d.status).toBe('completed');
    expect(d.identifier).toEqual({ system: M10_MSGID_SYSTEM, value: '4a774ee6-94f5-48d2-bd15-1537a1b70e1c' });
    expect(d.prescription.identifier).toEqual({ system: EU_RX_SYSTEM, value: 'c2883dc2-8eef-4b8e-a80f-167f858425f7' });
    expect(d.whenHandedOver).toBe('2019-07-16');
    expect(d.product).toMatchObject({
      name: 'Cosylan Mikst 1,7 mg/ml',
      varenummer: '541409',
      reseptgruppe: 'B',
      atc: { system: 'http://www.whocc.no/atc', code: 'R05DA01' },
      form: { system: 'urn:oid:2.16.578.1.12.4.1.1.7448', code: '9', display: 'Mikstur' },
    });
    expect(d.product.codes).toContainEqual({ system: VARENUMMER_SYSTEM, code: '541409' });
    expect(d.product.package?.size).toMatchObject({ value: 125, code: 'ML' });
    expect(d.quantity).toMatchObject({ value: 1, code: '{pack}' });
    expect(d.pharmacy).toEqual({
      name: 'Apotek 1 Ski Storsenter',
      country: 'NO',
      identifiers: [
        { system: OID.her, value: '8090688' },
        { system: OID.orgnr, value: '983044778' },
      ],
    });
    expect(d.pharmacist?.identifiers).toEqual([{ system: OID.hpr, value: '9876543' }]);
    expect(d.patient).toMatchObject({ family: 'Knutsen', given: ['Ottar'], identifiers: [{ system: OID.fnr, value: '21014605158' }] });
    expect(d.dosageText).toBe('HOSTEDEMPENDE\n10 ml 3 ganger daglig');
    expect(d.substitution.substituted).toBe(false);
  });

  it('reads the "Søknad om godkjenningsfritak" M10, whose pack size is not a plain number', () => {
    const r = parseM10(fixture('m10/sample-godkjenningsfritak.xml'));
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    expect(r.value.prescription.identifier).toEqual({ value: '717c1879-9271-4828-9c59-1681392408b9' });
    expect(r.value.product.varenummer).toBe('343544');
    expect(r.value.product.package?.description).toBe('Iscador P Serie II 2x7x1 MLAMP');
    expect(r.value.product.package?.size).toBeUndefined();
  });

  it('reads an annullering as a discard of the M10 it names', () => {
    const xml = sample()
      .replace('<Annullering>false</Annullering>', '<Annullering>true</Annullering>')
      .replace('<ByttereservasjonKunde>false</ByttereservasjonKunde>', '<ByttereservasjonKunde>false</ByttereservasjonKunde>\n<AnnulleringsId>3b1f0c2d-0000-4d38-9d0e-6f1a2b3c4d5e</AnnulleringsId>');
    const r = parseM10(xml);
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    expect(r.value.status).toBe('discarded');
    expect(r.value.discardOf).toEqual({ system: M10_MSGID_SYSTEM, value: '3b1f0c2d-0000-4d38-9d0e-6f1a2b3c4d5e' });
  });

  it('warns when an annullering does not say which M10 it withdraws', () => {
    const r = parseM10(sample().replace('<Annullering>false</Annullering>', '<Annullering>true</Annullering>'));
    expect(r.ok && r.value.discardOf).toBeUndefined();
    expect(r.ok && r.warnings[0]?.diagnostics).toMatch(/AnnulleringsId/);
  });

  it('reads an Intervensjon of type V as a substitution with its Begrunnelse', () => {
    const xml = sample().replace(
      '</Utleverer>',
      '</Utleverer>\n<Intervensjon><EndringsType V="V" DN="Valgt annen vare"/><Begrunnelse>Forskrevet pakning utsolgt</Begrunnelse></Intervensjon>',
    );
    const r = parseM10(xml);
    expect(r.ok && r.value.substitution).toEqual({ substituted: true, reason: 'Forskrevet pakning utsolgt' });
  });

  it('keeps a hostile pharmacy name as text', () => {
    const r = parseM10(sample().replaceAll('<Navn>Apotek 1 Ski Storsenter</Navn>', `<Navn>${escapeXml(HOSTILE.script)}</Navn>`));
    expect(r.ok && r.value.pharmacy.name).toBe(HOSTILE.script);
  });
});

describe('parseM10: malformed and hostile input', () => {
  it('refuses XXE', () => {
    const xml = sample().replace('<MsgHead', '<!DOCTYPE MsgHead [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<MsgHead').replace('<AnsattId>9876543</AnsattId>', '<AnsattId>&x;</AnsattId>');
    expect(refuse(xml)).toMatchObject({ status: 400, code: 'xml-doctype' });
  });

  it('refuses a truncated message', () => {
    expect(refuse(sample().slice(0, 3000)).code).toBe('xml-malformed');
  });

  it('refuses the wrong root and another message type', () => {
    expect(refuse(fixture('edispensation/eD-CZ-CzRequest1.dk-ehdsi.xml')).code).toBe('wrong-root');
    expect(refuse(sample().replace('<Type V="ERM10"', '<Type V="ERM1"')).code).toBe('unsupported-message-type');
  });

  it('refuses an M10 of an older eResept version', () => {
    expect(refuse(sample().replace('eresept/m10/2013-10-08"', 'eresept/m10/2010-06-07"')).code).toBe('unsupported-version');
  });

  it('refuses an M10 without the dispensed item, which the EU eDispensation needs', () => {
    const xml = sample().replace(/<ReseptDokLegemiddel[\s\S]*<\/ReseptDokLegemiddel>/, '');
    expect(refuse(xml)).toMatchObject({ status: 400, code: 'missing-element' });
  });

  it('refuses goods outside the EU scope with 422', () => {
    const xml = sample().replace(/<ReseptDokLegemiddel[\s\S]*<\/ReseptDokLegemiddel>/, '<ReseptDokHandelsvare xmlns="http://www.kith.no/xmlstds/eresept/m1/2013-10-08"><Varegruppekode V="A" DN="Annet"/></ReseptDokHandelsvare>');
    expect(refuse(xml)).toMatchObject({ status: 422, code: 'unexpected-element' });
  });

  it.each([
    ['negative', '-1.000'],
    ['zero', '0'],
    ['not a number', 'en'],
    ['absurd', '99999999'],
  ])('refuses a %s Antall', (_label, antall) => {
    expect(refuse(sample().replace('<Antall>1.000</Antall>', `<Antall>${antall}</Antall>`)).code).toBe('invalid-value');
  });

  it.each([
    ['an invalid date', '<Utleveringsdato>2019-02-30</Utleveringsdato>'],
    ['a non-boolean Annullering', '<Annullering>kanskje</Annullering>'],
    ['a varenummer that is not a number', '<Varenr>54&lt;1</Varenr>'],
  ])('refuses %s', (_label, replacement) => {
    const tag = /<(\w+)>/.exec(replacement)![1]!;
    const xml = sample().replace(new RegExp(`<${tag}>[^<]*</${tag}>`), replacement);
    expect(refuse(xml).code).toBe('invalid-value');
  });

  it.each(['ReseptId', 'AnsattId', 'MsgId'])('refuses a message without %s', (tag) => {
    expect(refuse(sample().replace(new RegExp(`<${tag}>[^<]*</${tag}>`), `<${tag}></${tag}>`)).code).toBe('missing-element');
  });

  it('accepts a zone on Utleveringsdato (xs:date allows one) and drops it', () => {
    const r = parseM10(sample().replace('<Utleveringsdato>2019-07-16</Utleveringsdato>', '<Utleveringsdato>2019-07-16+02:00</Utleveringsdato>'));
    expect(r.ok && r.value.whenHandedOver).toBe('2019-07-16');
  });
});
