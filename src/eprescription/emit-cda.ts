// The eHDSI ePrescription CDA (level 3, template 1.3.6.1.4.1.12559.11.10.1.3.1.1.1, LOINC 57833-6) for one
// prescription item. The document's shape (element order, templateIds, class and mood codes) is the eHDSI
// template's and lives here; every value comes from the m1-to-ehdsi-cda mapping table through `Mapped`.
// Coded values carry the EU code at top level and the Norwegian code as translation; an unmapped code is
// sent as nullFlavor OTH with its original text and the Norwegian translation. Pure.
import type { Address, Coding, ContactPoint, Identifier, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FEST_ID_SYSTEM, HELSEBRO_OID_ARC, PRESCRIPTION_ID_SYSTEM, VARENUMMER_SYSTEM } from '../fhir/identifiers.ts';
import type { FestProduct } from '../registries/fest/types.ts';
import { CONCEPT_MAP, getTerminology, systemOid, type EuConcept } from '../terminology/index.ts';
import { countedInPieces, formsOf, prescribedPackage } from './emit-fhir.ts';
import type { Mapped } from './map/apply.ts';
import { euQuantity } from './map/transforms.ts';
import type { EuQuantity, PersonName } from './map/values.ts';
import type { M1Message } from './m1/model.ts';
import { el, textEl, xmlDocument, type Child, type XmlNode } from './xml-write.ts';
import { withoutDirectionControls } from '../fhir/xhtml.ts';
import { cdaDosage, type CdaDosage } from './cda-dosage.ts';
import { amountText, dosageText, quantityText } from './dosage-text.ts';
import { packageLevels } from '../registries/fest/package-size.ts';
import { sizeTextOf } from './package-levels.ts';

export const EHDSI_TEMPLATE = {
  ePrescription: '1.3.6.1.4.1.12559.11.10.1.3.1.1.1',
  /** eHDSI ePrescription PDF embedded (Level 1). */
  ePrescriptionL1: '1.3.6.1.4.1.12559.11.10.1.3.1.1.6',
  prescriptionSection: '1.3.6.1.4.1.12559.11.10.1.3.1.2.1',
  prescriptionItem: '1.3.6.1.4.1.12559.11.10.1.3.1.3.2',
  manufacturedProduct: '1.3.6.1.4.1.12559.11.10.1.3.1.3.29',
  manufacturedMaterial: '1.3.6.1.4.1.12559.11.10.1.3.1.3.30',
} as const;

const LOINC = '2.16.840.1.113883.6.1';

export interface EmitCdaInput {
  mapped: Mapped;
  m1: M1Message;
  product?: FestProduct | undefined;
  /** The operator's OID arc (config HELSEBRO_OID). */
  helsebroOid: string;
  now: Date;
  /** The custodian: the organisation operating Helsebro (CTX:operator). */
  operator: { name: string; orgnr?: string | undefined };
  /** Address protection in the population register: the patient's addr is masked (nullFlavor MSK). */
  withholdPatientAddress?: boolean | undefined;
}

// --- value renderers ----------------------------------------------------------------------------------

const cdaDate = (d: string | undefined): string | undefined => (d ? d.slice(0, 10).replaceAll('-', '') : undefined);

/** ISO instant -> TS with time zone (TS.EPSOS.TZ), in UTC. */
export const cdaInstant = (iso: string): string => {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
};

function oidOf(system: string | undefined, helsebroOid: string): string | undefined {
  if (!system) return undefined;
  if (system === PRESCRIPTION_ID_SYSTEM) return `${helsebroOid}.${HELSEBRO_OID_ARC.prescriptionId}`;
  if (system === VARENUMMER_SYSTEM) return `${helsebroOid}.${HELSEBRO_OID_ARC.varenummer}`;
  if (system === FEST_ID_SYSTEM) return `${helsebroOid}.${HELSEBRO_OID_ARC.festId}`;
  return systemOid(system);
}

function ii(id: Identifier | undefined, helsebroOid: string): XmlNode {
  const root = oidOf(id?.system, helsebroOid);
  if (!id?.value || !root) return el('id', { nullFlavor: 'NI' });
  return el('id', { root, extension: id.value });
}

/** A coded value: EU code at top level, the Norwegian code as translation; nullFlavor OTH when unmapped. */
function ce(name: string, concept: EuConcept | undefined, attrs: Record<string, string> = {}): XmlNode {
  if (!concept) return el(name, { ...attrs, nullFlavor: 'UNK' });
  const national = concept.concept.coding?.find((c) => c !== concept.eu);
  const translation = national?.code
    ? el('translation', { code: national.code, codeSystem: systemOid(national.system ?? ''), displayName: national.display })
    : undefined;
  const eu = concept.eu;
  const euOid = eu?.system ? systemOid(eu.system) : undefined;
  if (!eu?.code || !euOid) return el(name, { ...attrs, nullFlavor: 'OTH' }, textEl('originalText', concept.concept.text), translation);
  return el(name, { ...attrs, code: eu.code, codeSystem: euOid, displayName: eu.display }, translation);
}

function codingCe(name: string, coding: Coding | undefined, attrs: Record<string, string> = {}): XmlNode {
  const oid = coding?.system ? systemOid(coding.system) : undefined;
  if (!coding?.code || !oid) return el(name, { ...attrs, nullFlavor: 'UNK' });
  return el(name, { ...attrs, code: coding.code, codeSystem: oid, displayName: coding.display });
}

/** A physical quantity: UCUM, a UCUM annotation with the EDQM unit of presentation, or 1 with a translation. */
function pq(name: string, q: EuQuantity | undefined, attrs: Record<string, string> = {}): XmlNode {
  if (!q) return el(name, { ...attrs, nullFlavor: 'UNK' });
  if (q.ucum && q.ucum !== '1') return el(name, { ...attrs, value: q.value, unit: q.ucum });
  if (q.presentation?.display) return el(name, { ...attrs, value: q.value, unit: `{${q.presentation.display}}` });
  const national = q.national;
  const translation =
    national?.code && !q.ucum
      ? el('translation', { value: q.value, code: national.code, codeSystem: systemOid(national.system ?? ''), displayName: national.display })
      : undefined;
  return el(name, { ...attrs, value: q.value, unit: '1' }, translation);
}

