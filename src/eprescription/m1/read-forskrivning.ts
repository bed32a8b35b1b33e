// Reads fs:Forskrivning (Forskrivning-2013-10-08.xsd): dosage, and the drug in one of its five
// forms. Every element read here is in the forskrivning namespace; anything else is refused.
import type { XmlElement } from '../../xml/element.ts';
import { coded, money, optionalCoded, optionalQuantity, quantity, requiredCoded, ts, type Coded } from '../../xml/kith.ts';
import {
  allowOnly,
  bool,
  choice,
  clip,
  defined,
  invalidValue,
  missingChoice,
  int,
  optional,
  optionalBool,
  optionalText,
  repeated,
  required,
  requiredText,
  unexpected,
  xsDate,
  xsTime,
} from '../../xml/read.ts';
import {
  FORSKRIVNING_NS as FS,
  type AdministreringLegemiddel,
  type Bestanddelsmengde,
  type Dose,
  type Dosering,
  type Forskrivning,
  type Legemiddel,
  type Legemiddelblanding,
  type LegemiddelMerkevare,
  type Legemiddelpakning,
  type LegemiddelVirkestoff,
  type Legemiddeldose,
  type PrisVare,
  type Refusjon,
  type SortertVirkestoffMedStyrke,
  type TypeLegemiddel,
} from './model.ts';

const only = (el: XmlElement, names: readonly string[]): void => allowOnly(el, { [FS]: names });
const optDate = (parent: XmlElement, name: string): string | undefined => {
  const el = optional(parent, FS, name);
  return el?.text ? xsDate(el) : undefined;
};
const codes = (parent: XmlElement, name: string): Coded[] => repeated(parent, FS, name).map(coded);
const texts = (parent: XmlElement, name: string): string[] => repeated(parent, FS, name).map((e) => e.text).filter(Boolean);

export const DRUG_KINDS = ['LegemiddelMerkevare', 'Legemiddelpakning', 'LegemiddelVirkestoff', 'Legemiddelblanding', 'Legemiddeldose'] as const;

export function readForskrivning(el: XmlElement): Forskrivning {
  only(el, ['Bruksomrade', 'DosVeiledEnkel', 'IngenKombinasjon', 'Bruk', 'Kortdose', 'AdministreringForskrivning', 'Dosering', ...DRUG_KINDS]);
  const adm = optional(el, FS, 'AdministreringForskrivning');
  const drug = choice(el, FS, DRUG_KINDS);
  return defined({
    bruksomrade: optionalText(el, FS, 'Bruksomrade'),
    dosVeiledEnkel: optionalText(el, FS, 'DosVeiledEnkel'),
    ingenKombinasjon: optionalBool(el, FS, 'IngenKombinasjon'),
    bruk: optionalCoded(el, FS, 'Bruk'),
    kortdose: optionalCoded(el, FS, 'Kortdose'),
    administreringForskrivning: adm ? readAdministreringForskrivning(adm) : undefined,
    dosering: repeated(el, FS, 'Dosering').map(readDosering),
    legemiddel: readDrug(drug.name, drug.el),
    path: el.path,
  });
}

function readAdministreringForskrivning(el: XmlElement): NonNullable<Forskrivning['administreringForskrivning']> {
  only(el, ['AdmVed', 'AdmMate', 'AdmEtterSkjema', 'AdmSkjema']);
  return defined({
    admVed: requiredCoded(el, FS, 'AdmVed'),
    admMate: requiredCoded(el, FS, 'AdmMate'),
    admEtterSkjema: optionalBool(el, FS, 'AdmEtterSkjema'),
    admSkjema: optionalText(el, FS, 'AdmSkjema'),
  });
}

function readDrug(kind: (typeof DRUG_KINDS)[number], el: XmlElement): Legemiddel {
  switch (kind) {
    case 'Legemiddelpakning':
      return readPakning(el);
    case 'LegemiddelMerkevare':
      return readMerkevare(el);
    case 'LegemiddelVirkestoff':
      return readVirkestoff(el);
    case 'Legemiddeldose':
      return readDose(el);
    case 'Legemiddelblanding':
      return readBlanding(el);
  }
}

