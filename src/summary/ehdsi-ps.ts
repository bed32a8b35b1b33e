// The eHDSI Patient Summary CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.3, Level 1 ...1.1.7; LOINC 60591-5) as a rendering
// of the IPS document $summary produces: the header from the document's Patient, author and custodian,
// and per Composition section the CDA section its module writes (src/sections/<key>/cda.ts), with the
// same narrative rows as the FHIR narrative. Level 3 is that structured body; Level 1 carries a PDF of the
// same document in a nonXMLBody. Pure: the caller passes the document and the PDF bytes.
import type { Bundle, CompositionSection, Identifier, Patient, Resource } from '@medplum/fhirtypes';
import { HELSEBRO_OID_ARC, OID } from '../fhir/identifiers.ts';
import { sourcesLineOf, withoutDirectionControls } from '../fhir/xhtml.ts';
import { SECTION_CDA } from '../sections/cda-index.ts';
import { cdaTs, templateIds, type NoInfoKind } from '../sections/cda.ts';
import { SECTION_MODULES, cellsOf, type AnySectionModule } from '../sections/index.ts';
import type { Lang } from '../sources/source.ts';
import { el, textEl, xmlDocument, type Child, type XmlNode } from '../xml/write.ts';
import { summaryVocabulary } from './vocabulary.ts';

export const PS_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.3';
/** eHDSI Patient Summary PDF embedded (Level 1). */
export const PS_L1_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.7';
const LOINC = '2.16.840.1.113883.6.1';

export interface PsCdaInput {
  /** The IPS document (Bundle type document, Composition first) as $summary answers it. */
  document: Bundle;
  /** The operator's OID arc (config HELSEBRO_OID). */
  helsebroOid: string;
  /** Level 1: the PDF of the same summary, for the nonXMLBody. */
  pdf?: Uint8Array | undefined;
}

const TITLE: Record<Lang, string> = { nb: 'Pasientsammendrag', en: 'Patient Summary' };
const LANGUAGE: Record<Lang, string> = { nb: 'nb-NO', en: 'en-GB' };