const ADDRESS_USE: Record<string, string> = { home: 'H', work: 'WP', temp: 'TMP', old: 'BAD' };

function addr(a: Address | undefined): XmlNode {
  if (!a) return el('addr', { nullFlavor: 'NI' });
  return el(
    'addr',
    { use: a.use ? ADDRESS_USE[a.use] : undefined },
    (a.line ?? []).map((l) => textEl('streetAddressLine', l)),
    textEl('postalCode', a.postalCode),
    textEl('city', a.city),
    textEl('country', a.country ?? 'NO'),
  );
}

function telecoms(list: readonly ContactPoint[]): XmlNode[] {
  const scheme: Record<string, string> = { phone: 'tel:', email: 'mailto:', fax: 'fax:' };
  const out = list.flatMap((t) => {
    if (!t.value) return [];
    const prefix = t.system ? scheme[t.system] : undefined;
    const value = t.system === 'url' ? t.value : prefix ? `${prefix}${t.value}` : undefined;
    return value ? [el('telecom', { value, use: t.use === 'home' ? 'HP' : 'WP' })] : [];
  });
  return out.length ? out : [el('telecom', { nullFlavor: 'NI' })];
}

function pn(name: PersonName | undefined): XmlNode {
  if (!name) return el('name', { nullFlavor: 'NI' });
  return el('name', {}, textEl('family', name.family), name.given.map((g) => textEl('given', g)));
}

const GENDER: Record<string, [string, string]> = { male: ['M', 'Male'], female: ['F', 'Female'], unknown: ['UN', 'Undifferentiated'] };

// --- the document ------------------------------------------------------------------------------------

const ITEM = "/ClinicalDocument/component/structuredBody/component/section/entry/substanceAdministration[@moodCode='INT']";
const MATERIAL = `${ITEM}/consumable/manufacturedProduct/manufacturedMaterial`;

interface Parts {
  input: EmitCdaInput;
  m: Mapped;
  oid: string;
  dosage: CdaDosage;
  /** The structured dosage as text (bokmål / English), when the M1 has one. */
  doseText?: { nb: string; en: string };
}

const PATIENT_ROLE = '/ClinicalDocument/recordTarget/patientRole';

/**
 * Birth date and sex as the document states them: the table's rows in their order (the person number, the
 * population register, the M1; identity.ts says why). Level 3 and the Level 1 PDF both read them here, so a
 * PDF cannot say "not stated" where Level 3 gives a date.
 */
function patientBirthAndGender(m: Mapped): { birth?: string; gender?: 'male' | 'female' | 'unknown' } {
  const P = PATIENT_ROLE;
  const gender = m.one(`${P}/patient/administrativeGenderCode`, 'gender');
  const birth = m.one(`${P}/patient/birthTime/@value`, 'date');
  return { ...(birth ? { birth } : {}), ...(gender ? { gender } : {}) };
}

function recordTarget({ input, m, oid }: Parts): XmlNode {
  const P = PATIENT_ROLE;
  const ids = m.all(`${P}/id`, 'identifier').map((v) => ii(v.value, oid));
  const { birth, gender } = patientBirthAndGender(m);
  const g = GENDER[gender ?? ''];
  return el(
    'recordTarget',
    { typeCode: 'RCT', contextControlCode: 'OP' },
    el(
      'patientRole',
      { classCode: 'PAT' },
      ids.length ? ids : el('id', { nullFlavor: 'NI' }),
      // Masked rather than absent: the receiver learns that an address exists and is withheld on purpose.
      input.withholdPatientAddress ? (m.one(`${P}/addr`, 'address'), el('addr', { nullFlavor: 'MSK' })) : addr(m.one(`${P}/addr`, 'address')),
      patientTelecom(m, `${P}/telecom`),
      el(
        'patient',
        { classCode: 'PSN', determinerCode: 'INSTANCE' },
        pn(m.one(`${P}/patient/name`, 'person-name')),
        g ? el('administrativeGenderCode', { code: g[0], codeSystem: '2.16.840.1.113883.5.1', displayName: g[1] }) : el('administrativeGenderCode', { nullFlavor: 'UNK' }),
        el('birthTime', { value: cdaDate(birth) }),
      ),
    ),
  );
}

/** The M1 carries no patient telecom: the row's note makes nullFlavor NI the expected outcome. */
function patientTelecom(m: Mapped, target: string): XmlNode[] {
  const list = m.all(target, 'telecom').map((v) => v.value);
  if (!list.length) m.fallbackUsed(target);
  return telecoms(list);
}

function representedOrganization(name: string, m: Mapped, oid: string, base: string): XmlNode {
  return el(
    name,
    { classCode: 'ORG', determinerCode: 'INSTANCE' },
    (() => {
      const ids = m.all(`${base}/id`, 'identifier').map((v) => ii(v.value, oid));
      return ids.length ? ids : el('id', { nullFlavor: 'NI' });
    })(),
    textEl('name', m.one(`${base}/name`, 'text')) ?? el('name', { nullFlavor: 'NI' }),
    telecoms(m.all(`${base}/telecom`, 'telecom').map((v) => v.value)),
    addr(m.one(`${base}/addr`, 'address')),
  );
}

function orgAddress(m: Mapped, target: string, orgTarget: string): Address | undefined {
  const a = m.one(orgTarget, 'address');
  if (a) m.fallbackUsed(target);
  return a;
}

