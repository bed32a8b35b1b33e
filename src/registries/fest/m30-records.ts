// Pure extraction of FEST records from one captured catalogue entry (an Oppf* element and its subtree).
// A missing required element makes the entry invalid (EntryError naming the path); the stream reports it
// and goes on with the next entry.
import {
  FORSKRIVNING_NS,
  M30_NS,
  type Administration,
  type Amount,
  type CodedValue,
  type DrugCommon,
  type EntryMeta,
  type FestRecord,
  type IngredientRef,
  type MerkevareData,
  type PackageInfo,
  type PakningData,
  type VirkestoffMedStyrkeData,
} from './types.ts';

export interface FestNode {
  ns: string;
  name: string;
  attrs: Record<string, string>;
  children: FestNode[];
  text: string;
  line: number;
}

export class EntryError extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.name = 'EntryError';
    this.path = path;
  }
}

/** Oppf* element -> the record kind it holds, by the element name of its payload. */
export const CAPTURED_ENTRIES: Record<string, true> = {
  OppfLegemiddelMerkevare: true,
  OppfLegemiddelpakning: true,
  OppfVirkestoff: true,
  OppfLegemiddelVirkestoff: true,
};

const FEST_NAMESPACES = new Set([M30_NS, FORSKRIVNING_NS]);

const kids = (node: FestNode, name: string): FestNode[] =>
  node.children.filter((c) => c.name === name && FEST_NAMESPACES.has(c.ns));
const kid = (node: FestNode, name: string): FestNode | undefined => kids(node, name)[0];

function required(node: FestNode, name: string, path: string): FestNode {
  const found = kid(node, name);
  if (!found) throw new EntryError(`${path}/${name} is required`, `${path}/${name}`);
  return found;
}

const text = (node: FestNode | undefined): string | undefined => {
  const t = node?.text.trim();
  return t ? t : undefined;
};

function requiredText(node: FestNode, name: string, path: string): string {
  const value = text(required(node, name, path));
  if (value === undefined) throw new EntryError(`${path}/${name} is empty`, `${path}/${name}`);
  return value;
}

function coded(node: FestNode | undefined): CodedValue | undefined {
  const code = node?.attrs.V?.trim();
  if (!node || !code) return undefined;
  const out: CodedValue = { code };
  if (node.attrs.S) out.system = node.attrs.S.trim();
  if (node.attrs.DN) out.display = node.attrs.DN;
  if (node.attrs.OT) out.originalText = node.attrs.OT;
  return out;
}

function requiredCoded(node: FestNode, name: string, path: string): CodedValue {
  const value = coded(required(node, name, path));
  if (!value) throw new EntryError(`${path}/${name} has no code (V)`, `${path}/${name}`);
  return value;
}

function number(raw: string | undefined, path: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  // FEST writes decimals with a point; a comma has been seen in hand-made files and means the same.
  const n = Number(raw.trim().replace(',', '.'));
  if (!Number.isFinite(n)) throw new EntryError(`${path} is not a number: '${raw}'`, path);
  return n;
}

function amount(node: FestNode | undefined, path: string): Amount | undefined {
  if (!node) return undefined;
  const value = number(node.attrs.V, `${path}/@V`);
  if (value === undefined) return undefined;
  const unit = node.attrs.U?.trim();
  return unit ? { value, unit } : { value };
}

function refs(node: FestNode, name: string): string[] {
  return kids(node, name)
    .map((n) => text(n))
    .filter((v): v is string => v !== undefined);
}

function sortedRefs(node: FestNode, name: string, refName: string, path: string): IngredientRef[] {
  return kids(node, name)
    .map((n, i) => ({
      order: number(text(kid(n, 'Sortering')), `${path}/${name}/Sortering`) ?? i + 1,
      ref: requiredText(n, refName, `${path}/${name}`),
    }))
    .sort((a, b) => a.order - b.order);
}

