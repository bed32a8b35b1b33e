// Display texts for the codes the registry extracts carry without text (NPR and KPR report bare
// codes), in Norwegian and English. This covers the codes the demo population uses and a few common
// neighbours; written for Helsebro, not copied from the code-list publications. A code without an
// entry is shown as its code. When terminology/ offers lookups over the full code lists, this table
// becomes a fallback.
import { CODE_SYSTEM } from '../fhir/identifiers.ts';
import type { Lang } from './source.ts';

type Displays = Record<string, Record<Lang, string>>;

const ICD10: Displays = {
  'E27.1': { nb: 'Primær binyrebarksvikt (Addisons sykdom)', en: "Primary adrenocortical insufficiency (Addison's disease)" },
  G35: { nb: 'Multippel sklerose', en: 'Multiple sclerosis' },
  'G43.0': { nb: 'Migrene uten aura', en: 'Migraine without aura' },
  'G43.1': { nb: 'Migrene med aura', en: 'Migraine with aura' },
  R33: { nb: 'Urinretensjon', en: 'Retention of urine' },
  'M17.1': { nb: 'Annen primær kneleddsartrose', en: 'Other primary gonarthrosis' },
  'F41.0': { nb: 'Panikklidelse', en: 'Panic disorder' },
  'I10': { nb: 'Essensiell (primær) hypertensjon', en: 'Essential (primary) hypertension' },
  'J45.9': { nb: 'Astma, uspesifisert', en: 'Asthma, unspecified' },
};

const ICPC2: Displays = {
  K86: { nb: 'Hypertensjon ukomplisert', en: 'Hypertension uncomplicated' },
  T93: { nb: 'Lipidforstyrrelse', en: 'Lipid disorder' },
  L90: { nb: 'Artrose i kne', en: 'Osteoarthrosis of knee' },
  P74: { nb: 'Angstlidelse', en: 'Anxiety disorder' },
  N89: { nb: 'Migrene', en: 'Migraine' },
  R96: { nb: 'Astma', en: 'Asthma' },
};

const NKPK: Displays = {
  JHGX00: { nb: 'Sakral nervestimulering (SNM)', en: 'Sacral nerve stimulation (SNM)' },
  KCX20: { nb: 'Implantasjon av sakral nevromodulator for blæredysfunksjon', en: 'Implantation of sacral neuromodulator for bladder dysfunction' },
  NGB40: { nb: 'Primær totalprotese i kneledd', en: 'Primary total prosthetic replacement of knee joint' },
  SFY0HK: { nb: 'Ekkokardiografi', en: 'Echocardiography' },
  GDFC05: { nb: 'Spirometri', en: 'Spirometry' },
  FPFE50: { nb: 'Arbeids-EKG', en: 'Exercise ECG' },
};

const ATC: Displays = {
  H02AB09: { nb: 'hydrokortison', en: 'hydrocortisone' },
  H02AA02: { nb: 'fludrokortison', en: 'fludrocortisone' },
  L04AG03: { nb: 'natalizumab', en: 'natalizumab' },
  L04AA23: { nb: 'natalizumab', en: 'natalizumab' },
  N02CC01: { nb: 'sumatriptan', en: 'sumatriptan' },
  C08CA01: { nb: 'amlodipin', en: 'amlodipine' },
  C10AA05: { nb: 'atorvastatin', en: 'atorvastatin' },
  N02BE01: { nb: 'paracetamol', en: 'paracetamol' },
  R03AC02: { nb: 'salbutamol', en: 'salbutamol' },
  G03AA07: { nb: 'levonorgestrel og etinyløstradiol', en: 'levonorgestrel and ethinylestradiol' },
  J01CE02: { nb: 'fenoksymetylpenicillin', en: 'phenoxymethylpenicillin' },
  J01C: { nb: 'penicilliner', en: 'penicillins' },
  M01AE01: { nb: 'ibuprofen', en: 'ibuprofen' },
  M01AE: { nb: 'propionsyrederivater (NSAID)', en: 'propionic acid derivatives (NSAID)' },
  N01AB: { nb: 'halogenerte hydrokarboner (inhalasjonsanestetika)', en: 'halogenated hydrocarbons (inhalational anaesthetics)' },
};

const TABLES: Record<string, Displays> = {
  [CODE_SYSTEM.icd10]: ICD10,
  [CODE_SYSTEM.icpc2]: ICPC2,
  [CODE_SYSTEM.nkpk]: NKPK,
  [CODE_SYSTEM.atc]: ATC,
};

export function codeDisplay(system: string | undefined, code: string | undefined, lang: Lang): string | undefined {
  if (!system || !code) return undefined;
  return TABLES[system]?.[code]?.[lang];
}

/** Short human names of the code systems, for narrative ("ICD-10 G43.0"). */
export const SYSTEM_NAME: Record<string, string> = {
  [CODE_SYSTEM.icd10]: 'ICD-10',
  [CODE_SYSTEM.icpc2]: 'ICPC-2',
  [CODE_SYSTEM.nkpk]: 'NKPK',
  [CODE_SYSTEM.atc]: 'ATC',
  [CODE_SYSTEM.snomed]: 'SNOMED CT',
  [CODE_SYSTEM.loinc]: 'LOINC',
};