function author({ m, oid }: Parts): XmlNode {
  const A = '/ClinicalDocument/author';
  const orgBase = `${A}/assignedAuthor/representedOrganization`;
  const personAddr = m.one(`${A}/assignedAuthor/addr`, 'address');
  return el(
    'author',
    { typeCode: 'AUT', contextControlCode: 'OP' },
    ce('functionCode', m.one(`${A}/functionCode`, 'code-map')),
    el('time', { value: cdaDate(m.one(`${A}/time/@value`, 'date')) }),
    el(
      'assignedAuthor',
      { classCode: 'ASSIGNED' },
      m.all(`${A}/assignedAuthor/id`, 'identifier').map((v) => ii(v.value, oid)),
      // The row's note: the organisation's address when the person has none.
      addr(personAddr ?? orgAddress(m, `${A}/assignedAuthor/addr`, `${orgBase}/addr`)),
      telecoms(m.all(`${A}/assignedAuthor/telecom`, 'telecom').map((v) => v.value)),
      el('assignedPerson', { classCode: 'PSN', determinerCode: 'INSTANCE' }, pn(m.one(`${A}/assignedAuthor/assignedPerson/name`, 'person-name'))),
      representedOrganization('representedOrganization', m, oid, orgBase),
    ),
  );
}

function custodian({ m, input }: Parts): XmlNode {
  // The table maps CTX:operator here; the operator's name and number come with the conversion context.
  m.one('/ClinicalDocument/custodian/assignedCustodian/representedCustodianOrganization', 'reference');
  const operator = input.operator;
  return el(
    'custodian',
    { typeCode: 'CST' },
    el(
      'assignedCustodian',
      { classCode: 'ASSIGNED' },
      el(
        'representedCustodianOrganization',
        { classCode: 'ORG', determinerCode: 'INSTANCE' },
        operator.orgnr ? el('id', { root: '2.16.578.1.12.4.1.4.101', extension: operator.orgnr }) : el('id', { nullFlavor: 'NI' }),
        el('name', {}, operator.name),
        el('telecom', { nullFlavor: 'NI' }),
        el('addr', {}, el('country', {}, 'NO')),
      ),
    ),
  );
}

function legalAuthenticator({ m, oid }: Parts): XmlNode {
  const L = '/ClinicalDocument/legalAuthenticator';
  m.one(`${L}/assignedEntity/representedOrganization`, 'reference');
  const orgBase = '/ClinicalDocument/author/assignedAuthor/representedOrganization';
  return el(
    'legalAuthenticator',
    { typeCode: 'LA', contextControlCode: 'OP' },
    el('time', { value: cdaDate(m.one(`${L}/time/@value`, 'date')) }),
    el('signatureCode', { code: m.one(`${L}/signatureCode/@code`, 'constant') ?? 'S' }),
    el(
      'assignedEntity',
      { classCode: 'ASSIGNED' },
      m.all('/ClinicalDocument/author/assignedAuthor/id', 'identifier').map((v) => ii(v.value, oid)),
      addr(m.one(`${orgBase}/addr`, 'address')),
      telecoms(m.all(`${orgBase}/telecom`, 'telecom').map((v) => v.value)),
      el('assignedPerson', { classCode: 'PSN', determinerCode: 'INSTANCE' }, pn(m.one(`${L}/assignedEntity/assignedPerson/name`, 'person-name'))),
      representedOrganization('representedOrganization', m, oid, orgBase),
    ),
  );
}

/**
 * What the prescription says, as a reader needs it: the section narrative of Level 3 and the PDF of Level 1
 * are both made from these values, so the two levels cannot say different things.
 */
export interface PrescriptionFacts {
  medicine: string;
  /** The dose form: EDQM term and the Norwegian one. */
  form?: { en?: string | undefined; nb?: string | undefined };
  atc?: string;
  /** Bruksområde as the prescriber wrote it (Norwegian). */
  indication?: string;
  /** The dosage as the prescriber wrote it (Norwegian). */
  dosageWritten?: string;
  /** The structured dosage in words. */
  dosage?: { nb: string; en: string };
  asNeeded: boolean;
  /** Packages per dispensing (with the amount prescribed, when it was an amount), or an amount in its own unit. */
  perDispensing?: { packages: number; amount?: { en: string; nb: string } } | { amount: { en: string; nb: string } };
  /** One package: nested counts and what the innermost item holds ("2 x 150 Actuation"; bokmål in Norwegian units). */
  package?: { en: string; nb: string };
  dispensings?: { remaining: number; total: number };
  validUntil?: string;
  substitutionAllowed: boolean;
  noteToPharmacist?: string;
  patient: { name?: string; birthDate?: string; identifiers: string[] };
  prescriber: { name?: string; identifiers: string[]; organisation?: string };
  prescribed?: string;
}

const fullName = (n: PersonName | undefined): string | undefined => (n ? [...n.given, n.family].filter(Boolean).join(' ') || undefined : undefined);

