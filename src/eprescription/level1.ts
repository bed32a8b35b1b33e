// The eHDSI ePrescription Level 1 document: the Level 3 header and a readable PDF of the same prescription
// item in a nonXMLBody, for a pharmacist whose system shows documents rather than reads them. The PDF is
// made from the same mapped values as the Level 3 narrative (PrescriptionFacts), and like that narrative it
// is bilingual, whoever asks and in whatever language: every label in English, then in bokmål ("Patient /
// Pasient"), translated values in both, the structured dosage on a line in each. A pharmacist abroad reads
// the English, and a Norwegian patient or an NCP officer can check it against the Norwegian; what the
// prescriber wrote (dosage text, indication, note) stays as written, marked Norwegian. An NCP need send no
// Accept-Language to get a PDF the pharmacist can read; the CLI's --lang and the HTTP Accept-Language choose
// only the language of refusals. Pure apart from pdf-lib.
import { renderPdf, UNDRAWABLE_NOTICE, type PdfLang, type PdfRow, type PdfSection } from '../pdf/document.ts';
import { ehdsiL1CdaTree, prescriptionFacts, type EmitCdaInput, type PrescriptionFacts } from './emit-cda.ts';
import { xmlDocument } from './xml-write.ts';

type Text = Record<PdfLang, string>;

const T = {
  title: { en: 'ePrescription from Norway', nb: 'Resept fra Norge' },
  patient: { en: 'Patient', nb: 'Pasient' },
  born: { en: 'Date of birth', nb: 'Født' },
  ids: { en: 'Personal identity number (Norway)', nb: 'Fødselsnummer eller D-nummer' },
  prescribed: { en: 'Prescribed', nb: 'Forskrevet' },
  prescriber: { en: 'Prescriber', nb: 'Forskriver' },
  prescriberIds: { en: 'Health personnel number (HPR)', nb: 'HPR-nummer' },
  organisation: { en: 'Organisation', nb: 'Virksomhet' },
  medicineSection: { en: 'Medicine', nb: 'Legemiddel' },
  medicine: { en: 'Medicine', nb: 'Legemiddel' },
  form: { en: 'Dose form', nb: 'Legemiddelform' },
  atc: { en: 'ATC', nb: 'ATC' },
  indication: { en: 'Indication (as written, Norwegian)', nb: 'Bruksområde' },
  dosageSection: { en: 'Dosage', nb: 'Dosering' },
  dosageWritten: { en: 'Dosage as the prescriber wrote it (Norwegian)', nb: 'Dosering slik forskriver skrev den' },
  dosage: { en: 'Dosage per time', nb: 'Dosering per tidspunkt' },
  dosageAsNeeded: { en: 'Dosage, as needed', nb: 'Dosering ved behov' },
  use: { en: 'Use', nb: 'Bruk' },
  asNeeded: { en: 'As needed', nb: 'Ved behov' },
  dispensingSection: { en: 'Dispensing', nb: 'Utlevering' },
  package: { en: 'Package', nb: 'Pakning' },
  perDispensing: { en: 'Per dispensing', nb: 'Per utlevering' },
  packages: { en: 'package(s)', nb: 'pakning(er)' },
  remaining: { en: 'Dispensings remaining', nb: 'Gjenstående utleveringer' },
  of: { en: 'of', nb: 'av' },
  validUntil: { en: 'Valid until', nb: 'Gyldig til' },
  substitution: { en: 'Substitution', nb: 'Bytte' },
  allowed: { en: 'Allowed', nb: 'Tillatt' },
  notAllowed: { en: 'Not allowed (the prescriber reserves against substitution)', nb: 'Ikke tillatt (forskriver har reservert seg mot bytte)' },
  note: { en: 'Note to the pharmacist', nb: 'Merknad til apoteket' },
  notStated: { en: 'not stated', nb: 'ikke oppgitt' },
  footer: {
    en: 'Made by Helsebro from the Norwegian ePrescription; the same content as the structured document (Level 3).',
    nb: 'Laget av Helsebro fra den norske e-resepten; samme innhold som det strukturerte dokumentet (nivå 3).',
  },
} as const satisfies Record<string, Text>;

