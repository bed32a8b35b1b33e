// Builds M1 messages (MsgHead v1.2 + eResept 2.5) from a compact spec, in any namespace style:
// default namespaces switched where the namespace changes (as the official samples do), fixed or
// random prefixes, or a mix. Used by the property tests and to author the fixture corpus.

export type NsKey = 'mh' | 'm1' | 'fs' | 'fk1' | 'ds' | 'ext';

export const NS_URI: Record<NsKey, string> = {
  mh: 'http://www.kith.no/xmlstds/msghead/2006-05-24',
  m1: 'http://www.kith.no/xmlstds/eresept/m1/2013-10-08',
  fs: 'http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08',
  fk1: 'http://www.kith.no/xmlstds/felleskomponent1',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  ext: 'http://www.kith.no/xmlstds/eresept/m1/2013-10-08/extension/1',
};

export interface XNode {
  ns: NsKey;
  name: string;
  attrs?: Record<string, string>;
  text?: string;
  children?: XNode[];
}

/** Children come as arrays, text as a string, attributes as a plain object. */
type Part = XNode[] | string | Record<string, string> | undefined | false;

export function node(ns: NsKey, name: string, ...parts: Part[]): XNode {
  const n: XNode = { ns, name };
  for (const p of parts) {
    if (p === undefined || p === false) continue;
    if (typeof p === 'string') n.text = p;
    else if (Array.isArray(p)) (n.children ??= []).push(...p);
    else n.attrs = { ...n.attrs, ...p };
  }
  return n;
}

const mh = (name: string, ...parts: Part[]): XNode => node('mh', name, ...parts);
const m1 = (name: string, ...parts: Part[]): XNode => node('m1', name, ...parts);
const fs = (name: string, ...parts: Part[]): XNode => node('fs', name, ...parts);
const fk1 = (name: string, ...parts: Part[]): XNode => node('fk1', name, ...parts);

export interface NsStyle {
  /** Namespaces written with a prefix; the others use default-namespace declarations. */
  prefixes: Partial<Record<NsKey, string>>;
  /** Declare every prefix on the root (true) or where it is first needed (false). */
  declareAtRoot: boolean;
}

export const DEFAULT_STYLE: NsStyle = { prefixes: {}, declareAtRoot: false };
export const PREFIXED_STYLE: NsStyle = { prefixes: { mh: 'mh', m1: 'm1', fs: 'fs', fk1: 'fk1', ds: 'ds' }, declareAtRoot: true };

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function serialize(root: XNode, style: NsStyle = DEFAULT_STYLE, indent = '  '): string {
  const out: string[] = ['<?xml version="1.0" encoding="utf-8"?>\n'];
  const write = (n: XNode, depth: number, defaultUri: string, bound: Map<string, string>): void => {
    const uri = NS_URI[n.ns];
    const decls: string[] = [];
    const scope = new Map(bound);
    let def = defaultUri;
    if (depth === 0 && style.declareAtRoot) {
      for (const [k, p] of Object.entries(style.prefixes) as [NsKey, string | undefined][]) {
        // Two namespaces may share a prefix: one is bound here, the other where it is used. The root's own
        // namespace gets its prefix here, else the root would declare that prefix a second time.
        if (!p || scope.has(p) || (p === style.prefixes[n.ns] && k !== n.ns)) continue;
        decls.push(` xmlns:${p}="${NS_URI[k]}"`);
        scope.set(p, NS_URI[k]);
      }
    }
    const prefix = style.prefixes[n.ns];
    let qname = n.name;
    if (prefix) {
      qname = `${prefix}:${n.name}`;
      if (scope.get(prefix) !== uri) {
        decls.push(` xmlns:${prefix}="${uri}"`);
        scope.set(prefix, uri);
      }
    } else if (def !== uri) {
      decls.push(` xmlns="${uri}"`);
      def = uri;
    }
    const attrs = Object.entries(n.attrs ?? {})
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join('');
    const pad = indent ? indent.repeat(depth) : '';
    const nl = indent ? '\n' : '';
    if (!n.children?.length && n.text === undefined) {
      out.push(`${pad}<${qname}${decls.join('')}${attrs}/>${nl}`);
    } else if (!n.children?.length) {
      out.push(`${pad}<${qname}${decls.join('')}${attrs}>${escapeXml(n.text ?? '')}</${qname}>${nl}`);
    } else {
      out.push(`${pad}<${qname}${decls.join('')}${attrs}>${nl}`);
      for (const c of n.children) write(c, depth + 1, def, scope);
      out.push(`${pad}</${qname}>${nl}`);
    }
  };
  write(root, 0, '', new Map());
  return out.join('');
}

