import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/fhir/outcomes.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { messageErrorCode } from '../../src/xml/errors.ts';
import { parseEhdsiDispensationCda, type ParseCdaOptions } from '../../src/edispensation/parse-cda.ts';
import { dispensationFingerprint } from '../../src/edispensation/identity.ts';
import { buildM10 } from '../../src/edispensation/m10.ts';
import { escapeXml } from '../../src/fhir/xhtml.ts';
import { validateM10 } from './support/xsd.ts';
import { ADDISON_RX, addison, fixture, HOSTILE, NCP } from './support/fixtures.ts';

const NORWAY: ParseCdaOptions = { systemForOid: (oid) => (oid === '2.999.47.1' ? PRESCRIPTION_ID_SYSTEM : undefined) };
const addisonCda = () => fixture('edispensation/no-addison-cz-substituted.xml');

function problemOf(r: ReturnType<typeof parseEhdsiDispensationCda>): Problem {
  if (r.ok) throw new Error('expected a Problem');
  return r.problem;
}

describe('parseEhdsiDispensationCda: official eDispensation samples', () => {
  it.each([
    ['eD-CZ-CzRequest1.dk-ehdsi.xml', '469854419288102', 'Pinex', 'CZ', false],
    ['eD-GR-GrRequest1.dk-ehdsi.xml', '465668632384101', 'ALGOCIT', 'GR', true],
    ['eD-PL-PlRequest1.dk-ehdsi.xml', '481295000650102', 'Asubtela', 'PL', false],
    ['eD-MT-malta20250320.dk-ehdsi.xml', '480003371650102', 'Paracetamol 10 mg/ml solution for infusion', 'MT', true],
  ])('%s', (file, prescriptionId, productName, country, substituted) => {
    const r = parseEhdsiDispensationCda(fixture(`edispensation/${file}`));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = r.value;
    expect(d.source).toBe('ehdsi-cda');
    expect(d.prescription.identifier).toEqual({ system: 'urn:oid:1.2.208.176.7.2.2', value: prescriptionId });
    expect(d.product.name).toBe(productName);
    expect(d.pharmacy.country).toBe(country);
    expect(d.substitution.substituted).toBe(substituted);
    expect(d.quantity.value).toBe(1);
    expect(d.whenHandedOver).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
    // The patient is a Danish test person: a CPR number under the DK root.
    expect(d.patient?.identifiers[0]?.system).toBe('urn:oid:1.2.208.176.1.2');
    if (substituted) expect(d.substitution.originalProduct?.name).toBeTruthy();
  });

  it('reads product details, the pharmacist and the pharmacy of the Polish sample', async () => {
    const r = parseEhdsiDispensationCda(fixture('edispensation/eD-PL-PlRequest1.dk-ehdsi.xml'));
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    const d = r.value;
    expect(d.product.atc).toMatchObject({ system: 'http://www.whocc.no/atc', code: 'G03AA12' });
    expect(d.product.form).toMatchObject({ system: 'http://standardterms.edqm.eu', code: '10221000' });
    expect(d.product.strength).toBe('3 mg + 0,03 mg');
    expect(d.product.package?.size).toEqual({ value: 21, unit: 'tablet' });
    expect(d.product.codes.map((c) => c.code)).toEqual(expect.arrayContaining(['100224877', '05909990773541']));
    expect(d.pharmacist).toMatchObject({ family: 'Testowy', given: ['Farmaceuta'] });
    expect(d.pharmacy).toMatchObject({ name: 'Apteka porcelanowa', identifiers: [{ system: 'urn:oid:2.16.840.1.113883.3.4424.2.6', value: '1230011' }] });
  });

  it('keeps the Danish national form code that the NCP nested as a translation', async () => {
    const r = parseEhdsiDispensationCda(fixture('edispensation/eD-CZ-CzRequest1.dk-ehdsi.xml'));
    // Top level is the EDQM code; codes from nested translations are not mistaken for the form.
    expect(r.ok && r.value.product.form?.code).toBe('10714000');
  });
});

