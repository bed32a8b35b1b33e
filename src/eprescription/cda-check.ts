// An eHDSI-shaped structural check of ePrescription (57833-6) and eDispensation (60593-1) CDA documents,
// written from the eHDSI templates as published in the ART-DECOR schematron export (2024-04) and the
// official samples (the eHDSI CDA samples copied into test/fixtures/): templateIds, the mandatory header
// elements and their cardinalities, the one entry per section, the medicinal product tree, the coded
// elements' code systems, time zones on the document time, and narrative references that resolve. It is
// not the schematron: value-set membership and the full template rules stay with the NCP's validator.
// Pure; parses with the hardened XML reader (no DTD, no entities).
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { XmlElement } from '../xml/element.ts';
import { parseXml } from '../xml/parse.ts';

export const V3 = 'urn:hl7-org:v3';
export const PHARM = 'urn:hl7-org:pharm';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

export const CDA_KIND = {
  ePrescription: { template: '1.3.6.1.4.1.12559.11.10.1.3.1.1.1', code: '57833-6', section: '1.3.6.1.4.1.12559.11.10.1.3.1.2.1', sectionCode: '57828-6' },
  eDispensation: { template: '1.3.6.1.4.1.12559.11.10.1.3.1.1.2', code: '60593-1', section: '1.3.6.1.4.1.12559.11.10.1.3.1.2.2', sectionCode: '60590-7' },
} as const;
export type CdaKind = keyof typeof CDA_KIND;

const OID = {
  loinc: '2.16.840.1.113883.6.1',
  edqm: '0.4.0.127.0.16.1.1.2.1',
  atc: '2.16.840.1.113883.6.73',
  isco: '2.16.840.1.113883.2.9.6.2.7',
  gender: '2.16.840.1.113883.5.1',
  confidentiality: '2.16.840.1.113883.5.25',
  substitution: '2.16.840.1.113883.5.1070',
  actClass: '2.16.840.1.113883.5.6',
  iheActCode: '1.3.6.1.4.1.19376.1.5.3.2',
} as const;

const TEMPLATE = {
  prescriptionItem: ['1.3.6.1.4.1.12559.11.10.1.3.1.3.2', '2.16.840.1.113883.10.20.1.24'],
  dispenseItem: ['1.3.6.1.4.1.12559.11.10.1.3.1.3.3', '1.3.6.1.4.1.19376.1.5.3.1.4.7.3', '2.16.840.1.113883.10.20.1.34'],
  manufacturedProduct: '1.3.6.1.4.1.12559.11.10.1.3.1.3.29',
  manufacturedMaterial: '1.3.6.1.4.1.12559.11.10.1.3.1.3.30',
  // eHDSI, CCD and IHE templateIds of the instruction acts; the official samples carry only the CCD and IHE ones.
  patientInstructions: ['1.3.6.1.4.1.12559.11.10.1.3.1.3.12', '2.16.840.1.113883.10.20.1.49', '1.3.6.1.4.1.19376.1.5.3.1.4.3'],
  pharmacistInstructions: ['1.3.6.1.4.1.12559.11.10.1.3.1.3.13', '2.16.840.1.113883.10.20.1.43', '1.3.6.1.4.1.19376.1.5.3.1.4.3.1'],
} as const;

export interface CdaCheckResult {
  ok: boolean;
  kind?: CdaKind;
  issues: OperationOutcomeIssue[];
}

class Checker {
  readonly issues: OperationOutcomeIssue[] = [];

  fail(where: string, message: string, code: OperationOutcomeIssue['code'] = 'structure'): void {
    this.issues.push({ severity: 'error', code, diagnostics: message, expression: [where] });
  }

  /** Exactly-n / at-least / at-most children in the v3 (or pharm) namespace. */
  count(parent: XmlElement, name: string, min: number, max = Infinity, ns = V3): XmlElement[] {
    const found = parent.all(ns, name);
    // Locations are built only for a failure: every element of every emitted document passes through here.
    if (found.length >= min && found.length <= max) return found;
    const label = `${pathOf(parent)}/${ns === PHARM ? 'pharm:' : ''}${name}`;
    if (found.length < min) this.fail(label, `${label} is mandatory${min > 1 ? ` (at least ${min})` : ''}`, 'required');
    if (found.length > max) this.fail(label, `${label} may occur at most ${max} time${max === 1 ? '' : 's'}, found ${found.length}`);
    return found;
  }

  one(parent: XmlElement, name: string, ns = V3): XmlElement | undefined {
    return this.count(parent, name, 1, 1, ns)[0];
  }