// --- the spec ------------------------------------------------------------------------------

export interface Code {
  code: string;
  display?: string;
  oid?: string;
  ot?: string;
}

export interface Pq {
  v: string;
  u?: string;
}

export interface DrugSpec {
  kind: 'Legemiddelpakning' | 'LegemiddelMerkevare' | 'LegemiddelVirkestoff' | 'Legemiddeldose';
  atc?: Code;
  navnFormStyrke: string;
  reseptgruppe: string;
  form?: Code;
  /** Pakning */
  varenr?: string;
  pakning?: { varenavn: string; str: string; enhet: Code };
  /** Merkevare: Varenavn; Virkestoff/Dose: Id (FEST) */
  varenavn?: string;
  id?: string;
  /** Dose */
  mengde?: Pq;
  refMerkevare?: string;
  refPakning?: string[];
}

export type ComponentSpec =
  | { kind: 'virkestoff'; id: string; navn: string; teller: Pq; nevner?: Pq }
  | { kind: 'annet'; navnFormStyrke: string; ad: true }
  | { kind: 'legemiddel'; drug: DrugSpec; mengde: Pq };

export interface MagistralSpec {
  kind: 'Legemiddelblanding';
  navn: string;
  tilbOppl: string;
  mengde: Pq;
  form: Code;
  components: ComponentSpec[];
}

export type DoseSpec =
  | { kind: 'fast'; mengde: Pq; intervall?: Pq; tidsomrade?: Code; klokkeslett?: string; gisEksakt?: boolean }
  | { kind: 'behov'; mengde: Pq; dognMaks: Pq; tidsromMaks: Pq; tidsrom: Pq; intervallMin: Pq };

export interface DoseringSpec {
  start?: string;
  end?: string;
  doses: DoseSpec[];
}

export interface LegemiddelItem {
  kind: 'legemiddel';
  antall?: string;
  merknad?: string;
  refHjemmel?: Code;
  refKode?: Code;
  reiterasjon: number;
  bytteresRekvirent?: boolean;
  mengde?: Pq;
  utenMt?: { begrunnelse: string; produsent: string; direktesoknadSlv: boolean };
  bruksomrade?: string;
  dosVeiledEnkel?: string;
  bruk?: Code;
  kortdose?: Code;
  dosering?: DoseringSpec[];
  drug: DrugSpec | MagistralSpec;
}

export interface HandelsvareItem {
  kind: 'handelsvare';
  antall?: string;
  refHjemmel?: Code;
  bruksveiledning?: string;
  prodGruppe?: Code;
  vare?: { kind: 'Naringsmiddel' | 'MedForbMatr' | 'Brystprotese'; nr: string; navn: string; stoff?: string[]; materiale?: { navn: string; materiale: string }[] };
}

export type ReseptFlag =
  | 'Vernepliktig'
  | 'SoktIndividRefusjon'
  | 'Frikort'
  | 'Vergeinnsynsreservasjon'
  | 'TilEgenPraksis'
  | 'RekvLegensNavn'
  | 'UtskrevetSykehus'
  | 'LastResept';

export interface PatientSpec {
  fnr?: string;
  dnr?: string;
  family?: string;
  middle?: string;
  given?: string;
  dateOfBirth?: string;
  sex?: '0' | '1' | '2' | '9';
  street?: string;
  postalCode?: string;
  city?: string;
  county?: Code;
}