function prescriptionFactsOf(parts: Parts): PrescriptionFacts {
  const { m, input } = parts;
  const name = m.one(`${MATERIAL}/pharm:desc`, 'text') ?? m.one(`${MATERIAL}/name`, 'text') ?? '';
  const form = m.one(`${MATERIAL}/pharm:formCode`, 'code-map');
  const atc = m.one(`${MATERIAL}/pharm:asSpecializedKind[@classCode='GRIC']/pharm:generalizedMaterialKind/pharm:code`, 'coding');
  const supply = supplyOf(parts);
  const counts = m.one(`${ITEM}/entryRelationship[@typeCode='COMP']/supply/repeatNumber/@value`, 'dispensings-remaining');
  const substitution = m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/observation/value`, 'substitution');
  const P = '/ClinicalDocument/recordTarget/patientRole';
  const A = '/ClinicalDocument/author';
  const facts: PrescriptionFacts = {
    medicine: name,
    asNeeded: parts.dosage.asNeeded,
    substitutionAllowed: substitution !== false,
    patient: {
      name: fullName(m.one(`${P}/patient/name`, 'person-name')),
      identifiers: m.all(`${P}/id`, 'identifier').flatMap((v) => (v.value.value ? [v.value.value] : [])),
    },
    prescriber: {
      name: fullName(m.one(`${A}/assignedAuthor/assignedPerson/name`, 'person-name')),
      identifiers: m.all(`${A}/assignedAuthor/id`, 'identifier').flatMap((v) => (v.value.value ? [v.value.value] : [])),
    },
  };
  const optional: Partial<PrescriptionFacts> = {
    form: form ? { en: form.eu?.display, nb: form.concept.coding?.find((c) => c !== form.eu)?.display ?? form.concept.text } : undefined,
    atc: atc ? `${atc.code}${atc.display ? ` ${atc.display}` : ''}` : undefined,
    indication: m.one(`${ITEM}/entryRelationship[@typeCode='RSON']/observation/value`, 'text'),
    dosageWritten: m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/act[code/@code='PINSTRUCT']/text`, 'text'),
    dosage: parts.doseText,
    perDispensing: perDispensingOf(supply, parts),
    package: packageFact(parts),
    dispensings: counts,
    validUntil: input.m1.resept.utloper,
    noteToPharmacist: m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/act[code/@code='FINSTRUCT']/text`, 'text'),
    prescribed: m.one(`${A}/time/@value`, 'date'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (facts as unknown as Record<string, unknown>)[k] = v;
  const { birth } = patientBirthAndGender(m);
  if (birth) facts.patient.birthDate = birth;
  const organisation = m.one(`${A}/assignedAuthor/representedOrganization/name`, 'text');
  if (organisation) facts.prescriber.organisation = organisation;
  return facts;
}

/**
 * Per dispensing as the reader is told it: packages, or the amount in words ("100 tablets" / "100 stk"),
 * never a bare number that could be taken for packages. An amount the supply cannot state is not told at all
 * (the conversion is refused).
 */
function perDispensingOf(supply: Supply | undefined, { m, input }: Parts): PrescriptionFacts['perDispensing'] {
  if (!supply || 'unstated' in supply) return undefined;
  if ('packages' in supply) {
    // The prescribed amount stays visible beside the packages it takes.
    const prescribed = m.one(SUPPLY_QUANTITY, 'package-count', 'quantity');
    if (typeof prescribed !== 'object') return { packages: supply.packages };
    const amount = countedInPieces(prescribed, formsOf(input));
    return { packages: supply.packages, amount: { en: amountText(amount, 'en'), nb: amountText(amount, 'nb') } };
  }
  return { amount: { en: amountText(supply.amount, 'en'), nb: amountText(supply.amount, 'nb') } };
}

/** What one package holds, as the CDA states it (packageNode): the nested counts and the innermost item. */
function packageFact(parts: Parts): { en: string; nb: string } | undefined {
  const content = packageContent(parts);
  if (!content) return undefined;
  const levels = packageLevels(sizeTextOf(parts.input, content.fromFest), content.q.value);
  const item = levels ? { ...content.q, value: levels.item } : content.q;
  const text = (lang: 'en' | 'nb'): string => [...(levels?.counts ?? []).map(String), quantityText(item, lang)].join(' x ');
  return { en: text('en'), nb: text('nb') };
}

/** "2 package(s) (100 tablets / 100 stk)", "100 tablets / 100 stk": both languages, as the narrative's rows are. */
function perDispensingText(p: NonNullable<PrescriptionFacts['perDispensing']>): string {
  const both = (a: { en: string; nb: string }): string => (a.en === a.nb ? a.en : `${a.en} / ${a.nb}`);
  if (!('packages' in p)) return both(p.amount);
  return `${p.packages} package(s) / pakning(er)${p.amount ? ` (${both(p.amount)})` : ''}`;
}

function narrative(parts: Parts): XmlNode {
  parts.m.one('/ClinicalDocument/component/structuredBody/component/section/text', 'narrative');
  const f = prescriptionFactsOf(parts);
  const formText = f.form ? [f.form.en, f.form.nb].filter(Boolean).join(' / ') : undefined;
  const perDispensing = f.perDispensing ? perDispensingText(f.perDispensing) : undefined;
  // The narrative is what the pharmacist abroad reads: no direction override in the M1's text may reorder it.
  const shown = (v: Child): Child => (typeof v === 'string' ? withoutDirectionControls(v) : Array.isArray(v) ? v.map(shown) : v);
  const row = (label: string, value: Child, id?: string): XmlNode => el('tr', {}, el('th', {}, label), el('td', id ? { ID: id } : {}, shown(value)));
  return el(
    'text',
    {},
    el(
      'table',
      {},
      el(
        'tbody',
        {},
        row('Medicine / Legemiddel', f.medicine, 'item-1'),
        formText ? row('Dose form / Legemiddelform', formText) : undefined,
        f.atc ? row('ATC', f.atc) : undefined,
        f.indication ? row('Indication (Norwegian) / Bruksområde', f.indication, 'indication-1') : undefined,
        f.dosageWritten ? row('Dosage (Norwegian) / Dosering', f.dosageWritten, 'pinstruct-1') : undefined,
        f.dosage
          ? row(
              f.asNeeded ? 'Dosage, as needed / Dosering ved behov' : 'Dosage per time / Dosering per tidspunkt',
              [f.dosage.en, el('br', {}), f.dosage.nb],
              f.dosageWritten ? 'dosage-1' : 'pinstruct-1',
            )
          : undefined,
        // Only the structured dosage's label says "as needed"; without it the reader abroad learns it here, not
        // from the Norwegian text alone.
        f.asNeeded && !f.dosage ? row('Use / Bruk', 'As needed / Ved behov', 'use-1') : undefined,
        f.package ? row('Package / Pakning', f.package.en === f.package.nb ? f.package.en : `${f.package.en} / ${f.package.nb}`) : undefined,
        perDispensing ? row('Per dispensing / Per utlevering', perDispensing) : undefined,
        f.dispensings ? row('Dispensings remaining / Gjenstående utleveringer', `${f.dispensings.remaining} of ${f.dispensings.total}`) : undefined,
        row('Valid until / Gyldig til', f.validUntil),
        row('Substitution / Bytte', f.substitutionAllowed ? 'Allowed / Tillatt' : 'Not allowed (the prescriber reserves against substitution) / Ikke tillatt'),
        f.noteToPharmacist ? row('Note to the pharmacist / Merknad til apoteket', f.noteToPharmacist, 'finstruct-1') : undefined,
      ),
    ),
  );
}

function manufacturedMaterial(parts: Parts): XmlNode {
  const { m, input, oid } = parts;
  const varenr = m.one(`${MATERIAL}/code`, 'identifier');
  const name = m.one(`${MATERIAL}/name`, 'text');
  const desc = m.one(`${MATERIAL}/pharm:desc`, 'text');
  if (!name && desc) m.fallbackUsed(`${MATERIAL}/name`);
  const atc = m.one(`${MATERIAL}/pharm:asSpecializedKind[@classCode='GRIC']/pharm:generalizedMaterialKind/pharm:code`, 'coding');
  const strengths = m.all(`${MATERIAL}/pharm:ingredient[@classCode='ACTI']/pharm:quantity`, 'strength');
  const substances = m.all(`${MATERIAL}/pharm:ingredient[@classCode='ACTI']/pharm:ingredientSubstance/pharm:name`, 'text');
  const substanceAtc = m.one(`${MATERIAL}/pharm:ingredient[@classCode='ACTI']/pharm:ingredientSubstance/pharm:code`, 'coding');
  const ingredientIndexes = [...new Set([...strengths, ...substances].map((v) => v.index ?? 0))].sort((a, b) => a - b);
  const containerCode = m.one(`${MATERIAL}/pharm:asContent/pharm:containerPackagedProduct/pharm:code`, 'identifier');
  const packageTypeTarget = `${MATERIAL}/pharm:asContent/pharm:containerPackagedProduct/pharm:formCode`;
  const packageType = m.one(packageTypeTarget, 'code-map');
  // The row's note: nullFlavor UNK when FEST does not know the package.
  if (!packageType) m.fallbackUsed(packageTypeTarget);
  return el(
    'manufacturedMaterial',
    { classCode: 'MMAT', determinerCode: 'KIND' },
    el('templateId', { root: EHDSI_TEMPLATE.manufacturedMaterial }),
    varenr?.value ? el('code', { code: varenr.value, codeSystem: oidOf(varenr.system, oid), displayName: desc }) : undefined,
    el('name', {}, name ?? desc ?? 'unknown'),
    textEl('pharm:desc', desc),
    ce('pharm:formCode', m.one(`${MATERIAL}/pharm:formCode`, 'code-map')),
    packageNode(parts, containerCode?.value ? el('pharm:code', { code: containerCode.value, codeSystem: oidOf(containerCode.system, oid) }) : undefined, packageType),
    atc
      ? el(
          'pharm:asSpecializedKind',
          { classCode: 'GRIC' },
          el('pharm:generalizedMaterialKind', { classCode: 'MMAT', determinerCode: 'KIND' }, codingCe('pharm:code', { ...atc, system: 'urn:oid:2.16.840.1.113883.6.73' })),
        )
      : undefined,
    ingredientIndexes.map((i) => {
      const s = strengths.find((x) => x.index === i)?.value;
      const substance = substances.find((x) => x.index === i)?.value ?? input.product?.ingredients[i]?.substance;
      return el(
        'pharm:ingredient',
        { classCode: 'ACTI' },
        s
          ? el(
              'pharm:quantity',
              {},
              pq('numerator', s.numerator, { 'xsi:type': 'PQ' }),
              s.denominator ? pq('denominator', s.denominator, { 'xsi:type': 'PQ' }) : el('denominator', { 'xsi:type': 'PQ', value: 1, unit: '1' }),
            )
          : undefined,
        el(
          'pharm:ingredientSubstance',
          { classCode: 'MMAT', determinerCode: 'KIND' },
          // eHDSIActiveIngredient is ATC-coded: one substance is named by the product's 7-character ATC.
          substanceAtc && ingredientIndexes.length === 1 && substanceAtc.code?.length === 7
            ? codingCe('pharm:code', { ...substanceAtc, system: 'urn:oid:2.16.840.1.113883.6.73' })
            : el('pharm:code', { nullFlavor: 'UNK' }),
          textEl('pharm:name', substance),
        ),
      );
    }),
  );
}

/**
 * pharm:asContent as eHDSI nests it (the Lantus sample): the material in its container, that container in
 * the next one, the outermost being the package sold, which carries the package number. A multipack
 * ("2 x 150") is two levels; FEST types only the container that holds the medicine, so the levels around it
 * say nullFlavor UNK rather than guess a box.
 */
function packageNode(parts: Parts, packageCode: XmlNode | undefined, packageType: EuConcept | undefined): XmlNode {
  const content = packageContent(parts);
  const levels = content ? packageLevels(sizeTextOf(parts.input, content.fromFest), content.q.value) : undefined;
  const counts = levels?.counts ?? [];
  const container = (level: number): XmlNode =>
    el(
      'pharm:containerPackagedProduct',
      { classCode: 'CONT', determinerCode: 'KIND' },
      level === counts.length ? packageCode : undefined,
      level === 0 ? ce('pharm:formCode', packageType) : el('pharm:formCode', { nullFlavor: 'UNK' }),
      level < counts.length
        ? el('pharm:asContent', { classCode: 'CONT' }, el('pharm:quantity', { value: counts[level], unit: '1' }), container(level + 1))
        : undefined,
    );
  const quantity = content && levels ? { ...content.q, value: levels.item } : content?.q;
  return el('pharm:asContent', { classCode: 'CONT' }, pq('pharm:quantity', quantity), container(0));
}

/** Content of one package: FEST's amount (pieces in the unit of presentation), else the prescribed size. */
function packageContent({ m, input }: Parts): { q: EuQuantity; fromFest: boolean } | undefined {
  const amount = m.one(`${MATERIAL}/pharm:asContent/pharm:quantity`, 'quantity');
  const presentation = m.one(`${MATERIAL}/pharm:asContent/pharm:quantity/@unit`, 'code-map');
  if (amount) {
    if (amount.ucum === '1' && presentation?.eu?.code) {
      const out: EuQuantity = { ...amount, presentation: presentation.eu };
      delete out.ucum;
      return { q: out, fromFest: true };
    }
    return { q: countedInPieces(amount, formsOf(input)), fromFest: true };
  }
  const prescribed = prescribedPackage(input.m1);
  if (!prescribed) return undefined;
  m.fallbackUsed(`${MATERIAL}/pharm:asContent/pharm:quantity`);
  // Mapping warnings for this unit were already reported by the FHIR side (its table maps the same field).
  const env = { terminology: getTerminology(), warn: () => undefined };
  return { q: countedInPieces(euQuantity(prescribed.size, prescribed.unit, CONCEPT_MAP.packageUnit, env, prescribed.path), formsOf(input)), fromFest: false };
}

function entry(parts: Parts): XmlNode {
  const { m, oid } = parts;
  const { start, end } = treatmentPeriod(parts);
  const dosage = parts.dosage;
  const route = m.one(`${ITEM}/routeCode`, 'code-map');
  const supplyQuantity = prescribedSupply(parts);
  const counts = m.one(`${ITEM}/entryRelationship[@typeCode='COMP']/supply/repeatNumber/@value`, 'dispensings-remaining');
  const substitution = m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/observation/value`, 'substitution');
  const pinstruct = m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/act[code/@code='PINSTRUCT']/text`, 'text');
  const finstruct = m.one(`${ITEM}/entryRelationship[@typeCode='SUBJ']/act[code/@code='FINSTRUCT']/text`, 'text');
  const indication = m.one(`${ITEM}/entryRelationship[@typeCode='RSON']/observation/value`, 'text');
  const independent = m.one(`${ITEM}/entryRelationship[@typeCode='COMP']/supply/independentInd/@value`, 'constant') ?? 'false';
  return el(
    'entry',
    { typeCode: 'COMP' },
    el(
      'substanceAdministration',
      { classCode: 'SBADM', moodCode: 'INT' },
      el('templateId', { root: '2.16.840.1.113883.10.20.1.24' }),
      el('templateId', { root: '1.3.6.1.4.1.19376.1.5.3.1.4.7' }),
      el('templateId', { root: EHDSI_TEMPLATE.prescriptionItem }),
      el('templateId', { root: '1.3.6.1.4.1.19376.1.5.3.1.4.7.1' }),
      m.all(`${ITEM}/id`, 'prescription-id').map((v) => ii(v.value, oid)),
      el('code', { code: 'DRUG', codeSystem: '2.16.840.1.113883.5.4', displayName: 'Drug therapy' }),
      el('text', {}, el('reference', { value: '#item-1' })),
      el('statusCode', { code: m.one(`${ITEM}/statusCode/@code`, 'constant') ?? 'active' }),
      el(
        'effectiveTime',
        { 'xsi:type': 'IVL_TS' },
        start ? el('low', { value: cdaDate(start) }) : el('low', { nullFlavor: 'UNK' }),
        end ? el('high', { value: cdaDate(end) }) : el('high', { nullFlavor: 'UNK' }),
      ),
      dosage.frequency,
      route ? ce('routeCode', route) : undefined,
      dosage.structured && dosage.doseQuantity ? pq('doseQuantity', dosage.doseQuantity) : undefined,
      dosage.maxPerDay
        ? el('maxDoseQuantity', {}, pq('numerator', dosage.maxPerDay), el('denominator', { value: 1, unit: 'd' }))
        : undefined,
      el(
        'consumable',
        { typeCode: 'CSM' },
        el(
          'manufacturedProduct',
          { classCode: 'MANU' },
          el('templateId', { root: EHDSI_TEMPLATE.manufacturedProduct }),
          manufacturedMaterial(parts),
          (() => {
            const maker = m.one(`${ITEM}/consumable/manufacturedProduct/manufacturerOrganization/name`, 'text');
            return maker ? el('manufacturerOrganization', { classCode: 'ORG', determinerCode: 'INSTANCE' }, el('name', {}, maker)) : undefined;
          })(),
        ),
      ),
      el(
        'entryRelationship',
        { typeCode: 'COMP' },
        el(
          'supply',
          { classCode: 'SPLY', moodCode: 'RQO' },
          counts ? el('repeatNumber', { value: counts.remaining }) : undefined,
          el('independentInd', { value: independent }),
          supplyQuantity ?? el('quantity', { nullFlavor: 'UNK' }),
        ),
      ),
      substitution === false
        ? el(
            'entryRelationship',
            { typeCode: 'SUBJ', inversionInd: 'true' },
            el(
              'observation',
              { classCode: 'OBS', moodCode: 'EVN' },
              el('code', { code: 'SUBST', codeSystem: '2.16.840.1.113883.5.6', displayName: 'Substitution' }),
              el('value', { 'xsi:type': 'CE', code: 'N', codeSystem: '2.16.840.1.113883.5.1070', displayName: 'none' }),
            ),
          )
        : undefined,
      indication
        ? el(
            'entryRelationship',
            { typeCode: 'RSON' },
            el(
              'observation',
              { classCode: 'OBS', moodCode: 'EVN' },
              el('code', { code: 'ASSERTION', codeSystem: '2.16.840.1.113883.5.4', displayName: 'Assertion' }),
              el('text', {}, el('reference', { value: '#indication-1' })),
              el('statusCode', { code: 'completed' }),
              // The M1 gives the use as label text only: no code, the text as original text.
              el('value', { 'xsi:type': 'CD', nullFlavor: 'OTH' }, el('originalText', {}, el('reference', { value: '#indication-1' }))),
            ),
          )
        : undefined,
      finstruct ? instruction('FINSTRUCT', 'finstruct-1', ['2.16.840.1.113883.10.20.1.43', '1.3.6.1.4.1.19376.1.5.3.1.4.3.1', '1.3.6.1.4.1.12559.11.10.1.3.1.3.13']) : undefined,
      pinstruct || parts.doseText ? instruction('PINSTRUCT', 'pinstruct-1', ['2.16.840.1.113883.10.20.1.49', '1.3.6.1.4.1.19376.1.5.3.1.4.3', '1.3.6.1.4.1.12559.11.10.1.3.1.3.12']) : undefined,
      dosage.asNeeded
        ? el(
            'precondition',
            { typeCode: 'PRCN' },
            el('criterion', { classCode: 'OBS', moodCode: 'EVN.CRT' }, el('text', {}, el('reference', { value: asNeededCriterion(parts, pinstruct) }))),
          )
        : undefined,
    ),
  );
}

/**
 * The treatment period of the whole course: from the first Starttidspunkt to the last Sluttidspunkt. A
 * tapering course is several Dosering, each with its own dates; the first one's alone said "5 days" for a
 * course of 25 (audit 2, F6). Open (no high) when any Dosering has no end: that step runs on.
 */
function treatmentPeriod({ m, input }: Parts): { start?: string; end?: string } {
  const starts = m.all(`${ITEM}/effectiveTime[@xsi:type='IVL_TS']/low/@value`, 'date').map((v) => v.value);
  const ends = m.all(`${ITEM}/effectiveTime[@xsi:type='IVL_TS']/high/@value`, 'date').map((v) => v.value);
  const dok = input.m1.resept.reseptDok;
  const doserings = dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.dosering.length : 0;
  return periodOf(starts, ends, doserings);
}

/** ISO dates compare as text: the earliest start, and the latest end when every one of `count` periods ends. */
export function periodOf(starts: readonly string[], ends: readonly string[], count: number): { start?: string; end?: string } {
  const out: { start?: string; end?: string } = {};
  if (starts.length) out.start = [...starts].sort()[0]!;
  if (count > 0 && ends.length === count) out.end = [...ends].sort().at(-1)!;
  return out;
}

/**
 * The narrative cell the as-needed criterion points to: the structured dosage in words, else the dosage as
 * written, else the "As needed" row (the ids narrative() gives them).
 */
function asNeededCriterion(parts: Parts, pinstruct: string | undefined): string {
  if (parts.doseText) return pinstruct ? '#dosage-1' : '#pinstruct-1';
  return pinstruct ? '#pinstruct-1' : '#use-1';
}

/**
 * What one dispensing hands out: packages (Antall, or the whole packages an amount takes when the prescribed
 * package is in the same unit), an amount in a unit a reader abroad cannot take for packages (UCUM mL, g; an
 * amount in pieces in its unit of presentation, {Tablet}), or `unstated`: an amount whose only EU unit is
 * UCUM 1. In eHDSI supply/quantity unit="1" is the package count, so "100 stk" sent that way reads as 100
 * packages; such a prescription is refused (unstatedAmountIssue), never sent with a guess.
 */
export type Supply = { packages: number } | { amount: EuQuantity } | { unstated: EuQuantity };

function supplyOf({ m, input }: Parts): Supply | undefined {
  const q = m.one(SUPPLY_QUANTITY, 'package-count', 'quantity');
  if (q === undefined) return undefined;
  if (typeof q === 'number') return { packages: q };
  const pack = prescribedPackage(input.m1);
  if (pack && q.national?.code === pack.unit.code && pack.size > 0) return { packages: Math.ceil(q.value / pack.size) };
  const amount = countedInPieces(q, formsOf(input));
  return hasOwnUnit(amount) ? { amount } : { unstated: amount };
}

/** A unit that cannot be read as a package count: UCUM other than 1, or an EDQM unit of presentation. */
const hasOwnUnit = (q: EuQuantity): boolean => (!!q.ucum && q.ucum !== '1') || !!q.presentation?.code;

const SUPPLY_QUANTITY = `${ITEM}/entryRelationship[@typeCode='COMP']/supply/quantity`;

/** The supply's quantity: packages as unit 1, an amount in its own unit; nothing for an unstated amount. */
function prescribedSupply(parts: Parts): XmlNode | undefined {
  const supply = supplyOf(parts);
  if (!supply) return undefined;
  if ('packages' in supply) return el('quantity', { value: supply.packages, unit: '1' });
  // Without a unit of its own the amount is left out (nullFlavor, which the document check refuses) rather
  // than written as unit="1", which a receiver reads as that many packages.
  return 'amount' in supply ? pq('quantity', supply.amount) : undefined;
}

/**
 * Why the prescription cannot be sent, when its amount (Mengde) has no unit a reader abroad can tell from a
 * package count (see Supply), in English and bokmål; undefined when it can.
 */
export function unstatedAmountIssue(input: EmitCdaInput): OperationOutcomeIssue | undefined {
  const supply = supplyOf(partsOf(input));
  if (!supply || !('unstated' in supply)) return undefined;
  const q = supply.unstated;
  const unit = q.original ?? q.national?.code ?? '';
  const amount = `${q.value}${unit ? ` ${unit}` : ''}`;
  const dok = input.m1.resept.reseptDok;
  return {
    severity: 'error',
    code: 'business-rule',
    diagnostics:
      `The amount to dispense (Mengde ${amount}) has no unit that can be sent abroad: '${unit || 'no unit'}' has no EU unit and the dose form no unit of presentation, so it would be read as ${q.value} packages. ` +
      `Prescribe a number of packages (Antall) instead. / ` +
      `Mengden som skal utleveres (Mengde ${amount}) har ingen enhet som kan sendes til utlandet: '${unit || 'ingen enhet'}' har ingen EU-enhet og legemiddelformen ingen presentasjonsenhet, så den ville bli lest som ${q.value} pakninger. ` +
      `Forskriv antall pakninger (Antall) i stedet.`,
    expression: [`${dok.path}.Mengde`],
  };
}

function instruction(code: string, ref: string, templates: string[]): XmlNode {
  return el(
    'entryRelationship',
    { typeCode: 'SUBJ', inversionInd: 'true' },
    el(
      'act',
      { classCode: 'ACT', moodCode: 'INT' },
      templates.map((root) => el('templateId', { root })),
      el('code', { code, codeSystem: '1.3.6.1.4.1.19376.1.5.3.2', codeSystemName: 'IHEActCode', displayName: code }),
      el('text', {}, el('reference', { value: `#${ref}` })),
      el('statusCode', { code: 'completed' }),
    ),
  );
}