function packageInfo(pi: FestNode, path: string): PackageInfo {
  const info: PackageInfo = {
    merkevareRef: requiredText(pi, 'RefLegemiddelMerkevare', path),
    size: requiredText(pi, 'Pakningsstr', path),
    unit: requiredCoded(pi, 'EnhetPakning', path),
    packageType: requiredCoded(pi, 'Pakningstype', path),
    amount: number(requiredText(pi, 'Mengde', path), `${path}/Mengde`) ?? 0,
  };
  const count = number(text(kid(pi, 'Antall')), `${path}/Antall`);
  if (count !== undefined) info.count = count;
  const multiple = number(text(kid(pi, 'Multippel')), `${path}/Multippel`);
  if (multiple !== undefined) info.multiple = multiple;
  return info;
}

function administration(node: FestNode | undefined): Administration | undefined {
  if (!node) return undefined;
  const out: Administration = {
    routes: kids(node, 'Administrasjonsvei').map(coded).filter((c): c is CodedValue => !!c),
    doseUnits: kids(node, 'EnhetDosering').map(coded).filter((c): c is CodedValue => !!c),
  };
  const crush = coded(kid(node, 'KanKnuses'))?.code;
  if (crush) out.canBeCrushed = crush;
  return out;
}

function common(node: FestNode, path: string): DrugCommon {
  const out: DrugCommon = {
    name: requiredText(node, 'NavnFormStyrke', path),
    prescriptionGroup: requiredCoded(node, 'Reseptgruppe', path).code,
  };
  const atc = coded(kid(node, 'Atc'));
  if (atc) out.atc = { ...atc, code: atc.code.replace(/\s+/g, '') };
  const form = coded(kid(node, 'LegemiddelformKort'));
  if (form) out.doseForm = form;
  const type = coded(kid(node, 'Preparattype'));
  if (type) out.productType = type;
  const admin = administration(kid(node, 'AdministreringLegemiddel'));
  if (admin) out.administration = admin;
  return out;
}

function meta(entry: FestNode): EntryMeta {
  const path = entry.name;
  return {
    entryId: requiredText(entry, 'Id', path),
    timestamp: requiredText(entry, 'Tidspunkt', path),
    status: requiredCoded(entry, 'Status', path).code,
  };
}

/**
 * The record an Oppf* entry holds, or undefined for an entry without payload (FEST allows an entry that only
 * says an object was withdrawn: Id, Tidspunkt and Status).
 */