describe('parseEhdsiDispensationCda: a Czech pharmacy dispensing a Norwegian prescription', () => {
  it('maps the prescription root to the Norwegian prescription-id system and reads the substitution', async () => {
    const r = parseEhdsiDispensationCda(addisonCda(), NORWAY);
    if (!r.ok) throw new Error(JSON.stringify(r.problem));
    const d = r.value;
    expect(d.prescription.identifier).toEqual({ system: PRESCRIPTION_ID_SYSTEM, value: ADDISON_RX });
    expect(d.identifier).toEqual({ system: 'urn:oid:2.16.17.710.804.1000.990.1.7', value: 'CZ-DISP-2026-000731' });
    expect(d.patient?.identifiers).toEqual([{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: addison.fnr }]);
    expect(d.whenHandedOver).toBe('2026-11-20T10:12:00+01:00');
    expect(d.recorded).toBe('2026-11-20T10:15:00+01:00');
    expect(d.quantity).toMatchObject({ value: 2, code: '1' });
    expect(d.substitution).toMatchObject({ substituted: true, reason: 'Hydrocortone 20 mg is not marketed in CZ', originalProduct: { name: 'Hydrocortone', strength: '20 mg' } });
    expect(d.pharmacy).toEqual({ name: 'Lékárna U Zlatého lva', identifiers: [{ system: 'urn:oid:1.3.154.1', value: 'LEKARNA-0731' }], country: 'CZ' });
    expect(d.pharmacist).toMatchObject({ family: 'Nováková', given: ['Jana'] });
    expect(d.dosageText).toBe('1 tablett morgen og 1/2 tablett ettermiddag');
    expect(r.warnings).toEqual([]);
  });

  it('feeds an XSD-valid M10', async () => {
    const r = parseEhdsiDispensationCda(addisonCda(), NORWAY);
    if (!r.ok) throw new Error('parse failed');
    const xml = buildM10(r.value, NCP, { msgId: '0d6c1a3e-7b2f-4e8a-9c1d-2e3f4a5b6c7d', now: new Date('2026-11-20T09:30:00Z'), remainingAfter: 2 });
    const v = await validateM10(xml);
    expect(v.valid, v.output).toBe(true);
  });

  it('reads a discard delivered by the NCP as a discard of the same dispensation', async () => {
    const r = parseEhdsiDispensationCda(addisonCda(), { ...NORWAY, discard: true });
    expect(r.ok && r.value.status).toBe('discarded');
    expect(r.ok && r.value.discardOf).toEqual({ system: 'urn:oid:2.16.17.710.804.1000.990.1.7', value: 'CZ-DISP-2026-000731' });
  });

  it('gives the same fingerprint after the NCP translates display names into another language', async () => {
    const a = parseEhdsiDispensationCda(addisonCda(), NORWAY);
    const b = parseEhdsiDispensationCda(addisonCda().replace('displayName="Tablet"', 'displayName="Tableta"').replace('displayName="hydrocortisone"', 'displayName="hydrokortison"'), NORWAY);
    if (!a.ok || !b.ok) throw new Error('parse failed');
    expect(dispensationFingerprint(a.value)).toBe(dispensationFingerprint(b.value));
    const c = parseEhdsiDispensationCda(addisonCda().replace('<quantity unit="1" value="2"/>', '<quantity unit="1" value="3"/>'), NORWAY);
    if (!c.ok) throw new Error('parse failed');
    expect(dispensationFingerprint(c.value)).not.toBe(dispensationFingerprint(a.value));
  });

  it('keeps markup in names as text', async () => {
    const r = parseEhdsiDispensationCda(addisonCda().replaceAll('Lékárna U Zlatého lva', escapeXml(HOSTILE.script)).replaceAll('Nováková', escapeXml(HOSTILE.rtl)), NORWAY);
    expect(r.ok && r.value.pharmacy.name).toBe(HOSTILE.script);
    expect(r.ok && r.value.pharmacist?.family).toBe(HOSTILE.rtl);
  });
});