// --- typeLegemiddel and its extensions -------------------------------------------------------

const TYPE_LEGEMIDDEL = [
  'Atc',
  'NavnFormStyrke',
  'Reseptgruppe',
  'LegemiddelformKort',
  'RefVilkar',
  'Preparattype',
  'TypeSoknadSlv',
  'Opioidsoknad',
  'Refusjon',
  'PakningByttegruppe',
  'AdministreringLegemiddel',
] as const;

function readTypeLegemiddel(el: XmlElement): TypeLegemiddel {
  const bytte = optional(el, FS, 'PakningByttegruppe');
  const adm = optional(el, FS, 'AdministreringLegemiddel');
  return defined({
    atc: optionalCoded(el, FS, 'Atc'),
    navnFormStyrke: requiredText(el, FS, 'NavnFormStyrke'),
    reseptgruppe: requiredCoded(el, FS, 'Reseptgruppe'),
    legemiddelformKort: optionalCoded(el, FS, 'LegemiddelformKort'),
    refVilkar: texts(el, 'RefVilkar'),
    preparattype: optionalCoded(el, FS, 'Preparattype'),
    typeSoknadSlv: optionalCoded(el, FS, 'TypeSoknadSlv'),
    opioidsoknad: optionalBool(el, FS, 'Opioidsoknad'),
    refusjon: repeated(el, FS, 'Refusjon').map(readRefusjon),
    pakningByttegruppe: bytte
      ? defined({
          refByttegruppe: requiredText(bytte, FS, 'RefByttegruppe'),
          gyldigFraDato: optDate(bytte, 'GyldigFraDato'),
          gyldigTilDato: optDate(bytte, 'GyldigTilDato'),
        })
      : undefined,
    administreringLegemiddel: adm ? readAdministreringLegemiddel(adm) : undefined,
    path: el.path,
  });
}

export function readRefusjon(el: XmlElement): Refusjon {
  only(el, ['RefRefusjonsgruppe', 'GyldigFraDato', 'ForskrivesTilDato', 'UtleveresTilDato']);
  const groups = repeated(el, FS, 'RefRefusjonsgruppe', 1).map((g) => g.text);
  return defined({
    refRefusjonsgruppe: groups,
    gyldigFraDato: xsDate(required(el, FS, 'GyldigFraDato')),
    forskrivesTilDato: optDate(el, 'ForskrivesTilDato'),
    utleveresTilDato: optDate(el, 'UtleveresTilDato'),
  });
}

function readAdministreringLegemiddel(el: XmlElement): AdministreringLegemiddel {
  only(el, [
    'Blandingsveske',
    'RefBlandingsveske',
    'Administrasjonsvei',
    'KanKnuses',
    'KanApnes',
    'Bolus',
    'InjeksjonshastighetBolus',
    'Deling',
    'EnhetDosering',
    'Kortdose',
    'ForhandsregelInntak',
    'BruksomradeEtikett',
    'DosEnhetForordning',
  ]);
  return defined({
    administrasjonsvei: repeated(el, FS, 'Administrasjonsvei', 1).map(coded),
    kanKnuses: optionalCoded(el, FS, 'KanKnuses'),
    kanApnes: optionalCoded(el, FS, 'KanApnes'),
    bolus: optionalCoded(el, FS, 'Bolus'),
    injeksjonshastighetBolus: optionalCoded(el, FS, 'InjeksjonshastighetBolus'),
    deling: optionalCoded(el, FS, 'Deling'),
    enhetDosering: codes(el, 'EnhetDosering'),
    kortdose: codes(el, 'Kortdose'),
    forhandsregelInntak: codes(el, 'ForhandsregelInntak'),
    bruksomradeEtikett: codes(el, 'BruksomradeEtikett'),
    dosEnhetForordning: optionalCoded(el, FS, 'DosEnhetForordning'),
  });
}

export function readPrisVare(el: XmlElement): PrisVare {
  only(el, ['Type', 'Pris', 'GyldigFraDato', 'GyldigTilDato']);
  return defined({
    type: requiredCoded(el, FS, 'Type'),
    pris: money(required(el, FS, 'Pris')),
    gyldigFraDato: optDate(el, 'GyldigFraDato'),
    gyldigTilDato: optDate(el, 'GyldigTilDato'),
  });
}

