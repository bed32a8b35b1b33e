// What parseM1 reads out of the authored corpus, element by element.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import type { M1Message, ReseptDokHandelsvare, ReseptDokLegemiddel } from '../../src/eprescription/m1/model.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { MESSAGE_ERROR_SYSTEM, messageErrorCode } from '../../src/xml/errors.ts';

const fixture = (file: string): Buffer => readFileSync(fileURLToPath(new URL(`../fixtures/m1/valid/${file}`, import.meta.url)));
const text = (file: string): string => fixture(file).toString('utf8');

function m1(input: Uint8Array | string): M1Message {
  const r = parseM1(input);
  if (!r.ok) throw new Error(JSON.stringify(r.problem.issues));
  return r.value;
}
const legemiddel = (m: M1Message): ReseptDokLegemiddel => {
  if (m.resept.reseptDok.kind !== 'ReseptDokLegemiddel') throw new Error('not a medicinal product');
  return m.resept.reseptDok;
};
const handelsvare = (m: M1Message): ReseptDokHandelsvare => {
  if (m.resept.reseptDok.kind !== 'ReseptDokHandelsvare') throw new Error('not goods');
  return m.resept.reseptDok;
};
/** The model without what legitimately differs between two encodings of the same prescription. */
const comparable = (m: M1Message): unknown => ({ ...m, prescriptionId: undefined });

describe('parseM1: envelope, patient and prescriber', () => {
  const m = m1(fixture('01-pakning-hydrokortison.xml'));

  it('takes the prescription id from MsgHead/MsgInfo/MsgId', () => {
    expect(m.prescriptionId).toBe('b1f4c2a0-6d1e-4f0a-9a51-3c2e8d7f1001');
    expect(m.genDate).toBe('2026-02-10T09:14:03.512+01:00');
    expect(m.migVersion).toBe('v1.2 2006-05-24');
    expect(m.signed).toBe(true);
  });

  it('reads the patient from MsgInfo/Patient with fødselsnummer, names, sex and address', () => {
    const p = PERSONAS.addison;
    expect(m.patient).toMatchObject({
      fnr: p.fnr,
      familyName: p.family,
      givenName: p.given[0],
      middleName: p.given[1],
      sex: { code: '2', display: 'Kvinne' },
      address: { postalCode: p.postalCode, city: p.city, county: { code: '5001' } },
      path: 'MsgHead.MsgInfo.Patient',
    });
    expect(m.patient?.dnr).toBeUndefined();
  });

  it('reads the prescriber (HPR, names, category) and the sending organisation (org.nr, HER-id)', () => {
    expect(m.prescriber).toMatchObject({
      hpr: '9144889',
      her: '8143519',
      familyName: 'Koman',
      givenName: 'Magnar',
      category: { code: 'LE', display: 'Lege' },
      organisation: { name: 'Nidelv legesenter', orgnr: '987654325', her: '8143512', telecom: [{ address: 'tel:73001122' }] },
    });
    expect(m.prescriber.department).toBeUndefined();
    expect(m.receiver).toMatchObject({ name: 'Reseptformidleren', her: '80624', orgnr: '915933149' });
  });

  it('finds a hospital prescriber in the department sub-organisation', () => {
    const h = m1(fixture('05-pakning-natalizumab-sykehus.xml'));
    expect(h.prescriber).toMatchObject({
      hpr: '9187723',
      familyName: 'Aasen',
      organisation: { name: 'Haukeland universitetssjukehus', orgnr: '923456783', her: '90611' },
      department: { name: 'Nevrologisk avdeling', her: '90638' },
      path: 'MsgHead.MsgInfo.Sender.Organisation.Organisation.HealthcareProfessional',
    });
  });

  it('accepts a D-nummer patient with birth date and sex', () => {
    const d = m1(fixture('26-d-nummer.xml'));
    expect(d.patient).toMatchObject({ dnr: '41830850110', dateOfBirth: '2008-03-01', sex: { code: '2' } });
    expect(d.patient?.fnr).toBeUndefined();
  });

  it('accepts a prescription in the doctor’s name: birth date, sex and reference number, no person number', () => {
    const d = m1(fixture('17-rekvirert-i-legens-navn.xml'));
    expect(d.patient).toMatchObject({ dateOfBirth: '1979-05-14', sex: { code: '2' } });
    expect(d.patient?.fnr).toBeUndefined();
    expect(d.resept).toMatchObject({ rekvLegensNavn: true, lastResept: true, refNr: 'R4N8P2QL' });
  });

  it('has no patient for a prescription to the prescriber’s own practice', () => {
    const d = m1(fixture('18-til-egen-praksis.xml'));
    expect(d.patient).toBeUndefined();
    expect(d.resept.tilEgenPraksis).toBe(true);
  });
});

