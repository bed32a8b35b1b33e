// The typed M1 (eResept 2.5: ER-M1-2013-10-08 + Forskrivning-2013-10-08) as Helsebro reads it.
// Property names follow the XSD element names (camel-cased) so that the schema, the mapping tables
// and the code can be read side by side. Dates are calendar days 'YYYY-MM-DD'; date-times are kept
// as sent. Codes keep their KITH form (code, bare OID, display): translation to FHIR systems
// happens in the mappers, not here.
import type { Address, Coded, Ident, Money, Quantity, TeleCom } from '../../xml/kith.ts';

export const M1_NS = 'http://www.kith.no/xmlstds/eresept/m1/2013-10-08';
export const FORSKRIVNING_NS = 'http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08';
export const FK1_NS = 'http://www.kith.no/xmlstds/felleskomponent1';
/** Optional 2022 extension (ReseptUtvidelse); tolerated, not read. */
export const M1_EXTENSION_NS = 'http://www.kith.no/xmlstds/eresept/m1/2013-10-08/extension/1';
/** MsgHead MsgInfo/Type/@V (kodeverk 8279) of an M1. */
export const M1_MESSAGE_TYPE = 'ERM1';

export interface M1Message {
  /** The prescription id (ReseptId): MsgHead/MsgInfo/MsgId, a GUID made by the prescriber's EHR. */
  prescriptionId: string;
  genDate: string;
  migVersion: string;
  /** The prescriber's organisation (MsgHead Sender). */
  sender: M1Organisation;
  /** Normally Reseptformidleren. */
  receiver: M1Organisation;
  /** Absent only for a prescription to the prescriber's own practice (TilEgenPraksis). */
  patient?: M1Patient;
  prescriber: M1Prescriber;
  resept: Resept;
  /** The MsgHead carries an XML signature (not verified by the parser). */
  signed: boolean;
}

export interface M1Organisation {
  name: string;
  /** Organisasjonsnummer (Ident type ENH). */
  orgnr?: string;
  /** HER-id (Ident type HER). */
  her?: string;
  /** RESH-id (Ident type RSH). */
  resh?: string;
  idents: Ident[];
  address?: Address;
  telecom: TeleCom[];
  path: string;
}

export interface M1Patient {
  /** Fødselsnummer (Ident type FNR, kodeverk 8116). */
  fnr?: string;
  /** D-nummer (Ident type DNR). */
  dnr?: string;
  familyName?: string;
  middleName?: string;
  givenName?: string;
  /** As sent; RF derives it from the fødselsnummer when absent. */
  dateOfBirth?: string;
  /** Kodeverk 3101. */
  sex?: Coded;
  idents: Ident[];
  address?: Address;
  path: string;
}

export interface M1Prescriber {
  /** HPR-nummer (Ident type HPR, kodeverk 8116). */
  hpr: string;
  /** The prescriber's own HER-id, when given. */
  her?: string;
  familyName?: string;
  middleName?: string;
  givenName?: string;
  /** TypeHealthcareProfessional, kodeverk 9060 (LE Lege, ...). */
  category?: Coded;
  idents: Ident[];
  address?: Address;
  telecom: TeleCom[];
  /** The organisation the prescriber sent from (MsgHead Sender/Organisation). */
  organisation: M1Organisation;
  /** The sub-unit (department) when the prescriber sits in one (Organisation/Organisation). */
  department?: M1Organisation;
  path: string;
}

// --- Resept --------------------------------------------------------------------------------

export interface Resept {
  forskrivningsdato: string;
  utloper: string;
  vernepliktig: boolean;
  soktIndividRefusjon: boolean;
  frikort: boolean;
  /** Guardian-access reservation (children aged 12-16). */
  vergeinnsynsreservasjon: boolean;
  /** For use in the prescriber's own practice, no patient. */
  tilEgenPraksis: boolean;
  /** Prescribed in the doctor's name. */
  rekvLegensNavn: boolean;
  refNr?: string;
  /** Kodeverk 7426. */
  spesialitet?: Coded;
  reseptDok: ReseptDokLegemiddel | ReseptDokHandelsvare;
  instituert?: Instituert;
  ekspAnm?: EkspAnm;
  utlending?: Utlending;
  oppdatertFest: string;
  /** Earliest allowed first dispensing. */
  tidligsteUtlevering?: string;
  utskrevetSykehus: boolean;
  /** Locked prescription (låst resept). */
  lastResept: boolean;
  path: string;
}

interface ReseptDokBase {
  /** Kodeverk 7402: L Legemiddel, A Annet. */
  varegruppekode: Coded;
  /** Packages per dispensing; may be fractional, never 0. */
  antall?: number;
  merknad?: string;
  /** Kodeverk 7427, the refund legal basis. */
  refHjemmel?: Coded;
  path: string;
}