/** Undefined when the Bundle is not an IPS document. */
export function psCda(input: PsCdaInput): string | undefined {
  const entries = input.document.entry ?? [];
  const composition = entries[0]?.resource;
  if (input.document.type !== 'document' || composition?.resourceType !== 'Composition') return undefined;
  const byUrl = new Map<string, Resource>();
  for (const e of entries) if (e.fullUrl && e.resource) byUrl.set(e.fullUrl, e.resource);
  const resolve = (ref: string | undefined): Resource | undefined => (ref ? byUrl.get(ref) : undefined);
  const patient = resolve(composition.subject?.reference);
  if (patient?.resourceType !== 'Patient') return undefined;
  const lang: Lang = composition.language === 'en' ? 'en' : 'nb';
  const docRoot = `${input.helsebroOid}.${HELSEBRO_OID_ARC.document}`;
  const docId = (input.document.id ?? composition.id ?? 'unknown').replace(/[^A-Za-z0-9.-]/g, '');
  const custodian = resolve(composition.custodian?.reference);
  const org = custodian?.resourceType === 'Organization' ? custodian : undefined;
  const when = cdaInstant(composition.date ?? input.document.timestamp ?? new Date().toISOString());

  const body: XmlNode = input.pdf
    ? el('nonXMLBody', {}, el('text', { mediaType: 'application/pdf', representation: 'B64' }, Buffer.from(input.pdf).toString('base64')))
    : el(
        'structuredBody',
        {},
        (composition.section ?? []).map((s) => {
          const module = SECTION_MODULES.find((m) => m.loinc === loincOf(s));
          return module ? el('component', {}, section(module, s, { lang, resolve, docRoot, docId })) : undefined;
        }),
      );

  const root = el(
    'ClinicalDocument',
    { xmlns: 'urn:hl7-org:v3', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xmlns:pharm': 'urn:hl7-org:pharm', classCode: 'DOCCLIN', moodCode: 'EVN' },
    el('typeId', { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' }),
    templateIds(input.pdf ? PS_L1_TEMPLATE : PS_TEMPLATE),
    el('id', { root: docRoot, extension: input.pdf ? `${docId}.L1` : docId }),
    el('code', { code: '60591-5', codeSystem: LOINC, codeSystemName: 'LOINC', displayName: 'Patient Summary' }),
    textEl('title', TITLE[lang]),
    el('effectiveTime', { value: when }),
    el('confidentialityCode', { code: 'N', codeSystem: '2.16.840.1.113883.5.25', displayName: 'normal' }),
    el('languageCode', { code: LANGUAGE[lang] }),
    el('setId', { root: docRoot, extension: docId }),
    el('versionNumber', { value: '1' }),
    recordTarget(patient),
    el(
      'author',
      {},
      el('time', { value: when }),
      el(
        'assignedAuthor',
        {},
        el('id', { root: docRoot, extension: 'helsebro' }),
        el('addr', { nullFlavor: 'NI' }),
        el('telecom', { nullFlavor: 'NI' }),
        el('assignedAuthoringDevice', {}, textEl('manufacturerModelName', 'Helsebro'), textEl('softwareName', 'Helsebro')),
        organization('representedOrganization', org),
      ),
    ),
    el('custodian', {}, el('assignedCustodian', {}, organization('representedCustodianOrganization', org))),
    // An automatically assembled summary has no person who signs it; the operator stands behind it.
    el(
      'legalAuthenticator',
      {},
      el('time', { value: when }),
      el('signatureCode', { code: 'S' }),
      el('assignedEntity', {}, orgId(org), el('addr', { nullFlavor: 'NI' }), el('telecom', { nullFlavor: 'NI' }), organization('representedOrganization', org)),
    ),
    el('documentationOf', {}, el('serviceEvent', { classCode: 'PCPR', moodCode: 'EVN' }, el('effectiveTime', {}, el('high', { value: when })))),
    input.pdf ? el('relatedDocument', { typeCode: 'XFRM' }, el('parentDocument', {}, el('id', { root: docRoot, extension: docId }))) : undefined,
    el('component', {}, body),
  );
  return xmlDocument(root);
}

const loincOf = (s: CompositionSection): string | undefined => s.code?.coding?.find((c) => c.system === 'http://loinc.org')?.code;

interface SectionContext {
  lang: Lang;
  resolve: (ref: string | undefined) => Resource | undefined;
  docRoot: string;
  docId: string;
}

function section(module: AnySectionModule, s: CompositionSection, ctx: SectionContext): XmlNode {
  const cda = SECTION_CDA[module.key];
  const entries = (s.entry ?? []).map((r) => ctx.resolve(r.reference)).filter((r): r is Resource => r !== undefined);
  const rowCtx = { lang: ctx.lang, vocabulary: summaryVocabulary, resolve: ctx.resolve };
  const rowId = (i: number): string => `${module.key}-${i + 1}`;
  const noneId = `${module.key}-none`;
  const sources = s.text?.div ? sourcesLineOf(s.text.div) : undefined;
  const text = entries.length
    ? el(
        'text',
        {},
        el(
          'table',
          {},
          el('thead', {}, el('tr', {}, module.narrative.map((f) => el('th', {}, module.fields[f]![ctx.lang])))),
          el(
            'tbody',
            {},
            entries.map((e, i) => el('tr', { ID: rowId(i) }, cellsOf(module.row(e, rowCtx), module.narrative).map((c) => el('td', {}, withoutDirectionControls(c ?? ''))))),
          ),
        ),
        sources ? el('paragraph', {}, sources) : undefined,
      )
    : el('text', {}, el('paragraph', { ID: noneId }, s.emptyReason?.text ?? s.title ?? ''), sources ? el('paragraph', {}, sources) : undefined);
  const kind: NoInfoKind = s.emptyReason?.coding?.some((c) => c.code === 'withheld') ? 'withheld' : 'unavailable';
  const id = (suffix: string) => ({ root: ctx.docRoot, extension: `${ctx.docId}.${module.key}${suffix}` });
  const body: Child[] = cda
    ? entries.length
      ? entries.map((e, i) => cda.entry(e, { ...rowCtx, id: id(`.${i + 1}`), textId: rowId(i) }))
      : [cda.noInfo(kind, { id: id('.none'), textId: noneId })]
    : [];
  return el(
    'section',
    { classCode: 'DOCSECT', moodCode: 'EVN' },
    templateIds(...(cda?.templateIds ?? [])),
    el('id', id('')),
    el('code', { code: module.loinc, codeSystem: LOINC, codeSystemName: 'LOINC', displayName: module.loincDisplay }),
    textEl('title', s.title ?? module.title[ctx.lang]),
    text,
    body,
  );
}

const PERSON_OIDS: Record<string, string> = { [OID.fnr]: OID.fnr.slice(8), [OID.dnr]: OID.dnr.slice(8) };

function recordTarget(p: Patient): XmlNode {
  const ids = (p.identifier ?? []).filter((i): i is Identifier & { system: string; value: string } => !!i.system && !!i.value && i.system in PERSON_OIDS);
  const name = p.name?.[0];
  const address = p.address?.[0];
  const gender = p.gender === 'male' ? 'M' : p.gender === 'female' ? 'F' : 'UN';
  const born = cdaTs(p.birthDate);
  return el(
    'recordTarget',
    {},
    el(
      'patientRole',
      { classCode: 'PAT' },
      ids.length ? ids.map((i) => el('id', { root: PERSON_OIDS[i.system]!, extension: i.value })) : el('id', { nullFlavor: 'NI' }),
      address
        ? el(
            'addr',
            {},
            (address.line ?? []).map((l) => textEl('streetAddressLine', l)),
            textEl('postalCode', address.postalCode),
            textEl('city', address.city),
            textEl('country', address.country ?? 'NO'),
          )
        : el('addr', { nullFlavor: 'NI' }),
      el('telecom', { nullFlavor: 'NI' }),
      el(
        'patient',
        { classCode: 'PSN', determinerCode: 'INSTANCE' },
        el(
          'name',
          {},
          (name?.given ?? []).map((g) => textEl('given', g)),
          textEl('family', name?.family ?? name?.text ?? ''),
        ),
        el('administrativeGenderCode', { code: gender, codeSystem: '2.16.840.1.113883.5.1', displayName: gender === 'M' ? 'Male' : gender === 'F' ? 'Female' : 'Undifferentiated' }),
        born ? el('birthTime', { value: born }) : el('birthTime', { nullFlavor: 'UNK' }),
      ),
    ),
  );
}

function orgId(org: Resource | undefined): XmlNode {
  const nr = org?.resourceType === 'Organization' ? org.identifier?.find((i) => i.system === OID.orgnr)?.value : undefined;
  return nr ? el('id', { root: OID.orgnr.slice(8), extension: nr }) : el('id', { nullFlavor: 'NI' });
}

function organization(name: string, org: Resource | undefined): XmlNode {
  const o = org?.resourceType === 'Organization' ? org : undefined;
  return el(name, {}, orgId(o), textEl('name', o?.name ?? 'Helsebro'), el('telecom', { nullFlavor: 'NI' }), el('addr', {}, textEl('country', 'NO')));
}

/** An ISO instant as a CDA TS with time zone (TS.EPSOS.TZ), in UTC. */
export function cdaInstant(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

