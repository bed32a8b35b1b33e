// Reads m1:Resept (ER-M1-2013-10-08.xsd) and its prescription document. Forskrivning, the drug
// part, is read by read-forskrivning.ts.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { warning } from '../../fhir/outcomes.ts';
import type { XmlElement } from '../../xml/element.ts';
import { MESSAGE_ERROR_SYSTEM, messageError } from '../../xml/errors.ts';
import { address, ident, optionalCoded, quantity, requiredCoded } from '../../xml/kith.ts';
import {
  allowOnly,
  bool,
  choice,
  clip,
  decimal,
  defined,
  int,
  invalidValue,
  optional,
  optionalBool,
  optionalText,
  repeated,
  required,
  requiredText,
  xsDate,
  xsDateTime,
} from '../../xml/read.ts';
import { readForskrivning, readPrisVare, readRefusjon } from './read-forskrivning.ts';
import {
  FK1_NS,
  FORSKRIVNING_NS as FS,
  M1_EXTENSION_NS,
  M1_NS as M1,
  type EkspAnm,
  type Handelsvare,
  type Instituert,
  type Resept,
  type ReseptDokHandelsvare,
  type ReseptDokLegemiddel,
  type Utlending,
} from './model.ts';

type Warn = (issue: OperationOutcomeIssue) => void;

const RESEPT_CHILDREN = [
  'Forskrivningsdato',
  'Utloper',
  'Vernepliktig',
  'SoktIndividRefusjon',
  'Frikort',
  'Vergeinnsynsreservasjon',
  'TilEgenPraksis',
  'RekvLegensNavn',
  'RefNr',
  'Spesialitet',
  'ReseptDokLegemiddel',
  'ReseptDokHandelsvare',
  'Instituert',
  'EkspAnm',
  'Utlending',
  'OppdatertFest',
  'TidligsteUtlevering',
  'UtskrevetSykehus',
  'LastResept',
] as const;

const flag = (el: XmlElement, name: string): boolean => optionalBool(el, M1, name) ?? false;
const optDate = (parent: XmlElement, ns: string, name: string): string | undefined => {
  const el = optional(parent, ns, name);
  return el?.text ? xsDate(el) : undefined;
};

export function readResept(el: XmlElement, warn: Warn): Resept {
  // The 2022 extension namespace (ReseptUtvidelse) may be carried; it holds nothing Helsebro uses.
  allowOnly(el, { [M1]: RESEPT_CHILDREN }, [M1_EXTENSION_NS]);
  const forskrivningsdatoEl = required(el, M1, 'Forskrivningsdato');
  const utloperEl = required(el, M1, 'Utloper');
  const forskrivningsdato = xsDate(forskrivningsdatoEl);
  const utloper = xsDate(utloperEl);
  if (utloper < forskrivningsdato) {
    warn(
      warning('value', `Utloper (${utloper}) is before Forskrivningsdato (${forskrivningsdato})`, {
        expression: [utloperEl.path],
        details: [{ system: MESSAGE_ERROR_SYSTEM, code: 'invalid-value' }],
      }),
    );
  }
  const dok = choice(el, M1, ['ReseptDokLegemiddel', 'ReseptDokHandelsvare'] as const);
  const instituert = optional(el, M1, 'Instituert');
  const ekspAnm = optional(el, M1, 'EkspAnm');
  const utlending = optional(el, M1, 'Utlending');
  return defined({
    forskrivningsdato,
    utloper,
    vernepliktig: flag(el, 'Vernepliktig'),
    soktIndividRefusjon: flag(el, 'SoktIndividRefusjon'),
    frikort: flag(el, 'Frikort'),
    vergeinnsynsreservasjon: flag(el, 'Vergeinnsynsreservasjon'),
    tilEgenPraksis: flag(el, 'TilEgenPraksis'),
    rekvLegensNavn: flag(el, 'RekvLegensNavn'),
    refNr: optionalText(el, M1, 'RefNr'),
    spesialitet: optionalCoded(el, M1, 'Spesialitet'),
    reseptDok: dok.name === 'ReseptDokLegemiddel' ? readReseptDokLegemiddel(dok.el) : readReseptDokHandelsvare(dok.el),
    instituert: instituert ? readInstituert(instituert) : undefined,
    ekspAnm: ekspAnm ? readEkspAnm(ekspAnm) : undefined,
    utlending: utlending ? readUtlending(utlending) : undefined,
    oppdatertFest: xsDateTime(required(el, M1, 'OppdatertFest')),
    tidligsteUtlevering: optDate(el, M1, 'TidligsteUtlevering'),
    utskrevetSykehus: flag(el, 'UtskrevetSykehus'),
    lastResept: flag(el, 'LastResept'),
    path: el.path,
  });
}

