// The parts of the FEST catalogue (M30 2014-12-01) Helsebro keeps, as typed records. Element names in
// comments are those of ER-M30-2014-12-01.xsd and Forskrivning-2014-12-01.xsd.

export const M30_NS = 'http://www.kith.no/xmlstds/eresept/m30/2014-12-01';
export const FORSKRIVNING_NS = 'http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01';

/** A KITH CV/CS value: code (V), code system OID (S), display (DN), original text (OT). */
export interface CodedValue {
  code: string;
  /** OID as written in @S (no urn:oid: prefix). */
  system?: string;
  display?: string;
  originalText?: string;
}

/** A KITH PQ value: number (V) and unit text (U). */
export interface Amount {
  value: number;
  unit?: string;
}

/** The catalogue entry around each object (Oppf*): its own id, time and status (7446: A active, U expired). */
export interface EntryMeta {
  entryId: string;
  timestamp: string;
  status: string;
}

export interface Administration {
  /** Administrasjonsvei (7477), 1..* in FEST. */
  routes: CodedValue[];
  /** EnhetDosering (7480). */
  doseUnits: CodedValue[];
  /** KanKnuses (1103). */
  canBeCrushed?: string;
}

/** Fields of typeLegemiddel shared by Merkevare, Pakning and LegemiddelVirkestoff. */
export interface DrugCommon {
  atc?: CodedValue;
  /** NavnFormStyrke. */
  name: string;
  /** Reseptgruppe (7421) code. */
  prescriptionGroup: string;
  /** LegemiddelformKort (7448). */
  doseForm?: CodedValue;
  /** Preparattype (7424). */
  productType?: CodedValue;
  administration?: Administration;
}

export interface IngredientRef {
  order: number;
  ref: string;
}

export interface MerkevareData extends DrugCommon {
  /** Varenavn. */
  brandName: string;
  /** LegemiddelformLang. */
  doseFormText?: string;
  ingredients: IngredientRef[];
  /** SortertVirkestoffUtenStyrke. */
  substances: IngredientRef[];
  manufacturer?: string;
  /** Reseptgyldighet/Varighet (ISO 8601 duration), per sex when Kjonn is given. */
  prescriptionValidity: { duration: string; sex?: string }[];
}

export interface PackageInfo {
  merkevareRef: string;
  /** Pakningsstr as written ("100", "2 x 7 x 1"). */
  size: string;
  /** EnhetPakning (7452). */
  unit: CodedValue;
  /** Pakningstype (7449). */
  packageType: CodedValue;
  /** Mengde: the total amount in the package, in `unit`. */
  amount: number;
  count?: number;
  multiple?: number;
}

export interface PakningData extends DrugCommon {
  varenr: string;
  ean: string[];
  /** Oppbevaring (7487). */
  storage?: CodedValue;
  packages: PackageInfo[];
  /** PakningsinfoResept: how a prescription names the package. */
  prescriptionPackage?: { name: string; size: string; unit: CodedValue };
  marketing?: { marketedFrom?: string; deregistered?: string; temporarilyUnavailable?: string };
}

export interface VirkestoffData {
  name: string;
  nameEnglish?: string;
  refs: string[];
}

export interface VirkestoffMedStyrkeData {
  strength: Amount;
  denominator?: Amount;
  substanceRef: string;
  alternativeStrength?: Amount;
  alternativeDenominator?: Amount;
  /** Styrkeoperator (7445). */
  operator?: CodedValue;
}

export interface LegemiddelVirkestoffData extends DrugCommon {
  ingredients: IngredientRef[];
  substances: IngredientRef[];
  merkevareRefs: string[];
  pakningRefs: string[];
  prescriptionUnits: CodedValue[];
}

interface RecordBase<K extends string, D> {
  kind: K;
  /** The stable object id (e.g. Legemiddelpakning/Id), unique across the catalogue. */
  id: string;
  meta: EntryMeta;
  data: D;
}

export type FestRecord =
  | RecordBase<'merkevare', MerkevareData>
  | RecordBase<'pakning', PakningData>
  | RecordBase<'virkestoff', VirkestoffData>
  | RecordBase<'virkestoff-med-styrke', VirkestoffMedStyrkeData>
  | RecordBase<'legemiddel-virkestoff', LegemiddelVirkestoffData>;

export type FestKind = FestRecord['kind'];
export const FEST_KINDS: readonly FestKind[] = ['merkevare', 'pakning', 'virkestoff', 'virkestoff-med-styrke', 'legemiddel-virkestoff'];

export type FestRecordOf<K extends FestKind> = Extract<FestRecord, { kind: K }>;

export interface FestIngredient {
  substance: string;
  substanceEnglish?: string;
  substanceId?: string;
  strength?: Amount;
  denominator?: Amount;
}

export interface FestPackage {
  size: string;
  amount?: number;
  unit?: CodedValue;
  packageType?: CodedValue;
  ean?: string;
}

/**
 * What enrichment needs about one product, resolved across the catalogue (package -> brand -> active
 * substances with strength). Produced from a package, a brand or a generic (virkestoff) entry.
 */
export interface FestProduct {
  kind: 'pakning' | 'merkevare' | 'legemiddel-virkestoff';
  festId: string;
  /** 7446: A active, U expired entry. */
  status: string;
  varenr?: string;
  name: string;
  brandName?: string;
  atc?: CodedValue;
  prescriptionGroup: string;
  productType?: CodedValue;
  doseForm?: CodedValue;
  doseFormText?: string;
  routes: CodedValue[];
  /**
   * The route when FEST lists exactly one, else none: with several (Solu-Cortef: intravenous, intramuscular)
   * FEST cannot say which the prescriber meant, and a pharmacist abroad reads a structured route as the one.
   */
  soleRoute: CodedValue[];
  doseUnits: CodedValue[];
  ingredients: FestIngredient[];
  package?: FestPackage;
  manufacturer?: string;
  prescriptionValidity?: string;
  storage?: CodedValue;
  merkevareId?: string;
}