function readSortert(el: XmlElement): SortertVirkestoffMedStyrke {
  only(el, ['Sortering', 'RefVirkestoffMedStyrke']);
  return { sortering: int(required(el, FS, 'Sortering')), refVirkestoffMedStyrke: requiredText(el, FS, 'RefVirkestoffMedStyrke') };
}

// FEST-catalogue content (Pakningsinfo, Markedsforingsinfo, product texts) may legally appear in an
// M1 but carries nothing Helsebro uses: it is allowed and skipped, FEST itself is the source.
function readPakning(el: XmlElement): Legemiddelpakning {
  only(el, [
    ...TYPE_LEGEMIDDEL,
    'Id',
    'Varenr',
    'Ean',
    'IkkeKonservering',
    'Oppbevaring',
    'Pakningsinfo',
    'PakningsinfoResept',
    'PrisVare',
    'Markedsforingsinfo',
    'Preparatomtaleavsnitt',
  ]);
  return defined({
    kind: 'Legemiddelpakning' as const,
    ...readTypeLegemiddel(el),
    id: optionalText(el, FS, 'Id'),
    varenr: requiredText(el, FS, 'Varenr'),
    ean: optionalText(el, FS, 'Ean'),
    ikkeKonservering: optionalBool(el, FS, 'IkkeKonservering'),
    oppbevaring: optionalCoded(el, FS, 'Oppbevaring'),
    pakningsinfoResept: repeated(el, FS, 'PakningsinfoResept').map((p) => {
      only(p, ['Varenavn', 'Pakningsstr', 'EnhetPakning']);
      return {
        varenavn: requiredText(p, FS, 'Varenavn'),
        pakningsstr: requiredText(p, FS, 'Pakningsstr'),
        enhetPakning: requiredCoded(p, FS, 'EnhetPakning'),
      };
    }),
    prisVare: repeated(el, FS, 'PrisVare').map(readPrisVare),
  });
}

function readMerkevare(el: XmlElement): LegemiddelMerkevare {
  only(el, [
    ...TYPE_LEGEMIDDEL,
    'Id',
    'Varenavn',
    'LegemiddelformLang',
    'SortertVirkestoffMedStyrke',
    'Smak',
    'Refvirkestoff',
    'ProduktInfo',
    'Reseptgyldighet',
    'Hjelpestoff',
    'Preparatomtaleavsnitt',
  ]);
  const produktInfo = optional(el, FS, 'ProduktInfo');
  return defined({
    kind: 'LegemiddelMerkevare' as const,
    ...readTypeLegemiddel(el),
    id: optionalText(el, FS, 'Id'),
    varenavn: requiredText(el, FS, 'Varenavn'),
    legemiddelformLang: optionalText(el, FS, 'LegemiddelformLang'),
    sortertVirkestoffMedStyrke: repeated(el, FS, 'SortertVirkestoffMedStyrke').map(readSortert),
    smak: optionalCoded(el, FS, 'Smak'),
    produsent: produktInfo ? optionalText(produktInfo, FS, 'Produsent') : undefined,
    reseptgyldighet: repeated(el, FS, 'Reseptgyldighet').map((r) => {
      only(r, ['Kjonn', 'Varighet']);
      const varighet = requiredText(r, FS, 'Varighet');
      if (!/^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(varighet)) {
        throw invalidDuration(required(r, FS, 'Varighet'), varighet);
      }
      return defined({ kjonn: optionalCoded(r, FS, 'Kjonn'), varighet });
    }),
  });
}

function invalidDuration(el: XmlElement, text: string): Error {
  return invalidValue(el, `"${clip(text)}" is not an ISO 8601 duration (e.g. P1Y)`);
}

function readVirkestoff(el: XmlElement): LegemiddelVirkestoff {
  only(el, [...TYPE_LEGEMIDDEL, 'Id', 'SortertVirkestoffMedStyrke']);
  return {
    kind: 'LegemiddelVirkestoff',
    ...readTypeLegemiddel(el),
    id: requiredText(el, FS, 'Id'),
    sortertVirkestoffMedStyrke: repeated(el, FS, 'SortertVirkestoffMedStyrke').map(readSortert),
  };
}