  optional(parent: XmlElement, name: string, ns = V3): XmlElement | undefined {
    return this.count(parent, name, 0, 1, ns)[0];
  }

  attr(el: XmlElement, name: string, expected?: string | readonly string[]): string | undefined {
    const value = el.attr(name);
    const where = (): string => `${pathOf(el)}/@${name}`;
    if (value === undefined || value.trim() === '') {
      this.fail(where(), `${where()} is mandatory`, 'required');
      return undefined;
    }
    if (expected !== undefined) {
      const allowed = typeof expected === 'string' ? [expected] : expected;
      if (!allowed.includes(value)) this.fail(where(), `${where()} is '${value}'; expected ${allowed.join(' or ')}`, 'value');
    }
    return value;
  }

  /** An element that must carry a value (M: no nullFlavor). */
  mandatoryValue(el: XmlElement | undefined, attr = 'value'): void {
    if (!el) return;
    if (el.attr('nullFlavor')) this.fail(pathOf(el), `${pathOf(el)} is mandatory and may not be a nullFlavor`, 'value');
    else this.attr(el, attr);
  }

  /** An element that must be present; a nullFlavor is allowed (R), otherwise the attribute must be there. */
  requiredValue(el: XmlElement | undefined, attr: string): void {
    if (!el || el.attr('nullFlavor')) return;
    this.attr(el, attr);
  }

  templates(el: XmlElement, required: readonly string[]): void {
    const have = new Set(el.all(V3, 'templateId').map((t) => t.attr('root')));
    for (const root of required) if (!have.has(root)) this.fail(`${pathOf(el)}/templateId`, `${pathOf(el)} lacks templateId ${root}`, 'required');
  }

  /** A coded element in a given code system unless it is a nullFlavor (R elements). */
  coded(el: XmlElement | undefined, system: string | readonly string[], mandatory = false): void {
    if (!el) return;
    if (el.attr('nullFlavor')) {
      if (mandatory) this.fail(pathOf(el), `${pathOf(el)} is mandatory and may not be a nullFlavor`, 'value');
      return;
    }
    this.attr(el, 'code');
    this.attr(el, 'codeSystem', system);
  }

  /** eHDSI name: at least a family or a given name unless nullFlavored. */
  name(parent: XmlElement, mandatory: boolean): void {
    const names = this.count(parent, 'name', 1);
    for (const n of names) {
      if (n.attr('nullFlavor')) {
        if (mandatory) this.fail(pathOf(n), `${pathOf(n)} is mandatory and may not be a nullFlavor`, 'value');
        continue;
      }
      if (!n.child(V3, 'family')?.text && !n.child(V3, 'given')?.text) this.fail(pathOf(n), `${pathOf(n)} needs a family or a given name`, 'required');
    }
  }

  addr(parent: XmlElement, needsCountry: boolean): void {
    const a = this.one(parent, 'addr');
    if (a && !a.attr('nullFlavor') && needsCountry && !a.child(V3, 'country')?.text) this.fail(pathOf(a), `${pathOf(a)}/country is required`, 'required');
  }

  telecom(parent: XmlElement): void {
    for (const t of this.count(parent, 'telecom', 1)) if (!t.attr('nullFlavor')) this.attr(t, 'value');
  }

  organization(org: XmlElement | undefined): void {
    if (!org) return;
    this.count(org, 'id', 1);
    this.one(org, 'name');
    this.telecom(org);
    this.addr(org, true);
  }
}

/** A readable XPath-like location built from the element path the XML reader keeps. */
function pathOf(el: XmlElement): string {
  return `/${el.path.replaceAll('.', '/')}`;
}

const hasTimeZone = (ts: string): boolean => /^\d{8,14}(\.\d+)?[+-]\d{4}$/.test(ts);