export interface M1Spec {
  msgId: string;
  genDate: string;
  type?: string;
  sender: { name: string; orgnr: string; her: string; street?: string; postalCode?: string; city?: string; phone?: string; department?: { name: string; her: string } };
  prescriber: { hpr?: string; family: string; given: string; her?: string; category?: Code };
  patient: PatientSpec | null;
  resept: {
    forskrivningsdato: string;
    utloper: string;
    oppdatertFest: string;
    tidligsteUtlevering?: string;
    flags?: Partial<Record<ReseptFlag, boolean>>;
    refNr?: string;
    spesialitet?: Code;
    item: LegemiddelItem | HandelsvareItem;
    instituert?: { her: string; inst?: string; hpr: string; fornavn?: string; etternavn?: string };
    ekspAnm?: { metode: Code; utleverer: string; kontaktperson: string; street?: string; postalCode?: string; city?: string; orgNr: string; navn: string; merknad?: string };
    utlending?: { konvensjonsland?: Code; eea?: { dok: Code; cardId?: string; gyldighet?: string } };
  };
  signature?: boolean;
}

const V = 'V';
const cv = (c: Code, system?: string): Record<string, string> => {
  const a: Record<string, string> = { V: c.code };
  const s = c.oid ?? system;
  if (s) a.S = s;
  if (c.display) a.DN = c.display;
  if (c.ot) a.OT = c.ot;
  return a;
};
const pq = (q: Pq): Record<string, string> => (q.u ? { V: q.v, U: q.u } : { V: q.v });
const OID = (nr: number | string): string => `2.16.578.1.12.4.1.1.${nr}`;

function mhIdent(id: string, type: string, display: string, kodeverk: number): XNode {
  return mh('Ident', [mh('Id', id), mh('TypeId', { V: type, S: OID(kodeverk), DN: display })]);
}

function drugNode(d: DrugSpec): XNode {
  const common: XNode[] = [
    ...(d.atc ? [fs('Atc', cv(d.atc, OID(7180)))] : []),
    fs('NavnFormStyrke', d.navnFormStyrke),
    fs('Reseptgruppe', { [V]: d.reseptgruppe, DN: `Reseptgruppe ${d.reseptgruppe}` }),
    ...(d.form ? [fs('LegemiddelformKort', cv(d.form, OID(7448)))] : []),
  ];
  switch (d.kind) {
    case 'Legemiddelpakning':
      return fs('Legemiddelpakning', [
        ...common,
        fs('Varenr', d.varenr ?? '000000'),
        ...(d.pakning
          ? [fs('PakningsinfoResept', [fs('Varenavn', d.pakning.varenavn), fs('Pakningsstr', d.pakning.str), fs('EnhetPakning', cv(d.pakning.enhet, OID(7452)))])]
          : []),
      ]);
    case 'LegemiddelMerkevare':
      return fs('LegemiddelMerkevare', [...common, ...(d.id ? [fs('Id', d.id)] : []), fs('Varenavn', d.varenavn ?? d.navnFormStyrke)]);
    case 'LegemiddelVirkestoff':
      return fs('LegemiddelVirkestoff', [...common, fs('Id', d.id ?? 'ID_MISSING')]);
    case 'Legemiddeldose':
      return fs('Legemiddeldose', [
        ...common,
        fs('Id', d.id ?? 'ID_MISSING'),
        fs('Mengde', pq(d.mengde ?? { v: '1', u: 'stk' })),
        fs('RefLegemiddelMerkevare', d.refMerkevare ?? 'ID_MERKEVARE'),
        ...(d.refPakning ?? ['ID_PAKNING']).map((r) => fs('RefPakning', r)),
      ]);
  }
}

function magistralNode(m: MagistralSpec): XNode {
  return fs('Legemiddelblanding', [
    fs('Navn', m.navn),
    fs('TilbOppl', m.tilbOppl),
    fs('Mengde', pq(m.mengde)),
    fs('Legemiddelform', cv(m.form, OID(7448))),
    ...m.components
      .filter((c) => c.kind === 'legemiddel')
      .map((c) => fs('BestanddelLegemiddel', [drugNode(c.drug), fs('MengdeBestanddel', [fs('Mengde', pq(c.mengde))])])),
    ...m.components
      .filter((c) => c.kind === 'annet')
      .map((c) => fs('BestanddelAnnet', [fs('NavnFormStyrke', c.navnFormStyrke), fs('Utblanding', [fs('Adqs', { V: 'ad', DN: 'Til total mengde' })])])),
    ...m.components
      .filter((c) => c.kind === 'virkestoff')
      .map((c) =>
        fs('BestanddelVirkestoff', [
          fs('Virkestoff', [fs('Id', c.id), fs('Navn', c.navn)]),
          fs('Styrke', [fs('Teller', pq(c.teller)), ...(c.nevner ? [fs('Nevner', pq(c.nevner))] : [])]),
        ]),
      ),
  ]);
}