// --- the prescription document ---------------------------------------------------------------

const RESEPT_DOK = ['Varegruppekode', 'Antall', 'Merknad', 'RefHjemmel'] as const;

function readReseptDokBase(el: XmlElement) {
  const antallEl = optional(el, M1, 'Antall');
  let antall: number | undefined;
  if (antallEl) {
    antall = decimal(antallEl);
    if (antall <= 0) throw invalidValue(antallEl, `the number of packages must be above 0, not ${clip(antallEl.text)}`);
  }
  return {
    varegruppekode: requiredCoded(el, M1, 'Varegruppekode'),
    antall,
    merknad: optionalText(el, M1, 'Merknad'),
    refHjemmel: optionalCoded(el, M1, 'RefHjemmel'),
    path: el.path,
  };
}

function readReseptDokLegemiddel(el: XmlElement): ReseptDokLegemiddel {
  // A Forskrivning of another eResept version is a version problem, not a misplaced element.
  const foreignForskrivning = el.children.find((c) => c.name === 'Forskrivning' && c.ns !== FS);
  if (foreignForskrivning) {
    throw messageError(
      400,
      'not-supported',
      'unsupported-version',
      `Forskrivning in namespace "${clip(foreignForskrivning.ns, 80)}" is not supported; eResept 2.5 uses ${FS}`,
      foreignForskrivning.path,
    );
  }
  allowOnly(el, {
    [M1]: [...RESEPT_DOK, 'KomLegemdlAdm', 'RefKode', 'Reiterasjon', 'BytteresRekvirent', 'Mengde', 'LegemiddelUtenMt'],
    [FS]: ['Forskrivning'],
  });
  // Reiterasjon is mandatory but has the schema default 0, which an empty element takes.
  const reiterasjonEl = required(el, M1, 'Reiterasjon');
  const reiterasjon = reiterasjonEl.text === '' ? 0 : int(reiterasjonEl);
  if (reiterasjon < 0) throw invalidValue(reiterasjonEl, `the number of repeats cannot be negative (${reiterasjon})`);
  // xs:int, as the schema types it (and FHIR's integer, which carries it abroad).
  if (reiterasjon > 2_147_483_647) throw invalidValue(reiterasjonEl, `the number of repeats ${reiterasjon} is larger than the schema allows`);
  const utenMt = optional(el, M1, 'LegemiddelUtenMt');
  if (utenMt) allowOnly(utenMt, { [M1]: ['Begrunnelse', 'Produsent', 'DirektesoknadSlv'] });
  const mengde = optional(el, M1, 'Mengde');
  return defined({
    kind: 'ReseptDokLegemiddel' as const,
    ...readReseptDokBase(el),
    komLegemdlAdm: optionalText(el, M1, 'KomLegemdlAdm'),
    refKode: optionalCoded(el, M1, 'RefKode'),
    reiterasjon,
    bytteresRekvirent: optionalCoded(el, M1, 'BytteresRekvirent'),
    mengde: mengde ? quantity(mengde) : undefined,
    legemiddelUtenMt: utenMt
      ? {
          begrunnelse: requiredText(utenMt, M1, 'Begrunnelse'),
          produsent: requiredText(utenMt, M1, 'Produsent'),
          direktesoknadSlv: bool(required(utenMt, M1, 'DirektesoknadSlv')),
        }
      : undefined,
    forskrivning: readForskrivning(required(el, FS, 'Forskrivning')),
  });
}