describe('parseM1: the Resept', () => {
  it('reads dates as calendar days, dropping the sender’s UTC offset', () => {
    const r = m1(fixture('01-pakning-hydrokortison.xml')).resept;
    expect(r).toMatchObject({ forskrivningsdato: '2026-02-10', utloper: '2027-02-09', oppdatertFest: '2026-02-09T06:00:00' });
    expect(r.tidligsteUtlevering).toBeUndefined();
    expect(m1(fixture('20-tidligste-utlevering-fram-i-tid.xml')).resept.tidligsteUtlevering).toBe('2026-04-01');
  });

  it('reads absent flags as false and present ones as written', () => {
    const r = m1(fixture('01-pakning-hydrokortison.xml')).resept;
    expect(r).toMatchObject({
      frikort: false,
      vernepliktig: false,
      vergeinnsynsreservasjon: false,
      tilEgenPraksis: false,
      rekvLegensNavn: false,
      lastResept: false,
      utskrevetSykehus: false,
    });
    expect(m1(fixture('16-vergeinnsynsreservasjon.xml')).resept.vergeinnsynsreservasjon).toBe(true);
    expect(m1(fixture('15-last-resept.xml')).resept).toMatchObject({ lastResept: true, refNr: 'K7Q2M9XW' });
  });

  it('reads the prescription document: amount, refund basis and code, repeats', () => {
    const dok = legemiddel(m1(fixture('01-pakning-hydrokortison.xml')));
    expect(dok).toMatchObject({
      varegruppekode: { code: 'L' },
      antall: 1,
      refHjemmel: { code: '200', oid: '2.16.578.1.12.4.1.1.7427', display: '§5-14 §2' },
      refKode: { code: 'E27.1', oid: '2.16.578.1.12.4.1.1.7110' },
      reiterasjon: 3,
    });
    expect(legemiddel(m1(fixture('04-pakning-amlodipin-reiterasjon.xml')))).toMatchObject({
      antall: 2,
      reiterasjon: 11,
      bytteresRekvirent: { code: '2', display: 'Nei' },
    });
  });

  it('reads Forskrivning: use, dosage text, short dose code and structured fixed-time doses', () => {
    const f = legemiddel(m1(fixture('01-pakning-hydrokortison.xml'))).forskrivning;
    expect(f.bruksomrade).toBe('MOT BINYREBARKSVIKT');
    expect(f.dosVeiledEnkel).toBe('1 tablett morgen og ½ tablett ettermiddag');
    expect(f.bruk).toEqual({ code: '1', display: 'Fast' });
    expect(f.dosering).toEqual([
      {
        starttidspunkt: '2026-02-10',
        doser: [
          { kind: 'DoseFastTidspunkt', mengde: { value: 1, unit: 'tablett' }, intervall: { value: 1, unit: 'Døgn' }, tidsomrade: { code: '1', display: 'Morgen' }, gisEksakt: false },
          { kind: 'DoseFastTidspunkt', mengde: { value: 0.5, unit: 'tablett' }, intervall: { value: 1, unit: 'Døgn' }, tidsomrade: { code: '4', display: 'Ettermiddag' }, gisEksakt: false },
        ],
      },
    ]);
    const k = legemiddel(m1(fixture('03-virkestoff-atorvastatin.xml'))).forskrivning.kortdose;
    expect(k).toEqual({ code: '21', oid: '2.16.578.1.12.4.1.1.7478', display: '0+0+1', originalText: '1 tablett kveld' });
  });

  it('reads as-needed doses with their daily maximum and minimum interval', () => {
    const d = legemiddel(m1(fixture('22-dose-etter-behov.xml'))).forskrivning.dosering[0];
    expect(d).toEqual({
      starttidspunkt: '2026-02-10',
      sluttidspunkt: '2026-03-10',
      doser: [
        {
          kind: 'DoseEtterBehov',
          mengde: { value: 2, unit: 'tablett' },
          doseDognMaks: { value: 8, unit: 'tablett' },
          doseTidsromMaks: { value: 8, unit: 'tablett' },
          tidsrom: { value: 1, unit: 'Døgn' },
          doseIntervallMin: { value: 4, unit: 'Time' },
        },
      ],
    });
  });

  it('reads the foreign-patient, dispatch-request and instituted-elsewhere blocks', () => {
    const r = m1(fixture('28-utlending-eea-ekspedering.xml')).resept;
    expect(r.spesialitet).toEqual({ code: '1', oid: '2.16.578.1.12.4.1.1.7426', display: 'Allmennmedisin' });
    expect(r.utlending).toEqual({
      konvensjonsland: { code: 'DE', display: 'Tyskland' },
      eea: { eeaDok: { code: 'EHIC', display: 'Europeisk helsetrygdkort' }, eeaCardId: '80276001234567890123', eeaGyldighet: '2028-12-31' },
    });
    expect(r.ekspAnm).toEqual({
      vilkar: true,
      metodeEkspedering: { code: 'F', display: 'Forsendelse' },
      utleverer: '81234',
      kontaktperson: 'Jonas Schmidt',
      adresse: { streetAdr: 'Elgeseter gate 10', postalCode: '7030', city: 'Trondheim' },
      merknad: 'Ring før levering',
      orgNrUtleverer: '975318648',
      utlevererNavn: 'Apotek Elgeseter',
    });
    expect(r.instituert?.organisasjon?.herId).toEqual({ id: '90611', type: { code: 'HER', oid: '2.16.578.1.12.4.1.1.9051', display: 'HER-id' } });
    expect(r.instituert?.helseperson).toMatchObject({ hprId: { id: '9187723' }, fornavn: 'Torbjørn', etternavn: 'Aasen' });
  });
});