function doseNode(d: DoseSpec): XNode {
  if (d.kind === 'fast') {
    return fs('DoseFastTidspunkt', [
      fs('Mengde', pq(d.mengde)),
      ...(d.intervall ? [fs('Intervall', pq(d.intervall))] : []),
      ...(d.klokkeslett ? [fs('Klokkeslett', d.klokkeslett)] : []),
      ...(d.tidsomrade ? [fs('Tidsomrade', cv(d.tidsomrade))] : []),
      fs('GisEksakt', String(d.gisEksakt ?? false)),
    ]);
  }
  return fs('DoseEtterBehov', [
    fs('Mengde', pq(d.mengde)),
    fs('DoseDognMaks', pq(d.dognMaks)),
    fs('DoseTidsromMaks', pq(d.tidsromMaks)),
    fs('Tidsrom', pq(d.tidsrom)),
    fs('DoseIntervallMin', pq(d.intervallMin)),
  ]);
}

function itemNode(item: LegemiddelItem | HandelsvareItem): XNode {
  const base: XNode[] = [
    m1('Varegruppekode', item.kind === 'legemiddel' ? { V: 'L', DN: 'Legemiddel' } : { V: 'A', DN: 'Annet' }),
    ...(item.antall !== undefined ? [m1('Antall', item.antall)] : []),
    ...(item.kind === 'legemiddel' && item.merknad ? [m1('Merknad', item.merknad)] : []),
    ...(item.refHjemmel ? [m1('RefHjemmel', cv(item.refHjemmel, OID(7427)))] : []),
  ];
  if (item.kind === 'handelsvare') {
    const v = item.vare;
    return m1('ReseptDokHandelsvare', [
      ...base,
      ...(item.bruksveiledning ? [m1('Bruksveiledning', item.bruksveiledning)] : []),
      ...(item.prodGruppe ? [m1('ProdGruppe', cv(item.prodGruppe, OID(7403)))] : []),
      ...(v
        ? [
            fs(v.kind, [
              fs('Nr', v.nr),
              fs('Navn', v.navn),
              ...(v.stoff ? [fs('StyrkeFormStoff', v.stoff.map((s) => fs('Stoff', s)))] : []),
              ...(v.materiale ?? []).map((b) => fs('BestanddelMatr', [fs('Navn', b.navn), fs('Materiale', b.materiale)])),
            ]),
          ]
        : []),
    ]);
  }
  return m1('ReseptDokLegemiddel', [
    ...base,
    ...(item.refKode ? [m1('RefKode', cv(item.refKode))] : []),
    m1('Reiterasjon', String(item.reiterasjon)),
    ...(item.bytteresRekvirent !== undefined ? [m1('BytteresRekvirent', item.bytteresRekvirent ? { V: '1', DN: 'Ja' } : { V: '2', DN: 'Nei' })] : []),
    ...(item.mengde ? [m1('Mengde', pq(item.mengde))] : []),
    ...(item.utenMt
      ? [
          m1('LegemiddelUtenMt', [
            m1('Begrunnelse', item.utenMt.begrunnelse),
            m1('Produsent', item.utenMt.produsent),
            m1('DirektesoknadSlv', String(item.utenMt.direktesoknadSlv)),
          ]),
        ]
      : []),
    fs('Forskrivning', [
      ...(item.bruksomrade ? [fs('Bruksomrade', item.bruksomrade)] : []),
      ...(item.dosVeiledEnkel ? [fs('DosVeiledEnkel', item.dosVeiledEnkel)] : []),
      ...(item.bruk ? [fs('Bruk', cv(item.bruk))] : []),
      ...(item.kortdose ? [fs('Kortdose', cv(item.kortdose, OID(7478)))] : []),
      ...(item.dosering ?? []).map((d) =>
        fs('Dosering', [
          ...(d.start ? [fs('Starttidspunkt', { V: d.start })] : []),
          ...(d.end ? [fs('Sluttidspunkt', { V: d.end })] : []),
          ...d.doses.map(doseNode),
        ]),
      ),
      item.drug.kind === 'Legemiddelblanding' ? magistralNode(item.drug) : drugNode(item.drug),
    ]),
  ]);
}