function readDose(el: XmlElement): Legemiddeldose {
  only(el, [...TYPE_LEGEMIDDEL, 'Id', 'LmrLopenr', 'Mengde', 'Pakningstype', 'RefLegemiddelMerkevare', 'RefPakning', 'Pakningskomponent']);
  return defined({
    kind: 'Legemiddeldose' as const,
    ...readTypeLegemiddel(el),
    id: requiredText(el, FS, 'Id'),
    lmrLopenr: optionalText(el, FS, 'LmrLopenr'),
    mengde: quantity(required(el, FS, 'Mengde')),
    pakningstype: optionalCoded(el, FS, 'Pakningstype'),
    refLegemiddelMerkevare: requiredText(el, FS, 'RefLegemiddelMerkevare'),
    refPakning: repeated(el, FS, 'RefPakning', 1).map((r) => r.text),
  });
}

// --- Legemiddelblanding (magistral) ----------------------------------------------------------

function readBlanding(el: XmlElement): Legemiddelblanding {
  only(el, ['Navn', 'TilbOppl', 'Mengde', 'Legemiddelform', 'BestanddelLegemiddel', 'BestanddelAnnet', 'BestanddelVirkestoff']);
  return {
    kind: 'Legemiddelblanding',
    navn: requiredText(el, FS, 'Navn'),
    tilbOppl: requiredText(el, FS, 'TilbOppl'),
    mengde: quantity(required(el, FS, 'Mengde')),
    legemiddelform: requiredCoded(el, FS, 'Legemiddelform'),
    bestanddelLegemiddel: repeated(el, FS, 'BestanddelLegemiddel').map((b) => {
      only(b, ['LegemiddelMerkevare', 'Legemiddelpakning', 'LegemiddelVirkestoff', 'Utblanding', 'MengdeBestanddel']);
      const drug = choice(b, FS, ['LegemiddelMerkevare', 'Legemiddelpakning', 'LegemiddelVirkestoff'] as const);
      return {
        legemiddel: readDrug(drug.name, drug.el) as Legemiddelpakning | LegemiddelMerkevare | LegemiddelVirkestoff,
        mengde: readMengde(b, ['Utblanding', 'MengdeBestanddel']),
      };
    }),
    bestanddelAnnet: repeated(el, FS, 'BestanddelAnnet').map((b) => {
      only(b, ['NavnFormStyrke', 'Utblanding', 'MengdeBestanddel', 'Styrke']);
      return { navnFormStyrke: requiredText(b, FS, 'NavnFormStyrke'), mengde: readMengde(b, ['Utblanding', 'MengdeBestanddel', 'Styrke']) };
    }),
    bestanddelVirkestoff: repeated(el, FS, 'BestanddelVirkestoff').map((b) => {
      only(b, ['Virkestoff', 'Styrke', 'MengdeBestanddel']);
      const v = required(b, FS, 'Virkestoff');
      only(v, ['Id', 'Navn', 'RefVirkestoff']);
      return {
        virkestoff: { id: requiredText(v, FS, 'Id'), navn: requiredText(v, FS, 'Navn'), refVirkestoff: texts(v, 'RefVirkestoff') },
        mengde: readMengde(b, ['Styrke', 'MengdeBestanddel']),
      };
    }),
    path: el.path,
  };
}

type MengdeKind = Bestanddelsmengde['kind'];

function readMengde(parent: XmlElement, kinds: readonly MengdeKind[]): Bestanddelsmengde {
  const picked = choice(parent, FS, kinds);
  const el = picked.el;
  switch (picked.name) {
    case 'Utblanding':
      only(el, ['Adqs']);
      return { kind: 'Utblanding', adqs: requiredCoded(el, FS, 'Adqs') };
    case 'MengdeBestanddel':
      only(el, ['Mengde']);
      return { kind: 'MengdeBestanddel', mengde: quantity(required(el, FS, 'Mengde')) };
    case 'Styrke': {
      only(el, ['Teller', 'Nevner']);
      return defined({ kind: 'Styrke' as const, teller: quantity(required(el, FS, 'Teller')), nevner: optionalQuantity(el, FS, 'Nevner') });
    }
  }
}