describe('parseM1: every drug type', () => {
  it('Legemiddelpakning: ATC, name-form-strength, group, form, varenummer (leading zeros kept), package', () => {
    const drug = legemiddel(m1(fixture('04-pakning-amlodipin-reiterasjon.xml'))).forskrivning.legemiddel;
    expect(drug).toMatchObject({
      kind: 'Legemiddelpakning',
      atc: { code: 'C08CA01', oid: '2.16.578.1.12.4.1.1.7180', display: 'Amlodipin' },
      navnFormStyrke: 'Amlodipin Tab 5 mg',
      reseptgruppe: { code: 'C' },
      legemiddelformKort: { code: '53', oid: '2.16.578.1.12.4.1.1.7448', display: 'Tablett' },
      varenr: '046528',
      pakningsinfoResept: [{ varenavn: 'Amlodipin', pakningsstr: '98', enhetPakning: { code: 'stk', oid: '2.16.578.1.12.4.1.1.7452' } }],
    });
  });

  it('LegemiddelMerkevare: FEST id and brand name', () => {
    const drug = legemiddel(m1(fixture('02-merkevare-fludrokortison.xml'))).forskrivning.legemiddel;
    expect(drug).toMatchObject({
      kind: 'LegemiddelMerkevare',
      id: 'ID_5A1D0F6E-2B9C-4E71-8C0A-1F2E3D4C5B6A',
      varenavn: 'Florinef',
      navnFormStyrke: 'Florinef Tab 0,1 mg',
      atc: { code: 'H02AA02' },
    });
  });

  it('LegemiddelVirkestoff: the mandatory FEST id of the generic', () => {
    const drug = legemiddel(m1(fixture('03-virkestoff-atorvastatin.xml'))).forskrivning.legemiddel;
    expect(drug).toMatchObject({ kind: 'LegemiddelVirkestoff', id: 'ID_7C3B2A19-0E4D-4F5A-9B8C-6D5E4F3A2B1C', atc: { code: 'C10AA05' } });
  });

  it('Legemiddeldose: amount and references to brand and packages', () => {
    const drug = legemiddel(m1(fixture('06-legemiddeldose.xml'))).forskrivning.legemiddel;
    expect(drug).toMatchObject({
      kind: 'Legemiddeldose',
      id: 'ID_9E8D7C6B-5A49-4382-9170-A0B1C2D3E4F5',
      mengde: { value: 1, unit: 'stk' },
      refLegemiddelMerkevare: 'ID_1234ABCD-0000-4000-8000-000000000001',
      refPakning: ['ID_1234ABCD-0000-4000-8000-000000000002'],
    });
  });

  it('Legemiddelblanding (magistral): every kind of component with its amount', () => {
    const drug = legemiddel(m1(fixture('07-magistral.xml'))).forskrivning.legemiddel;
    if (drug.kind !== 'Legemiddelblanding') throw new Error('expected a magistral preparation');
    expect(drug).toMatchObject({ navn: 'Mentol 1 % i Locobase krem', mengde: { value: 100, unit: 'g' }, legemiddelform: { code: '34', display: 'Krem' } });
    expect(drug.bestanddelLegemiddel).toMatchObject([
      { legemiddel: { kind: 'Legemiddelpakning', varenr: '112233', reseptgruppe: { code: 'F' } }, mengde: { kind: 'MengdeBestanddel', mengde: { value: 99, unit: 'g' } } },
    ]);
    expect(drug.bestanddelAnnet).toEqual([{ navnFormStyrke: 'Renset vann', mengde: { kind: 'Utblanding', adqs: { code: 'ad', display: 'Til total mengde' } } }]);
    expect(drug.bestanddelVirkestoff).toEqual([
      {
        virkestoff: { id: 'ID_0F1E2D3C-4B5A-4697-8877-665544332211', navn: 'Mentol', refVirkestoff: [] },
        mengde: { kind: 'Styrke', teller: { value: 10, unit: 'mg' }, nevner: { value: 1, unit: 'g' } },
      },
    ]);
  });

  it('LegemiddelUtenMt: the unlicensed-drug application with its amount', () => {
    const dok = legemiddel(m1(fixture('11-uten-markedsforingstillatelse.xml')));
    expect(dok.legemiddelUtenMt).toEqual({ begrunnelse: 'Ingen tilsvarende preparat med markedsføringstillatelse', produsent: 'Syntetisk Farma GmbH', direktesoknadSlv: false });
    expect(dok.mengde).toEqual({ value: 30, unit: 'stk' });
  });

  it('ReseptDokHandelsvare: nutrition, consumables and breast prostheses', () => {
    expect(handelsvare(m1(fixture('08-handelsvare-naringsmiddel.xml')))).toMatchObject({
      varegruppekode: { code: 'A' },
      antall: 30,
      prodGruppe: { code: '40' },
      vare: { kind: 'Naringsmiddel', nr: '901234', navn: 'Energidrikk 200 ml', styrkeFormStoff: { stoff: ['Maltodekstrin', 'Vassleprotein'] } },
    });
    expect(handelsvare(m1(fixture('09-handelsvare-medforbmatr.xml'))).vare).toMatchObject({
      kind: 'MedForbMatr',
      bestanddelMatr: [{ navn: 'Strimmel', materiale: 'Plast' }],
    });
    expect(handelsvare(m1(fixture('10-handelsvare-brystprotese.xml'))).vare).toMatchObject({ kind: 'Brystprotese', nr: '903456' });
  });
});