/** English, then bokmål when it differs: "Patient / Pasient". */
const both = (x: Text): string => (x.en === x.nb ? x.en : `${x.en} / ${x.nb}`);

const joined = (list: readonly string[]): string | undefined => (list.length ? list.join(', ') : undefined);

/** The prescription as PDF document sections, English and bokmål side by side. */
export function prescriptionPdfSpec(f: PrescriptionFacts): Parameters<typeof renderPdf>[0] {
  const row = (label: Text, value: string | undefined): PdfRow => ({ label: both(label), value });
  const optional = (label: Text, value: string | undefined): PdfRow[] => (value ? [row(label, value)] : []);
  const form = f.form && (f.form.en || f.form.nb) ? both({ en: f.form.en ?? f.form.nb!, nb: f.form.nb ?? f.form.en! }) : undefined;
  const perDispensing = f.perDispensing
    ? 'packages' in f.perDispensing
      ? `${f.perDispensing.packages} ${both(T.packages)}${f.perDispensing.amount ? ` (${both(f.perDispensing.amount)})` : ''}`
      : both(f.perDispensing.amount)
    : undefined;
  const dosageLabel = f.asNeeded ? T.dosageAsNeeded : T.dosage;
  const sections: PdfSection[] = [
    {
      heading: both(T.medicineSection),
      rows: [row(T.medicine, f.medicine), ...optional(T.form, form), ...optional(T.atc, f.atc), ...optional(T.indication, f.indication)],
    },
    {
      heading: both(T.dosageSection),
      rows: [
        ...optional(T.dosageWritten, f.dosageWritten),
        // The structured dosage in words, a line in each language under its own label.
        ...(f.dosage ? [{ label: dosageLabel.en, value: f.dosage.en }, { label: dosageLabel.nb, value: f.dosage.nb }] : []),
        ...optional(T.use, f.asNeeded && !f.dosage ? both(T.asNeeded) : undefined),
      ],
    },
    {
      heading: both(T.dispensingSection),
      rows: [
        ...optional(T.package, f.package ? both(f.package) : undefined),
        ...optional(T.perDispensing, perDispensing),
        ...optional(T.remaining, f.dispensings ? both({ en: `${f.dispensings.remaining} ${T.of.en} ${f.dispensings.total}`, nb: `${f.dispensings.remaining} ${T.of.nb} ${f.dispensings.total}` }) : undefined),
        row(T.validUntil, f.validUntil),
        row(T.substitution, both(f.substitutionAllowed ? T.allowed : T.notAllowed)),
        ...optional(T.note, f.noteToPharmacist),
      ],
    },
  ];
  return {
    title: both(T.title),
    // English leads: the PDF's language as metadata (a screen reader's default voice).
    lang: 'en',
    header: [
      row(T.patient, f.patient.name),
      row(T.born, f.patient.birthDate),
      row(T.ids, joined(f.patient.identifiers)),
      row(T.prescribed, f.prescribed),
      row(T.prescriber, f.prescriber.name),
      row(T.prescriberIds, joined(f.prescriber.identifiers)),
      row(T.organisation, f.prescriber.organisation),
    ],
    sections,
    footer: `${T.footer.en} ${T.footer.nb}`,
    notStated: both(T.notStated),
    undrawableNotice: `${UNDRAWABLE_NOTICE.en} ${UNDRAWABLE_NOTICE.nb}`,
  };
}

/** The readable PDF of one prescription item, in English and bokmål. */
export function prescriptionPdf(input: EmitCdaInput): Promise<Uint8Array> {
  return renderPdf({ ...prescriptionPdfSpec(prescriptionFacts(input)), created: input.now });
}

/**
 * The eHDSI ePrescription Level 1 CDA of one prescription item, from what the Level 3 emitter takes
 * (`emitEhdsiCda`): the same header, languageCode included (the prescription's own language), and the
 * bilingual PDF of the same prescription.
 */
export async function emitEhdsiL1Cda(input: EmitCdaInput): Promise<string> {
  const pdf = await prescriptionPdf(input);
  return xmlDocument(ehdsiL1CdaTree(input, pdf));
}