export interface ReseptDokLegemiddel extends ReseptDokBase {
  kind: 'ReseptDokLegemiddel';
  komLegemdlAdm?: string;
  /** Refund code: 7170 ICPC-2, 7110 ICD-10, 7434, 7435. */
  refKode?: Coded;
  /** Repeats in addition to the first dispensing: total dispensings = reiterasjon + 1. */
  reiterasjon: number;
  /** Kodeverk 1101; the prescriber's reservation against generic substitution. */
  bytteresRekvirent?: Coded;
  mengde?: Quantity;
  /** Present: a drug without Norwegian marketing authorisation. */
  legemiddelUtenMt?: LegemiddelUtenMt;
  forskrivning: Forskrivning;
}

export interface LegemiddelUtenMt {
  begrunnelse: string;
  produsent: string;
  direktesoknadSlv: boolean;
}

export interface ReseptDokHandelsvare extends ReseptDokBase {
  kind: 'ReseptDokHandelsvare';
  bruksveiledning?: string;
  /** Kodeverk 7403. */
  prodGruppe?: Coded;
  vare?: Handelsvare;
}

export interface Handelsvare {
  kind: 'Brystprotese' | 'Naringsmiddel' | 'MedForbMatr';
  nr: string;
  navn: string;
  produktInfoVare?: ProduktInfoVare;
  leverandor?: { navn: string; adresse: string; telefon: string };
  prisVare: PrisVare[];
  refusjon?: Refusjon;
  /** Naringsmiddel only. */
  styrkeFormStoff?: { styrke?: string; form?: string; stoff: string[] };
  /** MedForbMatr only. */
  bestanddelMatr: { navn: string; materiale: string }[];
  path: string;
}

export interface ProduktInfoVare {
  produktNr: string;
  volum?: string;
  enhetStorrelse: Coded;
  antPerPakning: number;
  refVilkar: string[];
  tillattMerMakspris: boolean;
}

export interface PrisVare {
  /** Kodeverk 7453 (legemidler) / 7423 (varer). */
  type: Coded;
  pris: Money;
  gyldigFraDato?: string;
  gyldigTilDato?: string;
}

export interface Instituert {
  organisasjon?: { herId: Ident; inst?: string; dept?: string; institusjonsId?: Coded };
  helseperson?: { hprId: Ident; fornavn?: string; etternavn?: string; spesialitet?: Coded };
}

export interface EkspAnm {
  vilkar: boolean;
  /** Kodeverk 7404: F Forsendelse, L LAR, U Utlevering. */
  metodeEkspedering: Coded;
  /** The pharmacy's HER-id. */
  utleverer: string;
  kontaktperson: string;
  adresse?: Address;
  merknad?: string;
  orgNrUtleverer: string;
  utlevererNavn: string;
}

export interface Utlending {
  arbeidstakerNorge?: boolean;
  /** Kodeverk 9043. */
  konvensjonsland?: Coded;
  eea?: {
    /** Kodeverk 7416. */
    eeaDok: Coded;
    eeaCardId?: string;
    eeaId?: string;
    eeaTrygdekontorNavn?: string;
    eeaTrygdekontorNr?: string;
    eeaGyldighetFra?: string;
    eeaGyldighet?: string;
  };
}

// --- Forskrivning ---------------------------------------------------------------------------

export interface Forskrivning {
  /** What the medicine is for, as on the label ("MOT SMERTER"). */
  bruksomrade?: string;
  /** Free-text dosage instruction (DSSN). */
  dosVeiledEnkel?: string;
  ingenKombinasjon?: boolean;
  /** Kodeverk 9101: 1 Fast, 2 Kur, 3 Ved behov, 4 Vaksine, 5 Næringsmiddel. */
  bruk?: Coded;
  /** Kodeverk 7478. */
  kortdose?: Coded;
  administreringForskrivning?: {
    /** Kodeverk 9074. */
    admVed: Coded;
    /** Kodeverk 9075. */
    admMate: Coded;
    admEtterSkjema?: boolean;
    admSkjema?: string;
  };
  dosering: Dosering[];
  legemiddel: Legemiddel;
  path: string;
}

export type Legemiddel = Legemiddelpakning | LegemiddelMerkevare | LegemiddelVirkestoff | Legemiddeldose | Legemiddelblanding;
export type LegemiddelKind = Legemiddel['kind'];

/** typeLegemiddel: what every non-magistral drug choice carries. */
export interface TypeLegemiddel {
  /** Kodeverk 7180. */
  atc?: Coded;
  /** Name, form and strength as one text, with a decimal comma ("Ibux Tab 400 mg"). */
  navnFormStyrke: string;
  /** Kodeverk 7421: A, B, C, CF, F, K. */
  reseptgruppe: Coded;
  /** Kodeverk 7448. */
  legemiddelformKort?: Coded;
  refVilkar: string[];
  preparattype?: Coded;
  typeSoknadSlv?: Coded;
  opioidsoknad?: boolean;
  refusjon: Refusjon[];
  pakningByttegruppe?: { refByttegruppe: string; gyldigFraDato?: string; gyldigTilDato?: string };
  administreringLegemiddel?: AdministreringLegemiddel;
  path: string;
}