/** The eHDSI ePrescription CDA for one prescription item, as a UTF-8 XML document. */
export function emitEhdsiCda(input: EmitCdaInput): string {
  return xmlDocument(ehdsiCdaTree(input));
}

function partsOf(input: EmitCdaInput): Parts {
  const m = input.mapped;
  const doses = m.all(`${ITEM}/effectiveTime`, 'dosage').map((v) => v.value);
  // The amounts also come with each dose; reading the row records that the table maps them.
  m.all(`${ITEM}/doseQuantity`, 'quantity');
  m.all(`${ITEM}/maxDoseQuantity`, 'dosage');
  // A value without a position is Bruk 3 Ved behov: the whole item is as needed, whatever the doses say.
  const wholeItemAsNeeded = m.all(`${ITEM}/precondition`, 'as-needed').some((v) => v.index === undefined);
  const fromDoses = cdaDosage(doses);
  const dosage = wholeItemAsNeeded ? { ...fromDoses, asNeeded: true } : fromDoses;
  return { input, m, oid: input.helsebroOid, dosage, ...(doses.length ? { doseText: { nb: dosageText(doses, 'nb'), en: dosageText(doses, 'en') } } : {}) };
}

/** What the prescription says, for a rendering beside the CDA (the Level 1 PDF). */
export function prescriptionFacts(input: EmitCdaInput): PrescriptionFacts {
  return prescriptionFactsOf(partsOf(input));
}