function checkHeader(c: Checker, doc: XmlElement, kind: CdaKind): void {
  if (doc.attr('schemaLocation', XSI) !== undefined) c.fail('/ClinicalDocument/@xsi:schemaLocation', 'xsi:schemaLocation is not allowed');
  const typeId = c.one(doc, 'typeId');
  if (typeId) {
    c.attr(typeId, 'root', '2.16.840.1.113883.1.3');
    c.attr(typeId, 'extension', 'POCD_HD000040');
  }
  c.templates(doc, [CDA_KIND[kind].template]);
  const id = c.one(doc, 'id');
  c.mandatoryValue(id, 'root');
  const code = c.one(doc, 'code');
  if (code) {
    c.attr(code, 'code', CDA_KIND[kind].code);
    c.attr(code, 'codeSystem', OID.loinc);
    c.attr(code, 'displayName');
  }
  const title = c.one(doc, 'title');
  if (title && !title.text) c.fail(pathOf(title), 'The title is empty', 'required');
  const time = c.one(doc, 'effectiveTime');
  if (time) {
    const v = c.attr(time, 'value');
    if (v && !hasTimeZone(v)) c.fail(pathOf(time), `effectiveTime '${v}' needs a time zone (TS.EPSOS.TZ)`, 'value');
  }
  const conf = c.one(doc, 'confidentialityCode');
  if (conf && !conf.attr('nullFlavor')) {
    c.attr(conf, 'code', ['N', 'R', 'V']);
    c.attr(conf, 'codeSystem', OID.confidentiality);
  }
  const lang = c.one(doc, 'languageCode');
  if (lang) {
    const v = c.attr(lang, 'code');
    if (v && !/^[a-z]{2,3}-[A-Z]{2}$/.test(v)) c.fail(pathOf(lang), `languageCode '${v}' is not of the form ll-CC`, 'value');
  }

  const rt = c.one(doc, 'recordTarget');
  const role = rt && c.one(rt, 'patientRole');
  if (role) {
    c.count(role, 'id', 1);
    c.addr(role, false);
    c.telecom(role);
    const patient = c.one(role, 'patient');
    if (patient) {
      c.name(patient, true);
      const g = c.one(patient, 'administrativeGenderCode');
      c.coded(g, OID.gender);
      c.mandatoryValue(c.one(patient, 'birthTime'));
    }
  }

  const authors = c.count(doc, 'author', 1);
  for (const a of authors) {
    if (kind === 'ePrescription') c.coded(c.one(a, 'functionCode'), OID.isco, true);
    else c.coded(c.optional(a, 'functionCode'), OID.isco);
    c.requiredValue(c.one(a, 'time'), 'value');
    const aa = c.one(a, 'assignedAuthor');
    if (aa) {
      c.count(aa, 'id', 1);
      c.addr(aa, false);
      c.telecom(aa);
      if (kind === 'ePrescription') {
        const person = c.one(aa, 'assignedPerson');
        if (person) c.name(person, false);
        c.organization(c.one(aa, 'representedOrganization'));
      }
    }
  }

  const custodian = c.one(doc, 'custodian');
  const ac = custodian && c.one(custodian, 'assignedCustodian');
  c.organization(ac && c.one(ac, 'representedCustodianOrganization'));

  const la = c.one(doc, 'legalAuthenticator');
  if (la) {
    c.requiredValue(c.one(la, 'time'), 'value');
    const sig = c.one(la, 'signatureCode');
    if (sig) c.attr(sig, 'code', 'S');
    const ae = c.one(la, 'assignedEntity');
    if (ae) {
      c.addr(ae, false);
      c.telecom(ae);
      c.one(ae, 'assignedPerson');
      c.organization(c.optional(ae, 'representedOrganization'));
    }
  }

  if (kind === 'ePrescription') {
    const xfrm = doc.all(V3, 'relatedDocument').filter((r) => r.attr('typeCode') === 'XFRM');
    if (xfrm.length !== 1) c.fail('/ClinicalDocument/relatedDocument', "relatedDocument[@typeCode='XFRM'] is mandatory, exactly once", 'required');
    const parent = xfrm[0] && c.one(xfrm[0], 'parentDocument');
    c.mandatoryValue(parent && c.one(parent, 'id'), 'root');
  } else {
    const fulfil = c.one(doc, 'inFulfillmentOf');
    const order = fulfil && c.one(fulfil, 'order');
    c.mandatoryValue(order && c.one(order, 'id'), 'root');
  }
}