describe('parseM1: the same prescription written differently reads the same', () => {
  const reference = comparable(m1(fixture('01-pakning-hydrokortison.xml')));

  it.each([
    ['23-prefiks-mh-m1-fs.xml', 'fixed prefixes declared on the root'],
    ['24-uvanlige-prefiks.xml', 'odd prefixes, one prefix rebound from M1 to Forskrivning'],
    ['25-blandet-prefiks-og-standard.xml', 'a prefixed envelope around default-namespace content'],
  ])('%s (%s)', (file) => {
    expect(comparable(m1(fixture(file)))).toEqual(reference);
  });

  it('without any whitespace between elements', () => {
    expect(comparable(m1(fixture('31-kompakt-uten-mellomrom.xml')))).toEqual(comparable(m1(fixture('03-virkestoff-atorvastatin.xml'))));
  });

  it('with a UTF-8 byte order mark', () => {
    expect(comparable(m1(fixture('30-utf8-bom.xml')))).toEqual(comparable(m1(fixture('02-merkevare-fludrokortison.xml'))));
  });

  it('in ISO-8859-1', () => {
    const latin1 = m1(fixture('29-iso-8859-1.xml'));
    expect(comparable(latin1)).toEqual(comparable(m1(fixture('05-pakning-natalizumab-sykehus.xml'))));
    expect(latin1.patient?.givenName).toBe('Bjørn');
    expect(latin1.prescriber.givenName).toBe('Torbjørn');
  });

  it('in Windows-1252, with typographic characters only that code page has', () => {
    expect(legemiddel(m1(fixture('33-windows-1252.xml'))).forskrivning.bruksomrade).toBe('MOT BINYREBARKSVIKT – “stressdose” ved feber');
  });

  it('with CDATA sections, comments, a processing instruction and the 2022 extension element', () => {
    const m = m1(fixture('32-cdata-kommentarer-utvidelse.xml'));
    expect(m.patient?.givenName).toBe('Ingrid');
    expect(legemiddel(m).forskrivning.bruksomrade).toBe('MOT BINYREBARKSVIKT');
    expect({ ...m.resept }).toEqual(m1(fixture('01-pakning-hydrokortison.xml')).resept);
  });

  it('is indifferent to which bytes or string form the input takes', () => {
    const bytes = fixture('01-pakning-hydrokortison.xml');
    expect(m1(bytes.toString('utf8'))).toEqual(m1(bytes));
    expect(m1(new Uint8Array(bytes))).toEqual(m1(bytes));
  });
});