/** The document as a tree (serialise with xmlDocument; check with toXmlElement + checkEhdsiCdaElement). */
export function ehdsiCdaTree(input: EmitCdaInput): XmlNode {
  const parts = partsOf(input);
  return documentTree(parts, { templateId: parts.m.one('/ClinicalDocument/templateId/@root', 'constant') ?? EHDSI_TEMPLATE.ePrescription, body: structuredBody(parts) });
}

/**
 * The Level 1 document (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.6): the same header as Level 3, languageCode
 * included (the prescription's language; the PDF is in English and bokmål, as the Level 3 narrative), and the
 * PDF of the same prescription in a nonXMLBody. Its id is the Level 3 document's with ".L1".
 */
export function ehdsiL1CdaTree(input: EmitCdaInput, pdf: Uint8Array): XmlNode {
  const parts = partsOf(input);
  return documentTree(parts, {
    templateId: EHDSI_TEMPLATE.ePrescriptionL1,
    idSuffix: '.L1',
    body: el('nonXMLBody', { classCode: 'DOCBODY', moodCode: 'EVN' }, el('text', { mediaType: 'application/pdf', representation: 'B64' }, Buffer.from(pdf).toString('base64'))),
  });
}

function structuredBody(parts: Parts): XmlNode {
  const m = parts.m;
  return el(
    'structuredBody',
    { classCode: 'DOCBODY', moodCode: 'EVN' },
    el(
      'component',
      { typeCode: 'COMP', contextConductionInd: 'true' },
      el(
        'section',
        { classCode: 'DOCSECT', moodCode: 'EVN' },
        el('templateId', { root: EHDSI_TEMPLATE.prescriptionSection }),
        el('code', {
          code: m.one('/ClinicalDocument/component/structuredBody/component/section/code/@code', 'constant') ?? '57828-6',
          codeSystem: LOINC,
          codeSystemName: 'LOINC',
          displayName: 'Prescriptions',
        }),
        el('title', {}, 'Prescriptions'),
        narrative(parts),
        entry(parts),
      ),
    ),
  );
}