function checkMaterial(c: Checker, product: XmlElement | undefined): void {
  const mp = product && c.one(product, 'manufacturedProduct');
  if (!mp) return;
  c.templates(mp, [TEMPLATE.manufacturedProduct]);
  const mm = c.one(mp, 'manufacturedMaterial');
  if (!mm) return;
  c.templates(mm, [TEMPLATE.manufacturedMaterial]);
  const name = c.one(mm, 'name');
  if (name && !name.attr('nullFlavor') && !name.text) c.fail(pathOf(name), 'The product name is empty', 'required');
  c.coded(c.one(mm, 'formCode', PHARM), OID.edqm);
  const content = c.one(mm, 'asContent', PHARM);
  if (content) {
    const q = c.one(content, 'quantity', PHARM);
    if (q && !q.attr('nullFlavor')) c.attr(q, 'value');
    const container = c.one(content, 'containerPackagedProduct', PHARM);
    if (container) c.coded(c.one(container, 'formCode', PHARM), OID.edqm);
  }
  for (const kind of mm.all(PHARM, 'asSpecializedKind')) {
    const gmk = c.one(kind, 'generalizedMaterialKind', PHARM);
    const code = gmk && c.one(gmk, 'code', PHARM);
    if (kind.attr('classCode') === 'GRIC') c.coded(code, OID.atc);
  }
  for (const ing of mm.all(PHARM, 'ingredient')) {
    c.attr(ing, 'classCode', 'ACTI');
    const q = c.optional(ing, 'quantity', PHARM);
    if (q) {
      for (const part of ['numerator', 'denominator']) {
        const p = c.one(q, part);
        if (p && !p.attr('nullFlavor')) {
          c.attr(p, 'value');
          c.attr(p, 'unit');
        }
      }
    }
    c.one(ing, 'ingredientSubstance', PHARM);
  }
}

function checkPrescriptionItem(c: Checker, sa: XmlElement): void {
  c.attr(sa, 'classCode', 'SBADM');
  c.attr(sa, 'moodCode', 'INT');
  c.templates(sa, TEMPLATE.prescriptionItem);
  c.mandatoryValue(c.one(sa, 'id'), 'root');
  const status = c.one(sa, 'statusCode');
  if (status) c.attr(status, 'code', ['active', 'completed']);
  const times = c.count(sa, 'effectiveTime', 1, 2);
  if (times[0] && !times[0].attr('nullFlavor') && times[0].attr('type', XSI) !== 'IVL_TS') {
    c.fail(pathOf(times[0]), 'The first effectiveTime is the treatment period (xsi:type IVL_TS)', 'value');
  }
  c.coded(c.optional(sa, 'routeCode'), OID.edqm);
  checkMaterial(c, c.one(sa, 'consumable'));
  const relationships = sa.all(V3, 'entryRelationship');
  const supplies = relationships.filter((r) => r.attr('typeCode') === 'COMP' && r.child(V3, 'supply'));
  if (supplies.length !== 1) c.fail(`${pathOf(sa)}/entryRelationship`, "entryRelationship[@typeCode='COMP']/supply (the prescribed quantity) is required exactly once", 'required');
  const supply = supplies[0]?.child(V3, 'supply');
  if (supply) {
    c.attr(supply, 'moodCode', 'RQO');
    const ind = c.one(supply, 'independentInd');
    if (ind) c.attr(ind, 'value', 'false');
    c.mandatoryValue(c.one(supply, 'quantity'));
  }
  for (const r of relationships.filter((x) => x.attr('typeCode') === 'SUBJ')) {
    const obs = r.child(V3, 'observation');
    if (obs) {
      const code = c.one(obs, 'code');
      if (code) {
        c.attr(code, 'code', 'SUBST');
        c.attr(code, 'codeSystem', OID.actClass);
      }
      const value = c.one(obs, 'value');
      if (value) {
        c.attr(value, 'code', ['G', 'N', 'TE']);
        c.attr(value, 'codeSystem', OID.substitution);
      }
    }
    const act = r.child(V3, 'act');
    if (act) {
      const code = act.child(V3, 'code')?.attr('code');
      if (code !== 'PINSTRUCT' && code !== 'FINSTRUCT') c.fail(pathOf(act), 'An instruction act is PINSTRUCT or FINSTRUCT', 'value');
      const accepted: readonly string[] = code === 'FINSTRUCT' ? TEMPLATE.pharmacistInstructions : TEMPLATE.patientInstructions;
      if (!act.all(V3, 'templateId').some((t) => accepted.includes(t.attr('root') ?? ''))) {
        c.fail(`${pathOf(act)}/templateId`, `${pathOf(act)} carries none of the ${code} templateIds (${accepted.join(', ')})`, 'required');
      }
      c.one(act, 'text');
    }
  }
}