export interface Refusjon {
  refRefusjonsgruppe: string[];
  gyldigFraDato: string;
  forskrivesTilDato?: string;
  utleveresTilDato?: string;
}

export interface AdministreringLegemiddel {
  /** Kodeverk 7477. */
  administrasjonsvei: Coded[];
  kanKnuses?: Coded;
  kanApnes?: Coded;
  bolus?: Coded;
  injeksjonshastighetBolus?: Coded;
  deling?: Coded;
  enhetDosering: Coded[];
  kortdose: Coded[];
  forhandsregelInntak: Coded[];
  bruksomradeEtikett: Coded[];
  dosEnhetForordning?: Coded;
}

export interface Legemiddelpakning extends TypeLegemiddel {
  kind: 'Legemiddelpakning';
  /** FEST id. */
  id?: string;
  /** Nordic article number; keep leading zeros. */
  varenr: string;
  ean?: string;
  ikkeKonservering?: boolean;
  /** Kodeverk 7487. */
  oppbevaring?: Coded;
  pakningsinfoResept: PakningsinfoResept[];
  prisVare: PrisVare[];
}

export interface PakningsinfoResept {
  varenavn: string;
  /** Package size as text ("100", "2 x 150"). */
  pakningsstr: string;
  /** Kodeverk 7452. */
  enhetPakning: Coded;
}

export interface SortertVirkestoffMedStyrke {
  sortering: number;
  refVirkestoffMedStyrke: string;
}

export interface LegemiddelMerkevare extends TypeLegemiddel {
  kind: 'LegemiddelMerkevare';
  id?: string;
  varenavn: string;
  legemiddelformLang?: string;
  sortertVirkestoffMedStyrke: SortertVirkestoffMedStyrke[];
  smak?: Coded;
  produsent?: string;
  reseptgyldighet: { kjonn?: Coded; varighet: string }[];
}

export interface LegemiddelVirkestoff extends TypeLegemiddel {
  kind: 'LegemiddelVirkestoff';
  /** FEST LegemiddelVirkestoff id (mandatory). */
  id: string;
  sortertVirkestoffMedStyrke: SortertVirkestoffMedStyrke[];
}

export interface Legemiddeldose extends TypeLegemiddel {
  kind: 'Legemiddeldose';
  id: string;
  lmrLopenr?: string;
  mengde: Quantity;
  /** Kodeverk 7449. */
  pakningstype?: Coded;
  refLegemiddelMerkevare: string;
  refPakning: string[];
}

/** Magistral preparation. */
export interface Legemiddelblanding {
  kind: 'Legemiddelblanding';
  navn: string;
  tilbOppl: string;
  mengde: Quantity;
  /** Kodeverk 7448. */
  legemiddelform: Coded;
  bestanddelLegemiddel: BestanddelLegemiddel[];
  bestanddelAnnet: BestanddelAnnet[];
  bestanddelVirkestoff: BestanddelVirkestoff[];
  path: string;
}

export type Bestanddelsmengde =
  | { kind: 'Utblanding'; adqs: Coded }
  | { kind: 'MengdeBestanddel'; mengde: Quantity }
  | { kind: 'Styrke'; teller: Quantity; nevner?: Quantity };

export interface BestanddelLegemiddel {
  legemiddel: Legemiddelpakning | LegemiddelMerkevare | LegemiddelVirkestoff;
  mengde: Bestanddelsmengde;
}

export interface BestanddelAnnet {
  navnFormStyrke: string;
  mengde: Bestanddelsmengde;
}

export interface BestanddelVirkestoff {
  virkestoff: { id: string; navn: string; refVirkestoff: string[] };
  mengde: Bestanddelsmengde;
}

// --- Dosering -------------------------------------------------------------------------------

export interface Dosering {
  starttidspunkt?: string;
  sluttidspunkt?: string;
  doseringsregel?: { doseresEtter: Coded; merknad?: string };
  doser: Dose[];
}

interface TypeDose {
  mengde: Quantity;
  /** Unit from kodeverk 9088 (Sekund ... År). */
  intervall?: Quantity;
  infusjonshastighet?: { volum: Quantity; tidsenhet: Coded };
}

export interface DoseFastTidspunkt extends TypeDose {
  kind: 'DoseFastTidspunkt';
  klokkeslett?: string;
  /** Kodeverk 8325: 1 Morgen ... 6 Natt. */
  tidsomrade?: Coded;
  gisEksakt: boolean;
  fastDose?: { fasteUkedager: Coded[]; dagerPa?: number; dagerAv?: number };
}

export interface DoseEtterBehov extends TypeDose {
  kind: 'DoseEtterBehov';
  doseDognMaks: Quantity;
  doseTidsromMaks: Quantity;
  tidsrom: Quantity;
  doseIntervallMin: Quantity;
}

export type Dose = DoseFastTidspunkt | DoseEtterBehov;
