// The eHDSI ePrescription Level 1 document: the Level 3 header and a readable PDF of the same prescription
// item in a nonXMLBody, for a pharmacist whose system shows documents rather than reads them. The PDF is
// made from the same mapped values as the Level 3 narrative (PrescriptionFacts), in bokmål or English.
// Pure apart from pdf-lib.
import { renderPdf, type PdfLang, type PdfRow, type PdfSection } from '../pdf/document.ts';
import { ehdsiL1CdaTree, prescriptionFacts, type EmitCdaInput, type PrescriptionFacts } from './emit-cda.ts';
import { xmlDocument } from './xml-write.ts';

type Text = Record<PdfLang, string>;

const T = {
  title: { nb: 'Resept fra Norge', en: 'ePrescription from Norway' },
  patient: { nb: 'Pasient', en: 'Patient' },
  born: { nb: 'Født', en: 'Date of birth' },
  ids: { nb: 'Fødselsnummer / D-nummer', en: 'Personal identity number (Norway)' },
  prescribed: { nb: 'Forskrevet', en: 'Prescribed' },
  prescriber: { nb: 'Forskriver', en: 'Prescriber' },
  prescriberIds: { nb: 'HPR-nummer', en: 'Health personnel number (HPR)' },
  organisation: { nb: 'Virksomhet', en: 'Organisation' },
  medicineSection: { nb: 'Legemiddel', en: 'Medicine' },
  medicine: { nb: 'Legemiddel', en: 'Medicine' },
  form: { nb: 'Legemiddelform', en: 'Dose form' },
  atc: { nb: 'ATC', en: 'ATC' },
  indication: { nb: 'Bruksområde', en: 'Indication (as written, Norwegian)' },
  dosageSection: { nb: 'Dosering', en: 'Dosage' },
  dosageWritten: { nb: 'Dosering slik forskriver skrev den', en: 'Dosage as the prescriber wrote it (Norwegian)' },
  dosage: { nb: 'Dosering per tidspunkt', en: 'Dosage per time' },
  dosageAsNeeded: { nb: 'Dosering ved behov', en: 'Dosage, as needed' },
  use: { nb: 'Bruk', en: 'Use' },
  asNeeded: { nb: 'Ved behov', en: 'As needed' },
  dispensingSection: { nb: 'Utlevering', en: 'Dispensing' },
  package: { nb: 'Pakning', en: 'Package' },
  perDispensing: { nb: 'Per utlevering', en: 'Per dispensing' },
  packages: { nb: 'pakning(er)', en: 'package(s)' },
  remaining: { nb: 'Gjenstående utleveringer', en: 'Dispensings remaining' },
  of: { nb: 'av', en: 'of' },
  validUntil: { nb: 'Gyldig til', en: 'Valid until' },
  substitution: { nb: 'Bytte', en: 'Substitution' },
  allowed: { nb: 'Tillatt', en: 'Allowed' },
  notAllowed: { nb: 'Ikke tillatt (forskriver har reservert seg mot bytte)', en: 'Not allowed (the prescriber reserves against substitution)' },
  note: { nb: 'Merknad til apoteket', en: 'Note to the pharmacist' },
  notStated: { nb: 'ikke oppgitt', en: 'not stated' },
  footer: {
    nb: 'Laget av Helsebro fra den norske e-resepten; samme innhold som det strukturerte dokumentet (nivå 3).',
    en: 'Made by Helsebro from the Norwegian ePrescription; the same content as the structured document (Level 3).',
  },
} as const satisfies Record<string, Text>;

const joined = (list: readonly string[]): string | undefined => (list.length ? list.join(', ') : undefined);

/** The prescription as PDF document sections, in one language. */
export function prescriptionPdfSpec(f: PrescriptionFacts, lang: PdfLang): Parameters<typeof renderPdf>[0] {
  const t = (x: Text): string => x[lang];
  const row = (label: Text, value: string | undefined): PdfRow => ({ label: t(label), value });
  const optional = (label: Text, value: string | undefined): PdfRow[] => (value ? [row(label, value)] : []);
  const form = f.form ? (lang === 'en' ? (f.form.en ?? f.form.nb) : (f.form.nb ?? f.form.en)) : undefined;
  const perDispensing = f.perDispensing
    ? 'packages' in f.perDispensing
      ? `${f.perDispensing.packages} ${t(T.packages)}${f.perDispensing.amount ? ` (${f.perDispensing.amount[lang]})` : ''}`
      : f.perDispensing.amount[lang]
    : undefined;
  const sections: PdfSection[] = [
    {
      heading: t(T.medicineSection),
      rows: [row(T.medicine, f.medicine), ...optional(T.form, form), ...optional(T.atc, f.atc), ...optional(T.indication, f.indication)],
    },
    {
      heading: t(T.dosageSection),
      rows: [
        ...optional(T.dosageWritten, f.dosageWritten),
        ...optional(f.asNeeded ? T.dosageAsNeeded : T.dosage, f.dosage?.[lang]),
        ...optional(T.use, f.asNeeded && !f.dosage ? t(T.asNeeded) : undefined),
      ],
    },
    {
      heading: t(T.dispensingSection),
      rows: [
        ...optional(T.package, f.package?.[lang]),
        ...optional(T.perDispensing, perDispensing),
        ...optional(T.remaining, f.dispensings ? `${f.dispensings.remaining} ${t(T.of)} ${f.dispensings.total}` : undefined),
        row(T.validUntil, f.validUntil),
        row(T.substitution, t(f.substitutionAllowed ? T.allowed : T.notAllowed)),
        ...optional(T.note, f.noteToPharmacist),
      ],
    },
  ];
  return {
    title: t(T.title),
    lang,
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
    footer: t(T.footer),
    notStated: t(T.notStated),
  };
}

/** The readable PDF of one prescription item. */
export function prescriptionPdf(input: EmitCdaInput, lang: PdfLang = 'nb'): Promise<Uint8Array> {
  return renderPdf({ ...prescriptionPdfSpec(prescriptionFacts(input), lang), created: input.now });
}

/**
 * The eHDSI ePrescription Level 1 CDA of one prescription item, from what the Level 3 emitter takes
 * (`emitEhdsiCda`): the same header, the PDF of the same prescription in bokmål (default) or English.
 */
export async function emitEhdsiL1Cda(input: EmitCdaInput, lang: PdfLang = 'nb'): Promise<string> {
  const pdf = await prescriptionPdf(input, lang);
  return xmlDocument(ehdsiL1CdaTree(input, pdf, lang));
}