const FLAG_ORDER_1: ReseptFlag[] = ['Vernepliktig', 'SoktIndividRefusjon', 'Frikort', 'Vergeinnsynsreservasjon', 'TilEgenPraksis', 'RekvLegensNavn'];
const FLAG_ORDER_2: ReseptFlag[] = ['UtskrevetSykehus', 'LastResept'];

function reseptNode(r: M1Spec['resept']): XNode {
  const flags = (names: ReseptFlag[]): XNode[] =>
    names.filter((f) => r.flags?.[f] !== undefined).map((f) => m1(f, String(r.flags?.[f])));
  return m1('Resept', [
    m1('Forskrivningsdato', r.forskrivningsdato),
    m1('Utloper', r.utloper),
    ...flags(FLAG_ORDER_1),
    ...(r.refNr ? [m1('RefNr', r.refNr)] : []),
    ...(r.spesialitet ? [m1('Spesialitet', cv(r.spesialitet, OID(7426)))] : []),
    itemNode(r.item),
    ...(r.instituert
      ? [
          m1('Instituert', [
            m1('Organisasjon', [
              m1('HerId', [fk1('Id', r.instituert.her), fk1('TypeId', { V: 'HER', S: OID(9051), DN: 'HER-id' })]),
              ...(r.instituert.inst ? [m1('Inst', r.instituert.inst)] : []),
            ]),
            m1('Helseperson', [
              m1('HprId', [fk1('Id', r.instituert.hpr), fk1('TypeId', { V: 'HPR', S: OID(8116), DN: 'HPR-nummer' })]),
              ...(r.instituert.fornavn ? [m1('Fornavn', r.instituert.fornavn)] : []),
              ...(r.instituert.etternavn ? [m1('Etternavn', r.instituert.etternavn)] : []),
            ]),
          ]),
        ]
      : []),
    ...(r.ekspAnm
      ? [
          m1('EkspAnm', [
            m1('Vilkar', 'true'),
            m1('MetodeEkspedering', cv(r.ekspAnm.metode)),
            m1('Utleverer', r.ekspAnm.utleverer),
            m1('Kontaktperson', r.ekspAnm.kontaktperson),
            m1('Adresse', [
              ...(r.ekspAnm.street ? [fk1('StreetAdr', r.ekspAnm.street)] : []),
              ...(r.ekspAnm.postalCode ? [fk1('PostalCode', r.ekspAnm.postalCode)] : []),
              ...(r.ekspAnm.city ? [fk1('City', r.ekspAnm.city)] : []),
            ]),
            ...(r.ekspAnm.merknad ? [m1('Merknad', r.ekspAnm.merknad)] : []),
            m1('OrgNrUtleverer', r.ekspAnm.orgNr),
            m1('UtlevererNavn', r.ekspAnm.navn),
          ]),
        ]
      : []),
    ...(r.utlending
      ? [
          m1('Utlending', [
            ...(r.utlending.konvensjonsland ? [m1('Konvensjonsland', cv(r.utlending.konvensjonsland))] : []),
            ...(r.utlending.eea
              ? [
                  m1('EEA', [
                    m1('EEADok', cv(r.utlending.eea.dok)),
                    ...(r.utlending.eea.cardId ? [m1('EEACardId', r.utlending.eea.cardId)] : []),
                    ...(r.utlending.eea.gyldighet ? [m1('EEAGyldighet', r.utlending.eea.gyldighet)] : []),
                  ]),
                ]
              : []),
          ]),
        ]
      : []),
    m1('OppdatertFest', r.oppdatertFest),
    ...(r.tidligsteUtlevering ? [m1('TidligsteUtlevering', r.tidligsteUtlevering)] : []),
    ...flags(FLAG_ORDER_2),
  ]);
}