const VARE_KINDS = ['Brystprotese', 'Naringsmiddel', 'MedForbMatr'] as const;

function readReseptDokHandelsvare(el: XmlElement): ReseptDokHandelsvare {
  allowOnly(el, { [M1]: [...RESEPT_DOK, 'Bruksveiledning', 'ProdGruppe'], [FS]: VARE_KINDS });
  const vareEls = VARE_KINDS.flatMap((k) => el.all(FS, k));
  return defined({
    kind: 'ReseptDokHandelsvare' as const,
    ...readReseptDokBase(el),
    bruksveiledning: optionalText(el, M1, 'Bruksveiledning'),
    prodGruppe: optionalCoded(el, M1, 'ProdGruppe'),
    vare: vareEls.length > 0 ? readVare(choice(el, FS, VARE_KINDS)) : undefined,
  });
}

function readVare({ name, el }: { name: Handelsvare['kind']; el: XmlElement }): Handelsvare {
  const extra = name === 'Naringsmiddel' ? ['StyrkeFormStoff'] : name === 'MedForbMatr' ? ['BestanddelMatr'] : [];
  allowOnly(el, { [FS]: ['Nr', 'Navn', 'ProduktInfoVare', 'Leverandor', 'PrisVare', 'Refusjon', ...extra] });
  const info = optional(el, FS, 'ProduktInfoVare');
  const lev = optional(el, FS, 'Leverandor');
  const sfs = name === 'Naringsmiddel' ? optional(el, FS, 'StyrkeFormStoff') : undefined;
  const refusjon = optional(el, FS, 'Refusjon');
  if (info) allowOnly(info, { [FS]: ['ProduktNr', 'Volum', 'EnhetStorrelse', 'AntPerPakning', 'RefVilkar', 'TillattMerMakspris'] });
  if (lev) allowOnly(lev, { [FS]: ['Navn', 'Adresse', 'Telefon'] });
  if (sfs) allowOnly(sfs, { [FS]: ['Styrke', 'Form', 'Stoff'] });
  return defined({
    kind: name,
    nr: requiredText(el, FS, 'Nr'),
    navn: requiredText(el, FS, 'Navn'),
    produktInfoVare: info
      ? defined({
          produktNr: requiredText(info, FS, 'ProduktNr'),
          volum: optionalText(info, FS, 'Volum'),
          enhetStorrelse: requiredCoded(info, FS, 'EnhetStorrelse'),
          antPerPakning: int(required(info, FS, 'AntPerPakning')),
          refVilkar: repeated(info, FS, 'RefVilkar').map((r) => r.text),
          tillattMerMakspris: bool(required(info, FS, 'TillattMerMakspris')),
        })
      : undefined,
    leverandor: lev
      ? { navn: requiredText(lev, FS, 'Navn'), adresse: requiredText(lev, FS, 'Adresse'), telefon: requiredText(lev, FS, 'Telefon') }
      : undefined,
    prisVare: repeated(el, FS, 'PrisVare').map(readPrisVare),
    refusjon: refusjon ? readRefusjon(refusjon) : undefined,
    styrkeFormStoff: sfs
      ? defined({
          styrke: optionalText(sfs, FS, 'Styrke'),
          form: optionalText(sfs, FS, 'Form'),
          stoff: repeated(sfs, FS, 'Stoff').map((s) => s.text).filter(Boolean),
        })
      : undefined,
    bestanddelMatr: repeated(el, FS, 'BestanddelMatr').map((b) => {
      allowOnly(b, { [FS]: ['Navn', 'Materiale'] });
      return { navn: requiredText(b, FS, 'Navn'), materiale: requiredText(b, FS, 'Materiale') };
    }),
    path: el.path,
  });
}