function documentTree(parts: Parts, level: { templateId: string; idSuffix?: string; body: XmlNode }): XmlNode {
  const { m, oid, input } = parts;
  const documentId = m.one('/ClinicalDocument/id', 'uuid');
  const effective = m.one('/ClinicalDocument/effectiveTime/@value', 'datetime') ?? input.now.toISOString();
  const language = String(m.one('/ClinicalDocument/languageCode/@code', 'copy') ?? 'nb-NO');
  return el(
    'ClinicalDocument',
    { xmlns: 'urn:hl7-org:v3', 'xmlns:pharm': 'urn:hl7-org:pharm', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', classCode: 'DOCCLIN', moodCode: 'EVN' },
    el('typeId', { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' }),
    el('templateId', { root: level.templateId }),
    documentId ? el('id', { root: `${oid}.${HELSEBRO_OID_ARC.document}`, extension: `${documentId}${level.idSuffix ?? ''}` }) : el('id', { nullFlavor: 'NI' }),
    el('code', { code: m.one('/ClinicalDocument/code/@code', 'constant') ?? '57833-6', codeSystem: LOINC, codeSystemName: 'LOINC', displayName: 'Prescription for medication' }),
    el('title', {}, 'ePrescription (Norway)'),
    el('effectiveTime', { value: cdaInstant(effective) }),
    el('confidentialityCode', { code: m.one('/ClinicalDocument/confidentialityCode/@code', 'constant') ?? 'N', codeSystem: '2.16.840.1.113883.5.25', displayName: 'normal' }),
    el('languageCode', { code: language }),
    recordTarget(parts),
    author(parts),
    custodian(parts),
    legalAuthenticator(parts),
    el(
      'relatedDocument',
      { typeCode: 'XFRM' },
      el('parentDocument', { classCode: 'DOCCLIN', moodCode: 'EVN' }, ii(m.one("/ClinicalDocument/relatedDocument[@typeCode='XFRM']/parentDocument/id", 'prescription-id'), oid)),
    ),
    el('component', { typeCode: 'COMP', contextConductionInd: 'true' }, level.body),
  );
}
