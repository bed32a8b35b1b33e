import { describe, expect, it } from 'vitest';
import { buildM10, describeSubstitution, RESEPTFORMIDLEREN, type BuildM10Options } from '../../src/edispensation/m10.ts';
import { parseM10 } from '../../src/edispensation/parse-m10.ts';
import { parseXml } from '../../src/xml/parse.ts';
import { validateM10 } from './support/xsd.ts';
import { ADDISON_RX, addison, czechDispensation, fixture, HOSTILE, NCP, norwegianPackDispensation } from './support/fixtures.ts';

const NOW = new Date('2026-11-20T09:20:00Z');
const opts = (extra: Partial<BuildM10Options> = {}): BuildM10Options => ({
  msgId: '5f1b7c52-2f8e-4d38-9d0e-6f1a2b3c4d5e',
  now: NOW,
  remainingAfter: 2,
  patient: { personNumber: addison.fnr, family: addison.family, given: addison.given.join(' ') },
  ...extra,
});

async function expectValid(xml: string): Promise<void> {
  const r = await validateM10(xml);
  expect(r.valid, r.output).toBe(true);
}

const M10 = 'http://www.kith.no/xmlstds/eresept/m10/2013-10-08';
const UL = 'http://www.kith.no/xmlstds/eresept/utlevering/2013-10-08';
const MH = 'http://www.kith.no/xmlstds/msghead/2006-05-24';

function utlevering(xml: string) {
  const doc = parseXml(xml);
  if (!doc.ok) throw new Error('built M10 does not parse');
  const report = doc.value.root.child(MH, 'Document')?.child(MH, 'RefDoc')?.child(MH, 'Content')?.child(M10, 'Utleveringsrapport');
  return { root: doc.value.root, report: report!, ul: report!.child(UL, 'Utlevering')! };
}

describe('the XSD validator itself', () => {
  it('accepts the official sample M10s', async () => {
    await expectValid(fixture('m10/sample-ekspedering-utlevering.xml'));
    await expectValid(fixture('m10/sample-godkjenningsfritak.xml'));
  });

  it('rejects an M10 that lacks the mandatory AnsattId', async () => {
    const broken = fixture('m10/sample-ekspedering-utlevering.xml').replace(/<AnsattId>9876543<\/AnsattId>/, '');
    const r = await validateM10(broken);
    expect(r.valid).toBe(false);
    expect(r.output).toMatch(/AnsattId/);
  });

  it('rejects Utlevering children in the wrong order', async () => {
    const broken = fixture('m10/sample-ekspedering-utlevering.xml').replace(
      '<Annullering>false</Annullering>\n            <Avsluttet V="2" DN="Nei"/>',
      '<Avsluttet V="2" DN="Nei"/>\n            <Annullering>false</Annullering>',
    );
    expect((await validateM10(broken)).valid).toBe(false);
  });
});