function checkDispenseItem(c: Checker, supply: XmlElement): void {
  c.attr(supply, 'classCode', 'SPLY');
  c.attr(supply, 'moodCode', 'EVN');
  c.templates(supply, TEMPLATE.dispenseItem);
  c.mandatoryValue(c.one(supply, 'id'), 'root');
  c.mandatoryValue(c.one(supply, 'quantity'));
  checkMaterial(c, c.one(supply, 'product'));
  const performer = c.one(supply, 'performer');
  const entity = performer && c.one(performer, 'assignedEntity');
  if (entity) {
    c.count(entity, 'id', 1);
    c.addr(entity, false);
    c.telecom(entity);
    c.organization(c.one(entity, 'representedOrganization'));
  }
  const refr = supply.all(V3, 'entryRelationship').filter((r) => r.attr('typeCode') === 'REFR');
  if (refr.length !== 1) c.fail(`${pathOf(supply)}/entryRelationship`, "entryRelationship[@typeCode='REFR'] (the prescription) is required exactly once", 'required');
  const sa = refr[0] && c.one(refr[0], 'substanceAdministration');
  c.mandatoryValue(sa && c.one(sa, 'id'), 'root');
}

/** IDs in the section narrative and every `#ref` that points into it. */
function checkNarrative(c: Checker, section: XmlElement): void {
  const text = c.one(section, 'text');
  if (!text) return;
  const ids = new Set<string>();
  const walk = (el: XmlElement): void => {
    const id = el.attr('ID');
    if (id) ids.add(id);
    if (['script', 'iframe', 'object', 'embed', 'form'].includes(el.name.toLowerCase())) c.fail(pathOf(el), `active content <${el.name}> in the narrative`, 'security');
    for (const a of el.attributes) if (/^on/i.test(a.name)) c.fail(pathOf(el), `event handler attribute ${a.name} in the narrative`, 'security');
    el.children.forEach(walk);
  };
  walk(text);
  const refs: XmlElement[] = [];
  const collect = (el: XmlElement): void => {
    if (el === text) return;
    if (el.is(V3, 'reference') && el.attr('value')?.startsWith('#')) refs.push(el);
    el.children.forEach(collect);
  };
  section.children.filter((x) => x !== text).forEach(collect);
  for (const r of refs) {
    const target = r.attr('value')!.slice(1);
    if (!ids.has(target)) c.fail(pathOf(r), `reference #${target} does not point to an ID in the section narrative`, 'invariant');
  }
}

/** Checks a CDA document (bytes or text). `kind` is taken from the document's templateId unless given. */
export function checkEhdsiCda(xml: Uint8Array | string, expected?: CdaKind): CdaCheckResult {
  const parsed = parseXml(xml);
  if (!parsed.ok) return { ok: false, issues: parsed.problem.issues };
  return checkEhdsiCdaElement(parsed.value.root, expected);
}

/** The same check over an element tree already at hand (a document Helsebro has just written). */
export function checkEhdsiCdaElement(doc: XmlElement, expected?: CdaKind): CdaCheckResult {
  const c = new Checker();
  if (!doc.is(V3, 'ClinicalDocument')) {
    c.fail(pathOf(doc), `The root is ${doc.name} in ${doc.ns || 'no namespace'}; expected ClinicalDocument in ${V3}`);
    return { ok: false, issues: c.issues };
  }
  const roots = new Set(doc.all(V3, 'templateId').map((t) => t.attr('root')));
  const kind: CdaKind | undefined = expected ?? (Object.keys(CDA_KIND) as CdaKind[]).find((k) => roots.has(CDA_KIND[k].template));
  if (!kind) {
    c.fail('/ClinicalDocument/templateId', 'No eHDSI ePrescription or eDispensation templateId', 'required');
    return { ok: false, issues: c.issues };
  }
  checkHeader(c, doc, kind);
  const component = c.one(doc, 'component');
  const body = component && c.one(component, 'structuredBody');
  const sections = body ? c.count(body, 'component', 1).flatMap((x) => x.all(V3, 'section')) : [];
  const wanted = sections.filter((s) => s.all(V3, 'templateId').some((t) => t.attr('root') === CDA_KIND[kind].section));
  if (wanted.length !== 1) c.fail('/ClinicalDocument/component/structuredBody/component/section', `exactly one section with templateId ${CDA_KIND[kind].section} is required`, 'required');
  const section = wanted[0];
  if (section) {
    const code = c.one(section, 'code');
    if (code) {
      c.attr(code, 'code', CDA_KIND[kind].sectionCode);
      c.attr(code, 'codeSystem', OID.loinc);
    }
    c.one(section, 'title');
    checkNarrative(c, section);
    const entries = c.count(section, 'entry', 1, 1);
    const item = entries[0];
    if (item) {
      if (kind === 'ePrescription') {
        const sa = c.one(item, 'substanceAdministration');
        if (sa) checkPrescriptionItem(c, sa);
      } else {
        const supply = c.one(item, 'supply');
        if (supply) checkDispenseItem(c, supply);
      }
    }
  }
  return { ok: c.issues.length === 0, kind, issues: c.issues };
}