export function recordFromEntry(entry: FestNode): FestRecord | undefined {
  const m = meta(entry);
  const path = entry.name;
  switch (entry.name) {
    case 'OppfLegemiddelMerkevare': {
      const node = kid(entry, 'LegemiddelMerkevare');
      if (!node) return undefined;
      const p = `${path}/LegemiddelMerkevare`;
      const data: MerkevareData = {
        ...common(node, p),
        brandName: requiredText(node, 'Varenavn', p),
        ingredients: sortedRefs(node, 'SortertVirkestoffMedStyrke', 'RefVirkestoffMedStyrke', p),
        substances: sortedRefs(node, 'SortertVirkestoffUtenStyrke', 'RefVirkestoff', p),
        prescriptionValidity: kids(node, 'Reseptgyldighet').map((r) => {
          const v: { duration: string; sex?: string } = { duration: requiredText(r, 'Varighet', `${p}/Reseptgyldighet`) };
          const sex = coded(kid(r, 'Kjonn'))?.code;
          if (sex) v.sex = sex;
          return v;
        }),
      };
      const formText = text(kid(node, 'LegemiddelformLang'));
      if (formText) data.doseFormText = formText;
      const info = kid(node, 'ProduktInfo');
      const manufacturer = info ? text(kid(info, 'Produsent')) : undefined;
      if (manufacturer) data.manufacturer = manufacturer;
      return { kind: 'merkevare', id: requiredText(node, 'Id', p), meta: m, data };
    }
    case 'OppfLegemiddelpakning': {
      const node = kid(entry, 'Legemiddelpakning');
      if (!node) return undefined;
      const p = `${path}/Legemiddelpakning`;
      const data: PakningData = {
        ...common(node, p),
        varenr: requiredText(node, 'Varenr', p),
        ean: refs(node, 'Ean'),
        packages: kids(node, 'Pakningsinfo').map((pi) => packageInfo(pi, `${p}/Pakningsinfo`)),
      };
      const storage = coded(kid(node, 'Oppbevaring'));
      if (storage) data.storage = storage;
      const pr = kid(node, 'PakningsinfoResept');
      if (pr) {
        const pp = `${p}/PakningsinfoResept`;
        data.prescriptionPackage = {
          name: requiredText(pr, 'Varenavn', pp),
          size: requiredText(pr, 'Pakningsstr', pp),
          unit: requiredCoded(pr, 'EnhetPakning', pp),
        };
      }
      const mi = kid(node, 'Markedsforingsinfo');
      if (mi) {
        const marketing: NonNullable<PakningData['marketing']> = {};
        const from = text(kid(mi, 'Markedsforingsdato'));
        const dereg = text(kid(mi, 'AvregDato'));
        const unavailable = text(kid(mi, 'MidlUtgattDato'));
        if (from) marketing.marketedFrom = from;
        if (dereg) marketing.deregistered = dereg;
        if (unavailable) marketing.temporarilyUnavailable = unavailable;
        data.marketing = marketing;
      }
      return { kind: 'pakning', id: requiredText(node, 'Id', p), meta: m, data };
    }
    case 'OppfVirkestoff': {
      const vs = kid(entry, 'Virkestoff');
      if (vs) {
        const p = `${path}/Virkestoff`;
        const nameEnglish = text(kid(vs, 'NavnEngelsk'));
        return {
          kind: 'virkestoff',
          id: requiredText(vs, 'Id', p),
          meta: m,
          data: { name: requiredText(vs, 'Navn', p), refs: refs(vs, 'RefVirkestoff'), ...(nameEnglish ? { nameEnglish } : {}) },
        };
      }
      const vms = kid(entry, 'VirkestoffMedStyrke');
      if (!vms) return undefined;
      const p = `${path}/VirkestoffMedStyrke`;
      const strength = amount(required(vms, 'Styrke', p), `${p}/Styrke`);
      if (!strength) throw new EntryError(`${p}/Styrke has no value`, `${p}/Styrke`);
      const data: VirkestoffMedStyrkeData = { strength, substanceRef: requiredText(vms, 'RefVirkestoff', p) };
      const denominator = amount(kid(vms, 'StyrkeNevner'), `${p}/StyrkeNevner`);
      if (denominator) data.denominator = denominator;
      const alt = amount(kid(vms, 'AlternativStyrke'), `${p}/AlternativStyrke`);
      if (alt) data.alternativeStrength = alt;
      const altDen = amount(kid(vms, 'AlternativStyrkeNevner'), `${p}/AlternativStyrkeNevner`);
      if (altDen) data.alternativeDenominator = altDen;
      const op = coded(kid(vms, 'Styrkeoperator'));
      if (op) data.operator = op;
      return { kind: 'virkestoff-med-styrke', id: requiredText(vms, 'Id', p), meta: m, data };
    }
    case 'OppfLegemiddelVirkestoff': {
      const node = kid(entry, 'LegemiddelVirkestoff');
      if (!node) return undefined;
      const p = `${path}/LegemiddelVirkestoff`;
      return {
        kind: 'legemiddel-virkestoff',
        id: requiredText(node, 'Id', p),
        meta: m,
        data: {
          ...common(node, p),
          ingredients: sortedRefs(node, 'SortertVirkestoffMedStyrke', 'RefVirkestoffMedStyrke', p),
          substances: sortedRefs(node, 'SortertVirkestoffUtenStyrke', 'RefVirkestoff', p),
          merkevareRefs: refs(node, 'RefLegemiddelMerkevare'),
          pakningRefs: refs(node, 'RefPakning'),
          prescriptionUnits: kids(node, 'ForskrivningsenhetResept').map(coded).filter((c): c is CodedValue => !!c),
        },
      };
    }
    default:
      return undefined;
  }
}
