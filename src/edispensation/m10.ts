// Builds the minimal M10 Utleveringsrapport (eResept 2.5, inside MsgHead v1.2) that tells
// Reseptformidleren a Norwegian prescription was dispensed abroad (DOMAIN.md "eDispensation back").
// A foreign pharmacy has no HER-id and its pharmacist no HPR-nummer, so the Norwegian NCP stands in as
// Utleverer and AnsattId; a foreign product has no varenummer, so it is described in an Intervensjon
// of type V. The output validates against ER-M10-2013-10-08.xsd (see schemas/kith/ and the tests).
// Everything from the foreign document passes escapeXml; the layout is fixed here, never taken from input.
import { PRESCRIPTION_ID_SYSTEM, CODE_SYSTEM, parsePersonNumber } from '../fhir/identifiers.ts';
import { escapeXml } from '../fhir/xhtml.ts';
import type { Dispensation, DispensedProduct } from './model.ts';
import { norwegianDate } from './values.ts';

export const NS_MSGHEAD = 'http://www.kith.no/xmlstds/msghead/2006-05-24';
export const NS_M10 = 'http://www.kith.no/xmlstds/eresept/m10/2013-10-08';
export const NS_UTLEVERING = 'http://www.kith.no/xmlstds/eresept/utlevering/2013-10-08';
export const NS_M1 = 'http://www.kith.no/xmlstds/eresept/m1/2013-10-08';
export const NS_FORSKRIVNING = 'http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08';
export const NS_FK1 = 'http://www.kith.no/xmlstds/felleskomponent1';

const VOLVEN = (nr: number) => `2.16.578.1.12.4.1.1.${nr}`;
const ORG_ID_TYPE = VOLVEN(9051);
const PERSON_ID_TYPE = VOLVEN(8116);

export interface M10Party {
  herId: string;
  orgnr: string;
  name: string;
}

export interface NcpIdentity extends M10Party {
  /** Sender phone number; Reseptformidleren requires one on M10 (R1308 §4.1.3). */
  phone?: string;
  /** AnsattId to report; defaults to the NCP's HER-id because no foreign pharmacist has an HPR-nummer. */
  ansattId?: string;
}

/**
 * Reseptformidleren as addressed in the official eResept 2.5 sample messages. Configure the
 * production values (from the Adresseregister) rather than relying on this default.
 */
export const RESEPTFORMIDLEREN: M10Party = { name: 'Reseptformidleren', orgnr: '982528011', herId: '2397.1' };

export interface M10Patient {
  /** Fødselsnummer or D-nummer (11 digits, check digits valid). */
  personNumber: string;
  family: string;
  given: string;
}

export interface BuildM10Options {
  /** MsgHead MsgId of this M10 (a new GUID per message; store it to cancel the M10 later). */
  msgId: string;
  now: Date;
  /** true for the M10 that withdraws an earlier one (a discard within 24 hours). */
  annullering?: boolean;
  /** MsgId of the M10 being withdrawn (Utlevering/AnnulleringsId). */
  annulleringsId?: string;
  /** Dispensings left after this one; 0 makes Avsluttet "Ja" (the prescription is finished). */
  remainingAfter: number;
  /** ReseptId (the M1 MsgId); defaults to the dispensation's prescription identifier in PRESCRIPTION_ID_SYSTEM. */
  reseptId?: string;
  /** Patient of the stored prescription (MsgInfo/Patient); taken from the store, not the foreign document. */
  patient?: M10Patient;
  receiver?: M10Party;
  /** The patient's reservation against reports to the GP; unknown abroad, so false unless the store knows better. */
  reservasjonRapportFastlege?: boolean;
  /** Repeats left on the dispensed item (ReseptDokLegemiddel/Reiterasjon) when an item is included. */
  reiterasjon?: number;
}