function patientNode(p: PatientSpec): XNode {
  return mh('Patient', [
    ...(p.family !== undefined ? [mh('FamilyName', p.family)] : []),
    ...(p.middle !== undefined ? [mh('MiddleName', p.middle)] : []),
    ...(p.given !== undefined ? [mh('GivenName', p.given)] : []),
    ...(p.dateOfBirth ? [mh('DateOfBirth', p.dateOfBirth)] : []),
    ...(p.sex ? [mh('Sex', { V: p.sex, DN: { '0': 'Ikke kjent', '1': 'Mann', '2': 'Kvinne', '9': 'Ikke spesifisert' }[p.sex] })] : []),
    ...(p.fnr ? [mhIdent(p.fnr, 'FNR', 'Fødselsnummer', 8116)] : []),
    ...(p.dnr ? [mhIdent(p.dnr, 'DNR', 'D-nummer', 8116)] : []),
    ...(p.postalCode || p.city
      ? [
          mh('Address', [
            mh('Type', { V: 'H', DN: 'Bostedsadresse' }),
            ...(p.street ? [mh('StreetAdr', p.street)] : []),
            ...(p.postalCode ? [mh('PostalCode', p.postalCode)] : []),
            ...(p.city ? [mh('City', p.city)] : []),
            ...(p.county ? [mh('County', cv(p.county))] : []),
          ]),
        ]
      : []),
  ]);
}

export function m1Tree(spec: M1Spec): XNode {
  const s = spec.sender;
  const pr = spec.prescriber;
  const hp = mh('HealthcareProfessional', [
    mh('TypeHealthcareProfessional', cv(pr.category ?? { code: 'LE', display: 'Lege' })),
    mh('FamilyName', pr.family),
    mh('GivenName', pr.given),
    ...(pr.hpr ? [mhIdent(pr.hpr, 'HPR', 'HPR-nummer', 8116)] : []),
    ...(pr.her ? [mhIdent(pr.her, 'HER', 'HER-id', 8116)] : []),
  ]);
  const org = mh('Organisation', [
    mh('OrganisationName', s.name),
    mhIdent(s.orgnr, 'ENH', 'Organisasjonsnummeret i Enhetsregister (Brønnøysund)', 9051),
    mhIdent(s.her, 'HER', 'HER-id', 9051),
    mh('Address', [
      mh('Type', { V: 'RES', DN: 'Besøksadresse' }),
      ...(s.street ? [mh('StreetAdr', s.street)] : []),
      ...(s.postalCode ? [mh('PostalCode', s.postalCode)] : []),
      ...(s.city ? [mh('City', s.city)] : []),
    ]),
    ...(s.phone ? [mh('TeleCom', [mh('TypeTelecom', { V: 'HP', DN: 'Hovedtelefon' }), mh('TeleAddress', { V: `tel:${s.phone}` })])] : []),
    ...(s.department
      ? [mh('Organisation', [mh('OrganisationName', s.department.name), mhIdent(s.department.her, 'HER', 'HER-id', 9051), hp])]
      : [hp]),
  ]);
  return mh('MsgHead', [
    mh('MsgInfo', [
      mh('Type', { V: spec.type ?? 'ERM1', DN: 'Resept' }),
      mh('MIGversion', 'v1.2 2006-05-24'),
      mh('GenDate', spec.genDate),
      mh('MsgId', spec.msgId),
      mh('Sender', [org]),
      mh('Receiver', [
        mh('Organisation', [
          mh('OrganisationName', 'Reseptformidleren'),
          mhIdent('915933149', 'ENH', 'Organisasjonsnummeret i Enhetsregister (Brønnøysund)', 9051),
          mhIdent('80624', 'HER', 'HER-id', 9051),
        ]),
      ]),
      ...(spec.patient ? [patientNode(spec.patient)] : []),
    ]),
    mh('Document', [mh('RefDoc', [mh('MsgType', { V: 'XML', DN: 'XML-instans' }), mh('Content', [reseptNode(spec.resept)])])]),
    ...(spec.signature
      ? [
          node('ds', 'Signature', [
            node('ds', 'SignedInfo', [node('ds', 'CanonicalizationMethod', { Algorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' })]),
            node('ds', 'SignatureValue', 'c3ludGhldGljLW5vdC1hLXNpZ25hdHVyZQ=='),
          ]),
        ]
      : []),
  ]);
}

export const buildM1 = (spec: M1Spec, style: NsStyle = DEFAULT_STYLE, indent = '  '): string => serialize(m1Tree(spec), style, indent);