describe('buildM10: dispensation abroad of a Norwegian prescription', () => {
  it('builds a schema-valid minimal M10 with the NCP as Utleverer and AnsattId', async () => {
    const xml = buildM10(czechDispensation(), NCP, opts());
    await expectValid(xml);
    const { root, report, ul } = utlevering(xml);
    expect(root.child(MH, 'MsgInfo')?.child(MH, 'Type')?.attr('V')).toBe('ERM10');
    expect(root.child(MH, 'MsgInfo')?.child(MH, 'MsgId')?.text).toBe('5f1b7c52-2f8e-4d38-9d0e-6f1a2b3c4d5e');
    expect(ul.child(UL, 'ReseptId')?.text).toBe(ADDISON_RX);
    // 10:12 in Prague on 20 November is the same calendar day in Norway.
    expect(ul.child(UL, 'Utleveringsdato')?.text).toBe('2026-11-20');
    expect(ul.child(UL, 'Annullering')?.text).toBe('false');
    expect(ul.child(UL, 'Avsluttet')?.attr('V')).toBe('2');
    expect(ul.child(UL, 'Utleverer')?.child(UL, 'Navn')?.text).toBe(NCP.name);
    expect(ul.child(UL, 'Utleverer')?.child(UL, 'HerId')?.child('http://www.kith.no/xmlstds/felleskomponent1', 'Id')?.text).toBe(NCP.herId);
    expect(report.child(M10, 'AnsattId')?.text).toBe(NCP.herId);
    expect(report.child(M10, 'ReservasjonRapportFastlege')?.text).toBe('false');
    const sender = root.child(MH, 'MsgInfo')?.child(MH, 'Sender')?.child(MH, 'Organisation');
    expect(sender?.all(MH, 'Ident').map((i) => i.child(MH, 'TypeId')?.attr('V'))).toEqual(['ENH', 'HER']);
    expect(root.child(MH, 'MsgInfo')?.child(MH, 'Receiver')?.child(MH, 'Organisation')?.child(MH, 'OrganisationName')?.text).toBe(RESEPTFORMIDLEREN.name);
    const patient = root.child(MH, 'MsgInfo')?.child(MH, 'Patient');
    expect(patient?.child(MH, 'Ident')?.child(MH, 'Id')?.text).toBe(addison.fnr);
    expect(patient?.child(MH, 'Ident')?.child(MH, 'TypeId')?.attr('V')).toBe('FNR');
  });

  it('records the foreign substitute as Intervensjon type V with the product in Begrunnelse, and no varenummer item', async () => {
    const xml = buildM10(czechDispensation(), NCP, opts());
    const { ul } = utlevering(xml);
    expect(ul.child('http://www.kith.no/xmlstds/eresept/m1/2013-10-08', 'ReseptDokLegemiddel')).toBeUndefined();
    const intervensjon = ul.child(UL, 'Intervensjon');
    expect(intervensjon?.child(UL, 'EndringsType')?.attr('V')).toBe('V');
    const begrunnelse = intervensjon?.child(UL, 'Begrunnelse')?.text ?? '';
    expect(begrunnelse).toContain('Hydrocortison Léčiva');
    expect(begrunnelse).toContain('10 mg');
    expect(begrunnelse).toContain('ATC H02AB09');
    expect(begrunnelse).toContain('Lékárna U Zlatého lva, CZ');
    expect(begrunnelse).toContain('i stedet for Hydrocortone');
    expect(begrunnelse).toContain('årsak: Hydrocortone 20 mg is not marketed in CZ');
  });

  it('has no Intervensjon when nothing was substituted', async () => {
    const xml = buildM10(czechDispensation({ substitution: { substituted: false } }), NCP, opts());
    await expectValid(xml);
    expect(utlevering(xml).ul.child(UL, 'Intervensjon')).toBeUndefined();
  });

  it('includes the dispensed Norwegian pack (varenummer, reseptgruppe, pack count) when it is known', async () => {
    const xml = buildM10(norwegianPackDispensation(), NCP, opts({ reiterasjon: 2 }));
    await expectValid(xml);
    const item = utlevering(xml).ul.child('http://www.kith.no/xmlstds/eresept/m1/2013-10-08', 'ReseptDokLegemiddel');
    expect(item?.child('http://www.kith.no/xmlstds/eresept/m1/2013-10-08', 'Antall')?.text).toBe('1');
    const pakning = item?.child('http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08', 'Forskrivning')?.child('http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08', 'Legemiddelpakning');
    expect(pakning?.child('http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08', 'Varenr')?.text).toBe('026721');
    expect(pakning?.child('http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08', 'Reseptgruppe')?.attr('V')).toBe('C');
  });

  it('sets Avsluttet from the remaining count: finished when nothing remains', async () => {
    const finished = buildM10(czechDispensation(), NCP, opts({ remainingAfter: 0 }));
    await expectValid(finished);
    expect(utlevering(finished).ul.child(UL, 'Avsluttet')?.attr('V')).toBe('1');
    expect(utlevering(buildM10(czechDispensation(), NCP, opts({ remainingAfter: 1 }))).ul.child(UL, 'Avsluttet')?.attr('V')).toBe('2');
  });

  it('builds a schema-valid annullering naming the withdrawn M10', async () => {
    const xml = buildM10(czechDispensation({ status: 'discarded' }), NCP, opts({ annullering: true, annulleringsId: '5f1b7c52-0000-4d38-9d0e-6f1a2b3c4d5e', msgId: 'b2d0a9e4-1111-4c2b-9f3e-2a1b0c9d8e7f', remainingAfter: 3 }));
    await expectValid(xml);
    const { ul } = utlevering(xml);
    expect(ul.child(UL, 'Annullering')?.text).toBe('true');
    expect(ul.child(UL, 'AnnulleringsId')?.text).toBe('5f1b7c52-0000-4d38-9d0e-6f1a2b3c4d5e');
    expect(ul.child(UL, 'Avsluttet')?.attr('V')).toBe('2');
  });

  it('uses the Norwegian calendar date: a late-evening dispensing in UTC is the next day in Norway', async () => {
    const xml = buildM10(czechDispensation({ whenHandedOver: '2026-06-30T22:30:00Z' }), NCP, opts());
    expect(utlevering(xml).ul.child(UL, 'Utleveringsdato')?.text).toBe('2026-07-01');
  });

  it('writes a D-nummer patient as DNR', async () => {
    const dnr = '52839410069'; // synthetic D-nummer (day + 40, month + 80) with valid check digits
    const xml = buildM10(czechDispensation(), NCP, opts({ patient: { personNumber: dnr, family: 'Solstad', given: 'Ingrid' } }));
    await expectValid(xml);
    expect(utlevering(xml).root.child(MH, 'MsgInfo')?.child(MH, 'Patient')?.child(MH, 'Ident')?.child(MH, 'TypeId')?.attr('V')).toBe('DNR');
  });

  it('keeps hostile foreign names inert and the document valid', async () => {
    const d = czechDispensation({
      product: { ...czechDispensation().product, name: `${HOSTILE.script} ${HOSTILE.cdataEnd}` },
      pharmacy: { name: `${HOSTILE.quotes} ${HOSTILE.rtl} lone \uD800 surrogate`, identifiers: [], country: 'CZ' },
      substitution: { substituted: true, reason: `${HOSTILE.control} ${HOSTILE.script}` },
      dosageText: HOSTILE.script,
    });
    const xml = buildM10(d, { ...NCP, name: `NCP ${HOSTILE.quotes}` }, opts());
    await expectValid(xml);
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain('<evil/>');
    expect(xml).not.toContain('\u0007');
    expect(xml).toContain('lone \uFFFD surrogate');
    const begrunnelse = utlevering(xml).ul.child(UL, 'Intervensjon')?.child(UL, 'Begrunnelse')?.text ?? '';
    expect(begrunnelse).toContain(HOSTILE.script);
    expect(begrunnelse).toContain('x]]><evil/>');
    expect(utlevering(xml).ul.child(UL, 'Utleverer')?.child(UL, 'Navn')?.text).toBe(`NCP ${HOSTILE.quotes}`);
  });

  it('bounds the Begrunnelse length however long the foreign text is', async () => {
    const d = czechDispensation({ substitution: { substituted: true, reason: 'x'.repeat(5000) } });
    expect(describeSubstitution(d).length).toBeLessThanOrEqual(1000);
    await expectValid(buildM10(d, NCP, opts()));
  });

  it('round-trips through the M10 parser', async () => {
    const xml = buildM10(norwegianPackDispensation(), NCP, opts());
    const back = parseM10(xml);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.value.prescription.identifier?.value).toBe(ADDISON_RX);
    expect(back.value.whenHandedOver).toBe('2026-11-20');
    expect(back.value.product.varenummer).toBe('026721');
    expect(back.value.pharmacy.identifiers).toContainEqual({ system: 'urn:oid:2.16.578.1.12.4.1.2', value: NCP.herId });
    expect(back.value.patient?.identifiers).toContainEqual({ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: addison.fnr });
  });

  it('refuses to build without a ReseptId or with an invalid patient number', async () => {
    const d = czechDispensation({ prescription: { reference: 'MedicationRequest/abc' } });
    expect(() => buildM10(d, NCP, opts())).toThrow(/ReseptId/);
    await expectValid(buildM10(d, NCP, opts({ reseptId: ADDISON_RX })));
    expect(() => buildM10(czechDispensation(), NCP, opts({ patient: { personNumber: '12345678901', family: 'X', given: 'Y' } }))).toThrow(/patient number/);
  });
});