// --- Dosering --------------------------------------------------------------------------------

function readDosering(el: XmlElement): Dosering {
  only(el, ['Starttidspunkt', 'Sluttidspunkt', 'Doseringsregel', 'DoseFastTidspunkt', 'DoseEtterBehov']);
  const start = optional(el, FS, 'Starttidspunkt');
  const end = optional(el, FS, 'Sluttidspunkt');
  const regel = optional(el, FS, 'Doseringsregel');
  const fast = repeated(el, FS, 'DoseFastTidspunkt');
  const behov = repeated(el, FS, 'DoseEtterBehov');
  if (fast.length === 0 && behov.length === 0) throw missingChoice(el, ['DoseFastTidspunkt', 'DoseEtterBehov']);
  const mixed = fast.length > 0 ? behov[0] : undefined;
  if (mixed) throw unexpected(mixed, 'Dosering holds either DoseFastTidspunkt or DoseEtterBehov elements, not both');
  if (regel) only(regel, ['DoseresEtter', 'Merknad']);
  return defined({
    starttidspunkt: start ? ts(start) : undefined,
    sluttidspunkt: end ? ts(end) : undefined,
    doseringsregel: regel ? defined({ doseresEtter: requiredCoded(regel, FS, 'DoseresEtter'), merknad: optionalText(regel, FS, 'Merknad') }) : undefined,
    doser: fast.length > 0 ? fast.map(readDoseFast) : behov.map(readDoseBehov),
  });
}

const TYPE_DOSE = ['Mengde', 'Intervall', 'Infusjonshastighet'] as const;

function readTypeDose(el: XmlElement): Pick<Dose, 'mengde' | 'intervall' | 'infusjonshastighet'> {
  const inf = optional(el, FS, 'Infusjonshastighet');
  if (inf) only(inf, ['Volum', 'Tidsenhet']);
  return defined({
    mengde: quantity(required(el, FS, 'Mengde')),
    intervall: optionalQuantity(el, FS, 'Intervall'),
    infusjonshastighet: inf ? { volum: quantity(required(inf, FS, 'Volum')), tidsenhet: requiredCoded(inf, FS, 'Tidsenhet') } : undefined,
  });
}

function readDoseFast(el: XmlElement): Dose {
  only(el, [...TYPE_DOSE, 'Klokkeslett', 'Tidsomrade', 'GisEksakt', 'FastDose']);
  const klokkeslett = optional(el, FS, 'Klokkeslett');
  const fastDose = optional(el, FS, 'FastDose');
  if (fastDose) only(fastDose, ['FasteUkedager', 'DagerPa', 'DagerAv']);
  const dagerPa = fastDose ? optional(fastDose, FS, 'DagerPa') : undefined;
  const dagerAv = fastDose ? optional(fastDose, FS, 'DagerAv') : undefined;
  return defined({
    kind: 'DoseFastTidspunkt' as const,
    ...readTypeDose(el),
    klokkeslett: klokkeslett ? xsTime(klokkeslett) : undefined,
    tidsomrade: optionalCoded(el, FS, 'Tidsomrade'),
    gisEksakt: bool(required(el, FS, 'GisEksakt')),
    fastDose: fastDose
      ? defined({
          fasteUkedager: codes(fastDose, 'FasteUkedager'),
          dagerPa: dagerPa ? int(dagerPa) : undefined,
          dagerAv: dagerAv ? int(dagerAv) : undefined,
        })
      : undefined,
  });
}

function readDoseBehov(el: XmlElement): Dose {
  only(el, [...TYPE_DOSE, 'DoseDognMaks', 'DoseTidsromMaks', 'Tidsrom', 'DoseIntervallMin']);
  return {
    kind: 'DoseEtterBehov',
    ...readTypeDose(el),
    doseDognMaks: quantity(required(el, FS, 'DoseDognMaks')),
    doseTidsromMaks: quantity(required(el, FS, 'DoseTidsromMaks')),
    tidsrom: quantity(required(el, FS, 'Tidsrom')),
    doseIntervallMin: quantity(required(el, FS, 'DoseIntervallMin')),
  };
}