describe('parseM1: hostile content is data, never markup', () => {
  const m = m1(fixture('27-fiendtlige-navn.xml'));

  it('keeps script, markup, quotes and right-to-left characters in names verbatim', () => {
    const p = PERSONAS.hostile;
    expect(m.patient?.givenName).toBe(p.given[0]);
    expect(m.patient?.middleName).toBe(p.given[1]);
    expect(m.patient?.familyName).toBe(p.family);
    expect(m.prescriber.familyName).toBe('Berntsen </FamilyName><Injected/>');
    expect(m.prescriber.givenName).toBe('&amp; ]]> <![CDATA[x]]>');
  });

  it('does not let escaped markup become elements', () => {
    expect(JSON.stringify(m)).not.toContain('"Injected"');
    expect(legemiddel(m).forskrivning.bruksomrade).toBe('<b>MOT</b> "SMERTER" & feber');
    expect(legemiddel(m).forskrivning.dosVeiledEnkel).toBe('1 tablett\n morgen\t& kveld');
  });
});

describe('parseM1: warnings for what RF would frown on but Helsebro can still read', () => {
  const base = text('01-pakning-hydrokortison.xml');

  it('warns, naming the Ident, when the fødselsnummer has wrong check digits', () => {
    const r = parseM1(base.replace('<Id>12839410075</Id>', '<Id>12839410076</Id>'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.patient?.fnr).toBe('12839410076');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ severity: 'warning', code: 'value', expression: ['MsgHead.MsgInfo.Patient.Ident'] });
    expect(r.warnings[0]?.details?.coding?.[0]?.system).toBe(MESSAGE_ERROR_SYSTEM);
  });

  it('warns when the expiry date lies before the prescription date', () => {
    const r = parseM1(base.replace('<Utloper>2027-02-09+01:00</Utloper>', '<Utloper>2026-01-09+01:00</Utloper>'));
    expect(r.ok && r.warnings.map((w) => w.expression?.[0])).toEqual(['MsgHead.Document.RefDoc.Content.Resept.Utloper']);
  });

  it('warns when a D-nummer patient lacks birth date and sex', () => {
    const r = parseM1(
      text('26-d-nummer.xml')
        .replace('<DateOfBirth>2008-03-01</DateOfBirth>', '')
        .replace(/<Sex [^>]*\/>/, ''),
    );
    expect(r.ok && r.warnings.map((w) => w.diagnostics)).toEqual(['Without a fødselsnummer the patient should have DateOfBirth and Sex']);
  });
});

describe('parseM1: refusals name the element', () => {
  const base = text('01-pakning-hydrokortison.xml');

  it('reads an empty Reiterasjon as its schema default 0, but refuses text', () => {
    const empty = parseM1(base.replace('<Reiterasjon>3</Reiterasjon>', '<Reiterasjon/>'));
    expect(empty.ok && (empty.value.resept.reseptDok as ReseptDokLegemiddel).reiterasjon).toBe(0);
    const text3 = parseM1(base.replace('<Reiterasjon>3</Reiterasjon>', '<Reiterasjon>tre</Reiterasjon>'));
    expect(!text3.ok && text3.problem.issues[0]?.expression).toEqual(['MsgHead.Document.RefDoc.Content.Resept.ReseptDokLegemiddel.Reiterasjon']);
  });

  it('refuses a Dosering with both fixed-time and as-needed doses', () => {
    const mixed = base.replace(
      '</Dosering>',
      '<DoseEtterBehov><Mengde V="1"/><DoseDognMaks V="2"/><DoseTidsromMaks V="2"/><Tidsrom V="1"/><DoseIntervallMin V="4"/></DoseEtterBehov></Dosering>',
    );
    const r = parseM1(mixed);
    expect(!r.ok && messageErrorCode(r.problem)).toBe('unexpected-element');
    expect(!r.ok && r.problem.issues[0]?.expression?.[0]).toMatch(/Dosering\.DoseEtterBehov$/);
  });

  it('refuses a coded value whose code system is not an OID', () => {
    const r = parseM1(base.replace('S="2.16.578.1.12.4.1.1.7180"', 'S="http://www.whocc.no/atc"'));
    expect(!r.ok && r.problem.issues[0]?.expression?.[0]).toMatch(/Legemiddelpakning\.Atc$/);
  });

  it('refuses a decimal comma in a dose quantity', () => {
    const r = parseM1(base.replace('<Mengde V="0.5" U="tablett"/>', '<Mengde V="0,5" U="tablett"/>'));
    expect(!r.ok && r.problem.issues[0]?.expression?.[0]).toMatch(/DoseFastTidspunkt\[1\]\.Mengde$/);
  });
});