// --- the rest of Resept ----------------------------------------------------------------------

function readInstituert(el: XmlElement): Instituert {
  allowOnly(el, { [M1]: ['Organisasjon', 'Helseperson'] });
  const org = optional(el, M1, 'Organisasjon');
  const hp = optional(el, M1, 'Helseperson');
  if (org) allowOnly(org, { [M1]: ['HerId', 'Inst', 'Dept', 'InstitusjonsID'] });
  if (hp) allowOnly(hp, { [M1]: ['HprId', 'Fornavn', 'Etternavn', 'Spesialitet'] });
  return defined({
    organisasjon: org
      ? defined({
          herId: ident(required(org, M1, 'HerId'), FK1_NS),
          inst: optionalText(org, M1, 'Inst'),
          dept: optionalText(org, M1, 'Dept'),
          institusjonsId: optionalCoded(org, M1, 'InstitusjonsID'),
        })
      : undefined,
    helseperson: hp
      ? defined({
          hprId: ident(required(hp, M1, 'HprId'), FK1_NS),
          fornavn: optionalText(hp, M1, 'Fornavn'),
          etternavn: optionalText(hp, M1, 'Etternavn'),
          spesialitet: optionalCoded(hp, M1, 'Spesialitet'),
        })
      : undefined,
  });
}

function readEkspAnm(el: XmlElement): EkspAnm {
  allowOnly(el, {
    [M1]: ['Vilkar', 'MetodeEkspedering', 'Utleverer', 'Kontaktperson', 'Adresse', 'Merknad', 'OrgNrUtleverer', 'UtlevererNavn'],
  });
  const adresse = optional(el, M1, 'Adresse');
  return defined({
    vilkar: bool(required(el, M1, 'Vilkar')),
    metodeEkspedering: requiredCoded(el, M1, 'MetodeEkspedering'),
    utleverer: requiredText(el, M1, 'Utleverer'),
    kontaktperson: requiredText(el, M1, 'Kontaktperson'),
    adresse: adresse ? address(adresse, FK1_NS) : undefined,
    merknad: optionalText(el, M1, 'Merknad'),
    orgNrUtleverer: requiredText(el, M1, 'OrgNrUtleverer'),
    utlevererNavn: requiredText(el, M1, 'UtlevererNavn'),
  });
}

function readUtlending(el: XmlElement): Utlending {
  allowOnly(el, { [M1]: ['ArbeidstakerNorge', 'Konvensjonsland', 'EEA'] });
  const eea = optional(el, M1, 'EEA');
  if (eea) {
    allowOnly(eea, {
      [M1]: ['EEADok', 'EEACardId', 'EEAId', 'EEATrygdekontorNavn', 'EEATrygdekontorNr', 'EEAGyldighetFra', 'EEAGyldighet'],
    });
  }
  return defined({
    arbeidstakerNorge: optionalBool(el, M1, 'ArbeidstakerNorge'),
    konvensjonsland: optionalCoded(el, M1, 'Konvensjonsland'),
    eea: eea
      ? defined({
          eeaDok: requiredCoded(eea, M1, 'EEADok'),
          eeaCardId: optionalText(eea, M1, 'EEACardId'),
          eeaId: optionalText(eea, M1, 'EEAId'),
          eeaTrygdekontorNavn: optionalText(eea, M1, 'EEATrygdekontorNavn'),
          eeaTrygdekontorNr: optionalText(eea, M1, 'EEATrygdekontorNr'),
          eeaGyldighetFra: optDate(eea, M1, 'EEAGyldighetFra'),
          eeaGyldighet: optDate(eea, M1, 'EEAGyldighet'),
        })
      : undefined,
  });
}