/** The M10 as a complete UTF-8 XML document (MsgHead with the Utleveringsrapport as its only Document). */
export function buildM10(d: Dispensation, ncp: NcpIdentity, opts: BuildM10Options): string {
  const reseptId = opts.reseptId ?? (d.prescription.identifier?.system === PRESCRIPTION_ID_SYSTEM ? d.prescription.identifier.value : undefined);
  if (!reseptId) throw new Error('buildM10 needs the ReseptId (M1 MsgId) of the prescription');
  const receiver = opts.receiver ?? RESEPTFORMIDLEREN;

  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MsgHead xmlns="${NS_MSGHEAD}">`,
    '<MsgInfo>',
    '<Type V="ERM10" DN="Utleveringsrapport reseptbanken"/>',
    '<MIGversion>v1.2 2006-05-24</MIGversion>',
    el('GenDate', opts.now.toISOString()),
    el('MsgId', opts.msgId),
    '<Sender>',
    organisation(ncp, ncp.phone),
    '</Sender>',
    '<Receiver>',
    organisation(receiver),
    '</Receiver>',
    opts.patient ? patient(opts.patient) : '',
    '</MsgInfo>',
    '<Document>',
    '<DocumentConnection V="H" DN="Hoveddokument"/>',
    '<RefDoc>',
    '<MsgType V="XML" DN="XML-instans"/>',
    '<Content>',
    utleveringsrapport(d, ncp, opts, reseptId),
    '</Content>',
    '</RefDoc>',
    '</Document>',
    '</MsgHead>',
  ];
  return `${lines.filter(Boolean).join('\n')}\n`;
}

function utleveringsrapport(d: Dispensation, ncp: NcpIdentity, opts: BuildM10Options, reseptId: string): string {
  const finished = opts.remainingAfter <= 0;
  const item = dispensedItem(d, opts.reiterasjon ?? 0);
  return [
    `<Utleveringsrapport xmlns="${NS_M10}">`,
    `<Utlevering xmlns="${NS_UTLEVERING}">`,
    el('ReseptId', reseptId),
    el('Utleveringsdato', norwegianDate(d.whenHandedOver)),
    el('Annullering', opts.annullering ? 'true' : 'false'),
    finished ? '<Avsluttet V="1" DN="Ja"/>' : '<Avsluttet V="2" DN="Nei"/>',
    opts.annulleringsId ? el('AnnulleringsId', opts.annulleringsId) : '',
    item ?? '',
    '<Utleverer>',
    '<HerId>',
    `<Id xmlns="${NS_FK1}">${xmlText(ncp.herId)}</Id>`,
    `<TypeId xmlns="${NS_FK1}" V="HER" S="${ORG_ID_TYPE}" DN="HER-id"/>`,
    '</HerId>',
    el('Navn', ncp.name),
    '</Utleverer>',
    d.substitution.substituted ? substitutionIntervention(d) : '',
    '</Utlevering>',
    el('ReservasjonRapportFastlege', opts.reservasjonRapportFastlege ? 'true' : 'false'),
    el('AnsattId', ncp.ansattId ?? ncp.herId),
    '</Utleveringsrapport>',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * The dispensed pack as m1:ReseptDokLegemiddel, only when it is a Norwegian pack whose varenummer and
 * reseptgruppe are known (both required by the schema); a foreign product goes in the Intervensjon.
 */
function dispensedItem(d: Dispensation, reiterasjon: number): string | undefined {
  const p = d.product;
  if (!p.varenummer || !p.reseptgruppe) return undefined;
  const packs = isPackCount(d.quantity.unit, d.quantity.code) ? el('Antall', formatDecimal(d.quantity.value)) : '';
  const atc = p.atc ? `<Atc V="${attr(p.atc.code)}" S="${VOLVEN(7180)}"${p.atc.display ? ` DN="${attr(p.atc.display)}"` : ''}/>` : '';
  const form = p.form && p.form.system === CODE_SYSTEM.volven(7448) ? cv('LegemiddelformKort', p.form.code, VOLVEN(7448), p.form.display) : '';
  const size = p.package?.size;
  const packInfo =
    size && size.code && size.system === CODE_SYSTEM.volven(7484)
      ? [
          '<PakningsinfoResept>',
          el('Varenavn', p.name),
          el('Pakningsstr', formatDecimal(size.value)),
          cv('EnhetPakning', size.code, VOLVEN(7484), size.unit),
          '</PakningsinfoResept>',
        ].join('\n')
      : '';
  return [
    `<ReseptDokLegemiddel xmlns="${NS_M1}">`,
    '<Varegruppekode V="L" DN="Legemiddel"/>',
    packs,
    el('Reiterasjon', String(Math.max(0, Math.trunc(reiterasjon)))),
    `<Forskrivning xmlns="${NS_FORSKRIVNING}">`,
    d.dosageText ? el('DosVeiledEnkel', d.dosageText) : '',
    '<Legemiddelpakning>',
    atc,
    el('NavnFormStyrke', [p.name, p.strength].filter(Boolean).join(' ')),
    `<Reseptgruppe V="${attr(p.reseptgruppe)}" DN="Reseptgruppe ${attr(p.reseptgruppe)}"/>`,
    form,
    el('Varenr', p.varenummer),
    packInfo,
    '</Legemiddelpakning>',
    '</Forskrivning>',
    '</ReseptDokLegemiddel>',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Substitution abroad: Intervensjon type V ("Valgt annen vare") with the product described in Begrunnelse. */
function substitutionIntervention(d: Dispensation): string {
  return ['<Intervensjon>', '<EndringsType V="V" DN="Valgt annen vare"/>', el('Begrunnelse', describeSubstitution(d)), '</Intervensjon>'].join('\n');
}

const MAX_BEGRUNNELSE = 1000;

/** Norwegian text naming what was handed over abroad, where, and why, for the prescriber reading M6. */
export function describeSubstitution(d: Dispensation): string {
  const where = [d.pharmacy.name, d.pharmacy.country].filter(Boolean).join(', ');
  const parts = [`Byttet ved utlevering i utlandet${where ? ` (${where})` : ''}: ${describeProduct(d.product)}`];
  const packs = isPackCount(d.quantity.unit, d.quantity.code);
  parts.push(`mengde ${formatDecimal(d.quantity.value)} ${packs ? (d.quantity.value === 1 ? 'pakning' : 'pakninger') : d.quantity.unit}`.trim());
  if (d.substitution.originalProduct) parts.push(`i stedet for ${describeProduct(d.substitution.originalProduct)}`);
  if (d.substitution.reason) parts.push(`årsak: ${d.substitution.reason}`);
  const text = parts.join('; ').replace(/\s+/g, ' ').trim();
  return text.length > MAX_BEGRUNNELSE ? `${text.slice(0, MAX_BEGRUNNELSE - 1)}…` : text;
}

function describeProduct(p: DispensedProduct): string {
  const bits = [p.name, p.strength, p.form?.display].filter(Boolean);
  if (p.package?.description && p.package.description !== p.name) bits.push(`pakning ${p.package.description}`);
  else if (p.package?.size) bits.push(`pakning ${formatDecimal(p.package.size.value)} ${p.package.size.unit}`.trim());
  if (p.atc) bits.push(`ATC ${p.atc.code}`);
  const code = p.varenummer ? `varenr ${p.varenummer}` : p.codes[0] ? `produktkode ${p.codes[0].code}` : undefined;
  if (code) bits.push(code);
  return bits.join(', ');
}

// ---- MsgHead parts ----

function organisation(o: M10Party, phone?: string): string {
  return [
    '<Organisation>',
    el('OrganisationName', o.name),
    ident(o.orgnr, 'ENH', ORG_ID_TYPE, 'Organisasjonsnummeret i Enhetsregister'),
    ident(o.herId, 'HER', ORG_ID_TYPE, 'HER-id'),
    phone ? `<TeleCom>\n<TypeTelecom V="HP" DN="Hovedtelefon"/>\n<TeleAddress V="tel:${attr(phone)}"/>\n</TeleCom>` : '',
    '</Organisation>',
  ]
    .filter(Boolean)
    .join('\n');
}

function patient(p: M10Patient): string {
  const kind = parsePersonNumber(p.personNumber)?.kind;
  if (!kind) throw new Error('buildM10: the patient number is not a valid fødselsnummer or D-nummer');
  return [
    '<Patient>',
    el('FamilyName', p.family),
    el('GivenName', p.given),
    kind === 'dnr' ? ident(p.personNumber, 'DNR', PERSON_ID_TYPE, 'D-nummer') : ident(p.personNumber, 'FNR', PERSON_ID_TYPE, 'Fødselsnummer'),
    '</Patient>',
  ].join('\n');
}

function ident(id: string, type: string, oid: string, display: string): string {
  return `<Ident>\n${el('Id', id)}\n<TypeId V="${type}" S="${oid}" DN="${attr(display)}"/>\n</Ident>`;
}

// ---- small XML helpers ----

// A lone UTF-16 surrogate (possible in JSON input) has no UTF-8 form: replace it rather than emit U+FFFD silently later.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const xmlText = (text: string): string => escapeXml(text.replace(LONE_SURROGATE, '\uFFFD'));
const el = (name: string, text: string): string => `<${name}>${xmlText(text)}</${name}>`;
const attr = (text: string): string => xmlText(text).replace(/[\r\n\t]/g, ' ');
const cv = (name: string, code: string, oid: string, display?: string): string =>
  `<${name} V="${attr(code)}" S="${oid}"${display ? ` DN="${attr(display)}"` : ''}/>`;

function isPackCount(unit: string, code?: string): boolean {
  return ['', '1', '{pack}', '{package}', 'pack', 'package', 'pk', 'pakning'].includes((code ?? unit).trim().toLowerCase());
}

/** xs:decimal has no exponent; JavaScript's String(1e21) would produce one. */
function formatDecimal(n: number): string {
  if (Number.isInteger(n)) return n.toFixed(0);
  return n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}
