// An EU ePrescription presented at a Norwegian pharmacy counter (Norway as country B), as a printable
// page: the prescription id the pharmacy reports its dispensing against, the patient, the medicinal
// product, the dosage, what may still be dispensed, and the prescriber. Rendered from the stored
// MedicationRequest (its Patient, Medication and prescriber contained, or beside it in a Bundle). Pure.
import type {
  Address,
  Bundle,
  CodeableConcept,
  ContactPoint,
  Dosage,
  HumanName,
  Identifier,
  Medication,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Quantity,
  Ratio,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { CODE_SYSTEM, OID } from '../fhir/identifiers.ts';
import { html, query, type SafeHtml } from './html.ts';
import { renderPage, type ShellContext } from './layout.ts';
import { conceptText } from './summary-rows.ts';
import { formatDate, formatInstant, formatPersonNumber, GENDER, type Lang, type Texts } from './text.ts';
import type { ViewVocabulary } from './vocabulary.ts';
import { MPD_EXTENSION } from '../fhir/mpd.ts';

/** What Helsebro's store knows about the prescription beyond the resource: its counters and validity. */
export interface PrescriptionFacts {
  prescriptionId: string;
  status: string;
  dispensingsAllowed?: number | undefined;
  dispensingsDone: number;
  quantityPrescribed?: number | undefined;
  quantityDispensed: number;
  quantityUnit?: string | undefined;
  validUntil?: string | undefined;
  /** The prescription states no validity: validUntil is the Norwegian default (one year from issue). */
  validityDefaulted?: boolean | undefined;
  earliestDispense?: string | undefined;
  receivedAt?: string | undefined;
}

export interface PrescriptionPageInput {
  /** The stored `fhir_bundle`: the MedicationRequest, or a Bundle holding it. */
  resource: Resource;
  facts: PrescriptionFacts;
  lang: Lang;
  vocabulary: ViewVocabulary;
  now: Date;
  path: string;
  shell: Omit<ShellContext, 'lang' | 'otherLanguageHref'>;
}

const CLASSIFICATION_EXT = 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-classification';
const STRENGTH_SUBSTANCE_EXT = 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-strengthsubstance';
const PRESCRIBED_QUANTITY_EXT = 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medicationrequest-prescribedQuantity';
const RENDERED_DOSAGE_EXT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationRequest.renderedDosageInstruction';

const tx = (texts: Texts, lang: Lang): string => texts[lang];

/** The MedicationRequest of what the store holds: the resource itself or the first one in its Bundle. */
export function prescriptionRequestOf(resource: Resource | undefined): MedicationRequest | undefined {
  if (!resource) return undefined;
  if (resource.resourceType === 'MedicationRequest') return resource;
  if (resource.resourceType === 'Bundle') {
    return resource.entry?.map((e) => e.resource).find((r): r is MedicationRequest => r?.resourceType === 'MedicationRequest');
  }
  return undefined;
}

type Resolve = (ref: Reference | undefined) => Resource | undefined;

/** References resolve to contained resources (`#id`) or to the Bundle's entries (fullUrl or Type/id); never elsewhere. */
function resolver(request: MedicationRequest, bundle: Bundle | undefined): Resolve {
  const contained = new Map((request.contained ?? []).filter((r) => r.id).map((r) => [`#${r.id}`, r]));
  const inBundle = new Map<string, Resource>();
  for (const e of bundle?.entry ?? []) {
    if (!e.resource) continue;
    if (e.fullUrl) inBundle.set(e.fullUrl, e.resource);
    if (e.resource.id) inBundle.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  const find = (ref: string): Resource | undefined => contained.get(ref) ?? inBundle.get(ref) ?? inBundle.get(ref.replace(/^.*\/([A-Z][A-Za-z]+\/[^/]+)$/, '$1'));
  return (ref) => (ref?.reference ? find(ref.reference) : undefined);
}

export function renderPrescriptionPage(input: PrescriptionPageInput): string {
  const { lang } = input;
  const shell: ShellContext = { ...input.shell, lang, otherLanguageHref: `${input.path}${query({ lang: lang === 'nb' ? 'en' : 'nb' })}` };
  const request = prescriptionRequestOf(input.resource);
  const title = tx({ nb: 'EU-resept', en: 'EU ePrescription' }, lang);
  if (!request) {
    const body = html`<h1>${title}</h1><p class="state-statement state-unavailable">${tx({ nb: 'Den lagrede resepten inneholder ingen MedicationRequest og kan ikke vises.', en: 'The stored prescription holds no MedicationRequest and cannot be shown.' }, lang)}</p>`;
    return renderPage(shell, { title, kind: 'error', body });
  }
  const resolve = resolver(request, input.resource.resourceType === 'Bundle' ? input.resource : undefined);
  const ctx = { lang, vocabulary: input.vocabulary };
  const patient = asType<Patient>(resolve(request.subject), 'Patient');
  const medication = asType<Medication>(resolve(request.medicationReference), 'Medication');
  const body = html`<h1>${title} <span class="subtitle">${tx({ nb: 'til utlevering i Norge', en: 'for dispensing in Norway' }, lang)}</span></h1>
${idBlock(request, input)}
${statusBlock(request, input)}
<div class="columns">
${patientBlock(patient, request, input)}
${prescriberBlock(request, resolve, input)}
</div>
${medicationBlock(request, medication, input)}
${dosageBlock(request, ctx)}
<p class="never-m1">${tx(
    {
      nb: 'Resepten er utstedt i et annet EU/EØS-land og formidlet via MyHealth@EU. Utleveringen meldes som M10 med resept-ID-en over; Helsebro sender den videre som EU-utlevering.',
      en: 'The prescription was issued in another EU/EEA country and delivered through MyHealth@EU. Report the dispensing as an M10 with the prescription id above; Helsebro forwards it as an EU eDispensation.',
    },
    lang,
  )}</p>`;
  return renderPage(shell, { title: `${title} ${input.facts.prescriptionId}`, kind: 'prescription', body });
}

const asType = <T extends Resource>(r: Resource | undefined, type: T['resourceType']): T | undefined => (r?.resourceType === type ? (r as T) : undefined);

function facts(rows: [string, string | SafeHtml | undefined][], lang: Lang): SafeHtml {
  const notStated = lang === 'nb' ? 'ikke oppgitt' : 'not stated';
  return html`<dl class="facts-list">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v ?? notStated}</dd></div>`)}</dl>`;
}

function idBlock(request: MedicationRequest, input: PrescriptionPageInput): SafeHtml {
  const { lang } = input;
  const ident = request.identifier?.find((i) => i.value === input.facts.prescriptionId) ?? request.identifier?.[0];
  return html`<section class="rx-id" aria-labelledby="rx-id-heading">
<h2 id="rx-id-heading">${tx({ nb: 'Resept-ID', en: 'Prescription id' }, lang)}</h2>
<p class="big-id">${input.facts.prescriptionId}</p>
<p class="help">${tx({ nb: 'Oppgis som ReseptId i M10 ved utlevering.', en: 'Give it as ReseptId in the M10 when dispensing.' }, lang)}${ident?.system ? html` ${tx({ nb: 'Utsteders system', en: "Issuer's system" }, lang)}: <span class="system">${ident.system}</span>` : ''}</p>
</section>`;
}

const REQUEST_STATUS: Record<string, Texts> = {
  active: { nb: 'Aktiv', en: 'Active' },
  completed: { nb: 'Ferdig utlevert', en: 'Completed' },
  cancelled: { nb: 'Tilbakekalt', en: 'Cancelled' },
  stopped: { nb: 'Stoppet', en: 'Stopped' },
  'on-hold': { nb: 'På vent', en: 'On hold' },
  'entered-in-error': { nb: 'Feilregistrert', en: 'Entered in error' },
  draft: { nb: 'Utkast', en: 'Draft' },
  unknown: { nb: 'Ukjent', en: 'Unknown' },
};

function statusBlock(request: MedicationRequest, input: PrescriptionPageInput): SafeHtml {
  const { lang, facts: f } = input;
  const today = input.now.toISOString().slice(0, 10);
  const expired = f.validUntil !== undefined && f.validUntil < today;
  const early = f.earliestDispense !== undefined && f.earliestDispense > today;
  const status = REQUEST_STATUS[f.status]?.[lang] ?? f.status;
  const remaining = f.dispensingsAllowed !== undefined ? Math.max(0, f.dispensingsAllowed - f.dispensingsDone) : undefined;
  const dispensable = f.status === 'active' && !expired && !early && (remaining === undefined || remaining > 0);
  // No validity on the prescription: dispensable under the Norwegian rule only, and the pharmacist is told so
  // rather than given the plain green verdict.
  const verdict = dispensable && f.validityDefaulted
    ? html`<p class="verdict verdict-warn" role="status"><strong>${tx({ nb: `Kan utleveres til og med ${formatDate(f.validUntil, lang)}`, en: `May be dispensed until ${formatDate(f.validUntil, lang)}` }, lang)}:</strong> ${tx(
        { nb: 'gyldighet er ikke oppgitt på resepten; norsk regel er ett år fra forskrivningsdato. Sjekk resepten.', en: 'the prescription states no validity; the Norwegian rule is one year from the day it was issued. Check the prescription.' },
        lang,
      )}</p>`
    : dispensable
    ? html`<p class="verdict verdict-ok"><strong>${tx({ nb: 'Kan utleveres', en: 'May be dispensed' }, lang)}</strong></p>`
    : html`<p class="verdict verdict-stop" role="alert"><strong>${tx({ nb: 'Kan ikke utleveres', en: 'May not be dispensed' }, lang)}:</strong> ${[
        f.status !== 'active' ? status : undefined,
        expired
          ? f.validityDefaulted
            ? tx({ nb: `utløpt ${formatDate(f.validUntil, lang)} (gyldighet ikke oppgitt; ett år fra forskrivning)`, en: `expired ${formatDate(f.validUntil, lang)} (no validity stated; one year from issue)` }, lang)
            : tx({ nb: `utløpt ${formatDate(f.validUntil, lang)}`, en: `expired ${formatDate(f.validUntil, lang)}` }, lang)
          : undefined,
        early ? tx({ nb: `tidligst ${formatDate(f.earliestDispense, lang)}`, en: `not before ${formatDate(f.earliestDispense, lang)}` }, lang) : undefined,
        remaining === 0 ? tx({ nb: 'ingen utleveringer igjen', en: 'no dispensings left' }, lang) : undefined,
      ]
        .filter(Boolean)
        .join(', ')}</p>`;
  const prescribed = f.quantityPrescribed !== undefined ? `${num(f.quantityPrescribed, lang)} ${f.quantityUnit ?? ''}`.trim() : quantityText(requestQuantity(request), lang);
  const substitution = request.substitution
    ? request.substitution.allowedBoolean !== undefined
      ? request.substitution.allowedBoolean
        ? tx({ nb: 'Tillatt', en: 'Allowed' }, lang)
        : tx({ nb: 'Ikke tillatt', en: 'Not allowed' }, lang)
      : conceptText(request.substitution.allowedCodeableConcept, { lang, vocabulary: input.vocabulary })
    : undefined;
  return html`<section class="rx-status" aria-labelledby="rx-status-heading">
<h2 id="rx-status-heading">${tx({ nb: 'Status og utlevering', en: 'Status and dispensing' }, lang)}</h2>
${verdict}
${facts(
  [
    [tx({ nb: 'Status', en: 'Status' }, lang), status],
    [tx({ nb: 'Forskrevet', en: 'Prescribed on' }, lang), formatDate(request.authoredOn, lang)],
    [tx({ nb: 'Gyldig', en: 'Valid' }, lang), validity(f, request, lang)],
    [
      tx({ nb: 'Utleveringer', en: 'Dispensings' }, lang),
      f.dispensingsAllowed !== undefined
        ? tx({ nb: `${f.dispensingsDone} av ${f.dispensingsAllowed} utført, ${remaining} igjen`, en: `${f.dispensingsDone} of ${f.dispensingsAllowed} done, ${remaining} left` }, lang)
        : tx({ nb: `${f.dispensingsDone} utført`, en: `${f.dispensingsDone} done` }, lang),
    ],
    [tx({ nb: 'Forskrevet mengde', en: 'Quantity prescribed' }, lang), prescribed],
    ...(f.quantityDispensed ? [[tx({ nb: 'Utlevert så langt', en: 'Dispensed so far' }, lang), `${num(f.quantityDispensed, lang)} ${f.quantityUnit ?? ''}`.trim()] as [string, string]] : []),
    [tx({ nb: 'Bytte (generisk)', en: 'Substitution' }, lang), substitution],
    [tx({ nb: 'Mottatt i Helsebro', en: 'Received by Helsebro' }, lang), formatInstant(f.receivedAt, lang)],
  ],
  lang,
)}
</section>`;
}

function validity(f: PrescriptionFacts, request: MedicationRequest, lang: Lang): string | undefined {
  const start = f.earliestDispense ?? request.dispenseRequest?.validityPeriod?.start;
  const end = f.validUntil ?? request.dispenseRequest?.validityPeriod?.end;
  if (!start && !end) return undefined;
  const range = [start ? formatDate(start, lang) : undefined, end ? formatDate(end, lang) : undefined].map((d) => d ?? '…').join(' – ');
  return f.validityDefaulted ? `${range} ${tx({ nb: '(ikke oppgitt på resepten: ett år fra forskrivning)', en: '(not stated on the prescription: one year from issue)' }, lang)}` : range;
}

function requestQuantity(r: MedicationRequest): Quantity | undefined {
  return r.dispenseRequest?.quantity ?? r.dispenseRequest?.extension?.find((e) => e.url === PRESCRIBED_QUANTITY_EXT)?.valueQuantity;
}

const num = (n: number, lang: Lang): string => (lang === 'nb' ? String(n).replace('.', ',') : String(n));

const UCUM = 'http://unitsofmeasure.org';

/** "1500 mg": the UCUM code where there is one (what a pharmacist reads), else the unit as written. */
function quantityText(q: Quantity | undefined, lang: Lang): string | undefined {
  if (!q || q.value === undefined) return undefined;
  return `${num(q.value, lang)} ${unitText(q, lang)}`.trim();
}

/**
 * A unit as a pharmacist reads it: UCUM's unity "1" is a count ("stk"), an annotation "{Tablet}" is its word,
 * anything else as coded. "100 1/1" told the counter nothing.
 */
function unitText(q: Pick<Quantity, 'system' | 'code' | 'unit'>, lang: Lang): string {
  const unit = q.system === UCUM && q.code ? q.code : (q.unit ?? q.code ?? '');
  if (unit === '1') return lang === 'nb' ? 'stk' : 'units';
  const annotation = /^\{([^}]+)\}$/.exec(unit);
  return annotation ? annotation[1]! : unit;
}

const isUnity = (q: Quantity): boolean => (q.system === UCUM && q.code === '1') || (!q.code && (q.unit === '1' || q.unit === undefined));

/**
 * What one package holds. A multipack in MPD counts its items in `amount` and says what one item holds in
 * the sizeOfItem extension: "2 × 150 Actuation", never the item count alone.
 */
function packageText(med: Medication | undefined, lang: Lang): string | undefined {
  const item = med?.extension?.find((e) => e.url === MPD_EXTENSION.sizeOfItem)?.valueQuantity;
  const count = med?.amount?.numerator?.value;
  if (item && count !== undefined) return `${count} × ${quantityText(item, lang)}`;
  return ratioText(med?.amount, lang);
}

function ratioText(r: Ratio | undefined, lang: Lang): string | undefined {
  const n = quantityText(r?.numerator, lang);
  if (!n) return undefined;
  const d = r?.denominator;
  if (!d || d.value === undefined) return n;
  // "per one" says nothing: 100 tablets per 1 is 100 tablets, 500 mg per 1 (tablet) is 500 mg.
  if (d.value === 1 && isUnity(d)) return n;
  const unit = unitText(d, lang);
  return d.value === 1 && unit ? `${n}/${unit}` : `${n}/${quantityText(d, lang)}`;
}

function nameText(names: HumanName[] | undefined): string | undefined {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return undefined;
  return n.text ?? ([...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ') || undefined);
}

function identifierText(i: Identifier, lang: Lang): string | undefined {
  if (!i.value) return undefined;
  const label =
    i.system === OID.fnr
      ? tx({ nb: 'Fødselsnummer', en: 'National identity number' }, lang)
      : i.system === OID.dnr
        ? 'D-nummer'
        : (i.type?.text ?? i.type?.coding?.[0]?.display);
  const value = i.system === OID.fnr || i.system === OID.dnr ? formatPersonNumber(i.value) : i.value;
  return label ? `${label}: ${value}` : i.system ? `${value} (${i.system})` : value;
}

function addressText(a: Address | undefined): string | undefined {
  if (!a) return undefined;
  return a.text ?? ([...(a.line ?? []), [a.postalCode, a.city].filter(Boolean).join(' '), a.country].filter(Boolean).join(', ') || undefined);
}

const telecomText = (t: ContactPoint[] | undefined): string | undefined =>
  t?.map((c) => c.value).filter(Boolean).join(', ') || undefined;

function patientBlock(p: Patient | undefined, request: MedicationRequest, input: PrescriptionPageInput): SafeHtml {
  const { lang } = input;
  const name = nameText(p?.name) ?? request.subject?.display;
  return html`<section class="rx-patient" aria-labelledby="rx-patient-heading">
<h2 id="rx-patient-heading">${tx({ nb: 'Pasient', en: 'Patient' }, lang)}</h2>
${facts(
  [
    [tx({ nb: 'Navn', en: 'Name' }, lang), name ? html`<bdi>${name}</bdi>` : undefined],
    [tx({ nb: 'Født', en: 'Born' }, lang), formatDate(p?.birthDate, lang)],
    [tx({ nb: 'Kjønn', en: 'Sex' }, lang), p?.gender ? (GENDER[p.gender]?.[lang] ?? p.gender) : undefined],
    [tx({ nb: 'Identifikatorer', en: 'Identifiers' }, lang), (p?.identifier ?? []).map((i) => identifierText(i, lang)).filter(Boolean).join('; ') || undefined],
    [tx({ nb: 'Adresse', en: 'Address' }, lang), addressText(p?.address?.[0])],
  ],
  lang,
)}
</section>`;
}

function prescriberBlock(request: MedicationRequest, resolve: Resolve, input: PrescriptionPageInput): SafeHtml {
  const { lang } = input;
  const requester = resolve(request.requester);
  const role = asType<PractitionerRole>(requester, 'PractitionerRole');
  const practitioner = asType<Practitioner>(requester, 'Practitioner') ?? asType<Practitioner>(resolve(role?.practitioner), 'Practitioner');
  const organization = asType<Organization>(requester, 'Organization') ?? asType<Organization>(resolve(role?.organization), 'Organization');
  const ctx = { lang, vocabulary: input.vocabulary };
  const name = nameText(practitioner?.name) ?? role?.practitioner?.display ?? (requester ? undefined : request.requester?.display);
  const roleText = (role?.code ?? []).map((c: CodeableConcept) => conceptText(c, ctx)).filter(Boolean).join(', ') || undefined;
  const ids = [...(practitioner?.identifier ?? [])].map((i) => identifierText(i, lang)).filter(Boolean).join('; ') || undefined;
  return html`<section class="rx-prescriber" aria-labelledby="rx-prescriber-heading">
<h2 id="rx-prescriber-heading">${tx({ nb: 'Forskriver', en: 'Prescriber' }, lang)}</h2>
${facts(
  [
    [tx({ nb: 'Navn', en: 'Name' }, lang), name ? html`<bdi>${name}</bdi>` : undefined],
    [tx({ nb: 'Rolle', en: 'Role' }, lang), roleText],
    [tx({ nb: 'Identifikator', en: 'Identifier' }, lang), ids],
    [tx({ nb: 'Virksomhet', en: 'Organisation' }, lang), organization?.name ?? role?.organization?.display],
    [tx({ nb: 'Adresse', en: 'Address' }, lang), addressText(organization?.address?.[0] ?? practitioner?.address?.[0])],
    [tx({ nb: 'Kontakt', en: 'Contact' }, lang), telecomText(organization?.telecom ?? practitioner?.telecom ?? role?.telecom)],
  ],
  lang,
)}
</section>`;
}

function medicationBlock(request: MedicationRequest, med: Medication | undefined, input: PrescriptionPageInput): SafeHtml {
  const { lang } = input;
  const ctx = { lang, vocabulary: input.vocabulary };
  const code = med?.code ?? request.medicationCodeableConcept;
  const productName = med?.extension?.find((e) => e.url === MPD_EXTENSION.productName)?.valueString;
  const classification = med?.extension?.find((e) => e.url === CLASSIFICATION_EXT)?.valueCodeableConcept;
  const atc = [...(code?.coding ?? []), ...(classification?.coding ?? [])].find((c) => c.system === CODE_SYSTEM.atc && c.code);
  const form = conceptText(med?.form, ctx);
  const atcText = atc ? `${atc.code}${atc.display || ctx.vocabulary.display(atc.system, atc.code, lang) ? ` (${ctx.vocabulary.display(atc.system, atc.code, lang) ?? atc.display})` : ''}` : undefined;
  const strengths = (med?.ingredient ?? [])
    .filter((i) => i.isActive !== false)
    .map((i) => {
      const substance = conceptText(i.strength?.extension?.find((e) => e.url === STRENGTH_SUBSTANCE_EXT)?.valueCodeableConcept, ctx) ?? conceptText(i.itemCodeableConcept, ctx) ?? i.itemReference?.display;
      return [substance, ratioText(i.strength, lang)].filter(Boolean).join(' ');
    })
    .filter(Boolean)
    .join('; ');
  // A generic prescription names no product: the substance, strength and form are its name.
  const name = productName ?? code?.text ?? conceptText(code, ctx) ?? request.medicationReference?.display ?? (strengths ? [strengths, form].filter(Boolean).join(', ') : undefined);
  const otherCodes = (code?.coding ?? [])
    .filter((c) => c.system !== CODE_SYSTEM.atc && c.code)
    .map((c) => `${ctx.vocabulary.systemName(c.system) ?? c.system ?? ''} ${c.code}`.trim())
    .join('; ');
  const packageIds = (med?.identifier ?? []).map((i) => i.value).filter(Boolean).join(', ');
  return html`<section class="rx-medication" aria-labelledby="rx-medication-heading">
<h2 id="rx-medication-heading">${tx({ nb: 'Legemiddel', en: 'Medicinal product' }, lang)}</h2>
<p class="product-name">${name ?? tx({ nb: 'Navn ikke oppgitt', en: 'Name not stated' }, lang)}</p>
${facts(
  [
    ['ATC', atcText],
    [tx({ nb: 'Legemiddelform', en: 'Dose form' }, lang), form],
    [tx({ nb: 'Styrke', en: 'Strength' }, lang), strengths || undefined],
    [tx({ nb: 'Pakning', en: 'Package' }, lang), packageText(med, lang)],
    [tx({ nb: 'Produsent', en: 'Manufacturer' }, lang), med?.manufacturer?.display],
    [tx({ nb: 'Andre koder', en: 'Other codes' }, lang), [otherCodes, packageIds].filter(Boolean).join('; ') || undefined],
    [tx({ nb: 'Bruksområde', en: 'Reason' }, lang), (request.reasonCode ?? []).map((r) => conceptText(r, ctx)).filter(Boolean).join('; ') || undefined],
  ],
  lang,
)}
</section>`;
}

function dosageBlock(request: MedicationRequest, ctx: { lang: Lang; vocabulary: ViewVocabulary }): SafeHtml {
  const { lang } = ctx;
  const rendered = request.extension?.find((e) => e.url === RENDERED_DOSAGE_EXT)?.valueMarkdown;
  const lines = (request.dosageInstruction ?? []).map((d) => dosageText(d, ctx)).filter((x): x is string => !!x);
  const notes = (request.note ?? []).map((n) => n.text).filter(Boolean);
  return html`<section class="rx-dosage" aria-labelledby="rx-dosage-heading">
<h2 id="rx-dosage-heading">${tx({ nb: 'Dosering', en: 'Dosage' }, lang)}</h2>
${rendered ? html`<p class="dosage-text">${rendered}</p>` : ''}
${lines.length && rendered ? html`<p class="help">${tx({ nb: 'Strukturert dosering', en: 'Structured dosage' }, lang)}:</p>` : ''}
${lines.length ? html`<ol class="dosage-lines">${lines.map((l) => html`<li>${l}</li>`)}</ol>` : ''}
${!rendered && !lines.length ? html`<p>${tx({ nb: 'Dosering ikke oppgitt.', en: 'Dosage not stated.' }, lang)}</p>` : ''}
${notes.length ? html`<p class="rx-note"><strong>${tx({ nb: 'Merknad', en: 'Note' }, lang)}:</strong> ${notes.join(' ')}</p>` : ''}
</section>`;
}

const PERIOD_UNIT: Record<string, Texts> = {
  s: { nb: 'sekund', en: 's' },
  min: { nb: 'minutt', en: 'min' },
  h: { nb: 'time', en: 'h' },
  d: { nb: 'døgn', en: 'day' },
  wk: { nb: 'uke', en: 'week' },
  mo: { nb: 'måned', en: 'month' },
  a: { nb: 'år', en: 'year' },
};

/** The instruction's text, or a plain reading of its structure: dose, frequency, duration, route. */
export function dosageText(d: Dosage, ctx: { lang: Lang; vocabulary: ViewVocabulary }): string | undefined {
  const { lang } = ctx;
  if (d.text) return d.text;
  const parts: string[] = [];
  const dose = d.doseAndRate?.[0]?.doseQuantity;
  const doseRange = d.doseAndRate?.[0]?.doseRange;
  if (dose) parts.push(quantityText(dose, lang) ?? '');
  else if (doseRange) parts.push(`${quantityText(doseRange.low, lang) ?? '?'}–${quantityText(doseRange.high, lang) ?? '?'}`);
  const r = d.timing?.repeat;
  if (r?.frequency !== undefined && r.period !== undefined && r.periodUnit) {
    const unit = PERIOD_UNIT[r.periodUnit]?.[lang] ?? r.periodUnit;
    parts.push(
      lang === 'nb'
        ? `${r.frequency} ${r.frequency === 1 ? 'gang' : 'ganger'} ${r.period === 1 ? `per ${unit}` : `hver ${num(r.period, lang)}. ${unit}`}`
        : `${r.frequency} ${r.frequency === 1 ? 'time' : 'times'} every ${r.period === 1 ? '' : `${num(r.period, lang)} `}${unit}`,
    );
  }
  const bounds = r?.boundsDuration;
  if (bounds?.value !== undefined) {
    const unit = bounds.code ? (PERIOD_UNIT[bounds.code]?.[lang] ?? bounds.unit ?? bounds.code) : (bounds.unit ?? '');
    parts.push(lang === 'nb' ? `i ${num(bounds.value, lang)} ${unit}` : `for ${num(bounds.value, lang)} ${unit}${bounds.value === 1 ? '' : 's'}`);
  }
  const route = conceptText(d.route, ctx);
  if (route) parts.push(route);
  if (d.asNeededBoolean) parts.push(lang === 'nb' ? 'ved behov' : 'as needed');
  if (d.patientInstruction) parts.push(d.patientInstruction);
  const text = parts.filter(Boolean).join(', ');
  return text || undefined;
}