describe('parseEhdsiDispensationCda: malformed and hostile input', () => {
  const refuse = (xml: string, opts: ParseCdaOptions = NORWAY) => {
    const p = problemOf(parseEhdsiDispensationCda(xml, opts));
    return { status: p.status, code: messageErrorCode(p), expression: p.issues[0]?.expression?.[0] ?? '' };
  };

  it('refuses an external entity (XXE)', async () => {
    const xxe = addisonCda().replace('<ClinicalDocument', '<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<ClinicalDocument').replace('<title>Medication dispensed</title>', '<title>&xxe;</title>');
    expect(refuse(xxe)).toMatchObject({ status: 400, code: 'xml-doctype' });
  });

  it('refuses an entity-expansion bomb', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol2;</title></ClinicalDocument>`;
    expect(refuse(bomb).code).toBe('xml-doctype');
  });

  it('refuses a truncated document', async () => {
    const xml = addisonCda();
    expect(refuse(xml.slice(0, xml.length / 2)).code).toBe('xml-malformed');
  });

  it('refuses a document over the size limit', async () => {
    expect(refuse(addisonCda(), { ...NORWAY, maxBytes: 1024 })).toMatchObject({ status: 413, code: 'xml-too-large' });
  });

  it('refuses the wrong root element', async () => {
    expect(refuse(fixture('m10/sample-ekspedering-utlevering.xml')).code).toBe('wrong-root');
    expect(refuse('<ClinicalDocument><code code="60593-1"/></ClinicalDocument>').code).toBe('wrong-root'); // no HL7 namespace
  });

  it('refuses an ePrescription sent to the eDispensation intake', async () => {
    const ep = addisonCda().replace('1.3.6.1.4.1.12559.11.10.1.3.1.1.2', '1.3.6.1.4.1.12559.11.10.1.3.1.1.1').replace('code="60593-1"', 'code="57833-6"');
    expect(refuse(ep).code).toBe('unsupported-message-type');
    expect(refuse(addisonCda().replace('code="60593-1"', 'code="60591-5"')).code).toBe('unsupported-message-type');
  });

  it('refuses a document whose two prescription references disagree', async () => {
    const xml = addisonCda().replace('<id root="2.999.47.1" extension="a7c1d2e3-4b5f-4a6b-8c9d-0e1f2a3b4c5d"/>\n                  <text>', '<id root="2.999.47.1" extension="ffffffff-4b5f-4a6b-8c9d-0e1f2a3b4c5d"/>\n                  <text>');
    expect(refuse(xml).code).toBe('invalid-value');
  });

  it('refuses a document without the prescription id', async () => {
    const xml = addisonCda().replace(/<inFulfillmentOf>[\s\S]*?<\/inFulfillmentOf>/, '').replace(/<entryRelationship typeCode="REFR">[\s\S]*?<\/entryRelationship>/, '');
    expect(refuse(xml).code).toBe('missing-element');
  });

  it('refuses more than one dispensed product', async () => {
    const xml = addisonCda().replace(/(<entry typeCode="COMP">[\s\S]*?<\/entry>)/, '$1$1');
    expect(refuse(xml).code).toBe('unexpected-element');
  });

  it.each([
    ['negative', '-2', 'invalid-value'],
    ['zero', '0', 'invalid-value'],
    ['not a number', '2e3', 'invalid-value'],
    ['absurd', '1000000', 'invalid-value'],
  ])('refuses a %s dispensed quantity', (_label, value, code) => {
    expect(refuse(addisonCda().replace('<quantity unit="1" value="2"/>', `<quantity unit="1" value="${value}"/>`)).code).toBe(code);
  });

  it('refuses a supply without quantity, id or product name', async () => {
    expect(refuse(addisonCda().replace('<quantity unit="1" value="2"/>', '')).code).toBe('missing-element');
    expect(refuse(addisonCda().replace('<id root="2.16.17.710.804.1000.990.1.7" extension="CZ-DISP-2026-000731"/>', '')).code).toBe('missing-element');
    expect(refuse(addisonCda().replace('<name>Hydrocortison Léčiva</name>', '')).code).toBe('missing-element');
  });

  it('refuses an invalid timestamp and a non-OID identifier root', async () => {
    expect(refuse(addisonCda().replace('<time value="20261120101200+0100"/>', '<time value="2026-11-20"/>')).code).toBe('invalid-value');
    expect(refuse(addisonCda().replace('root="2.16.17.710.804.1000.990.1.7"', 'root="javascript:alert(1)"')).code).toBe('invalid-value');
  });

  it('accepts another prefix for the pharm namespace (prefixes are not names)', async () => {
    const xml = addisonCda().replaceAll('pharm:', 'p:').replace('xmlns:pharm="urn:hl7-org:pharm"', 'xmlns:p="urn:hl7-org:pharm"');
    const r = parseEhdsiDispensationCda(xml, NORWAY);
    expect(r.ok && r.value.product.strength).toBe('10 mg');
  });
});
