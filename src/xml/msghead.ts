// KITH hodemelding, MsgHead v1.2 (http://www.kith.no/xmlstds/msghead/2006-05-24): the envelope of
// every eResept message. This reader is message-neutral: M1 import and M10 import both start
// here, then read their own payload out of Document/RefDoc/Content.
import { fail, type Result } from '../fhir/outcomes.ts';
import type { XmlElement } from './element.ts';
import { messageError } from './errors.ts';
import { address, ident, optionalCoded, requiredCoded, telecoms, type Address, type Coded, type Ident, type TeleCom, KITH_NS } from './kith.ts';
import { parseXml, type XmlDocument, type XmlParseOptions } from './parse.ts';
import { clip, defined, invalidValue, missing, optional, optionalText, readResult, repeated, required, requiredText, timestamp, xsDate, xsDateTime } from './read.ts';

export const MSGHEAD_NS = 'http://www.kith.no/xmlstds/msghead/2006-05-24';
/** MsgHead-v1_2.xsd fixes MIGversion to this value. */
export const MSGHEAD_MIG_VERSION = 'v1.2 2006-05-24';
const MSGHEAD_NS_PREFIX = 'http://www.kith.no/xmlstds/msghead/';

export interface MsgHeadPerson {
  familyName?: string;
  middleName?: string;
  givenName?: string;
  dateOfBirth?: string;
  /** Kodeverk 3101: 1 Mann, 2 Kvinne, 0 Ikke kjent, 9 Ikke spesifisert. */
  sex?: Coded;
  nationality?: Coded;
  idents: Ident[];
  address?: Address;
  telecom: TeleCom[];
  /** Element path, for messages that point back into the document. */
  path: string;
}

export interface HealthcareProfessional extends MsgHeadPerson {
  /** Kodeverk 9060, e.g. LE Lege. */
  typeHealthcareProfessional?: Coded;
  roleToPatient?: Coded;
}

export interface Organisation {
  name: string;
  typeOrganisation?: Coded;
  idents: Ident[];
  address?: Address;
  telecom: TeleCom[];
  /** A sub-unit (department) of this organisation. */
  organisation?: Organisation;
  healthcareProfessional?: HealthcareProfessional;
  path: string;
}

export interface RefDoc {
  issueDate?: string;
  msgType: Coded;
  id?: string;
  mimeType?: string;
  description?: string;
  compression?: Coded;
  fileReference?: string;
  /** The Content element; its children are the business document. */
  content?: XmlElement;
}

export interface MsgHeadDocument {
  documentConnection?: Coded;
  contentType?: Coded;
  contentDescription?: string;
  refDoc: RefDoc;
  path: string;
}

export interface MsgHead {
  /** Kodeverk 8279, e.g. ERM1, ERM10. */
  type: Coded;
  migVersion: string;
  genDate: string;
  msgId: string;
  processingStatus?: Coded;
  requestedPriority?: Coded;
  ack?: Coded;
  conversationRef?: { refToParent: string; refToConversation: string };
  sender: Organisation;
  receiver: Organisation;
  patient?: MsgHeadPerson;
  documents: MsgHeadDocument[];
  /** A ds:Signature is present. Helsebro does not verify it here; see the report on signatures. */
  signed: boolean;
}

/** Reads the envelope from a parsed root element, throwing a ProblemError (for composing readers). */
export function readMsgHeadElement(root: XmlElement): MsgHead {
  if (root.name !== 'MsgHead') {
    throw messageError(400, 'structure', 'wrong-root', `The root element is ${clip(root.name)}; a KITH MsgHead was expected`, root.path);
  }
  if (root.ns !== MSGHEAD_NS) {
    const known = root.ns.startsWith(MSGHEAD_NS_PREFIX);
    throw messageError(
      400,
      known ? 'not-supported' : 'structure',
      known ? 'unsupported-version' : 'wrong-root',
      known
        ? `MsgHead version ${clip(root.ns.slice(MSGHEAD_NS_PREFIX.length))} is not supported; only ${MSGHEAD_NS} (v1.2) is`
        : `MsgHead is in namespace "${clip(root.ns, 80)}"; expected ${MSGHEAD_NS}`,
      root.path,
    );
  }
  const ns = MSGHEAD_NS;
  const info = required(root, ns, 'MsgInfo');
  const migEl = required(info, ns, 'MIGversion');
  if (migEl.text !== MSGHEAD_MIG_VERSION) {
    throw messageError(400, 'not-supported', 'unsupported-version', `MIGversion "${clip(migEl.text)}" is not supported; expected "${MSGHEAD_MIG_VERSION}"`, migEl.path);
  }
  const conv = optional(info, ns, 'ConversationRef');
  const patient = optional(info, ns, 'Patient');
  return defined({
    type: requiredCoded(info, ns, 'Type'),
    migVersion: migEl.text,
    genDate: xsDateTime(required(info, ns, 'GenDate')),
    msgId: requiredText(info, ns, 'MsgId'),
    processingStatus: optionalCoded(info, ns, 'ProcessingStatus'),
    requestedPriority: optionalCoded(info, ns, 'RequestedPriority'),
    ack: optionalCoded(info, ns, 'Ack'),
    conversationRef: conv
      ? { refToParent: requiredText(conv, ns, 'RefToParent'), refToConversation: requiredText(conv, ns, 'RefToConversation') }
      : undefined,
    sender: organisation(required(required(info, ns, 'Sender'), ns, 'Organisation')),
    receiver: organisation(required(required(info, ns, 'Receiver'), ns, 'Organisation')),
    patient: patient ? person(patient) : undefined,
    documents: repeated(root, ns, 'Document', 1).map(document),
    signed: root.child(KITH_NS.xmldsig, 'Signature') !== undefined,
  });
}

export const readMsgHead = (root: XmlElement): Result<MsgHead> => readResult(() => readMsgHeadElement(root));

export interface ParsedMsgHead {
  doc: XmlDocument;
  head: MsgHead;
}

/**
 * Parses bytes (hardened), reads the envelope and, when `expectType` is given, refuses any other
 * message type (MsgInfo/Type/@V, kodeverk 8279) with a clear Problem.
 */
export function parseMsgHead(input: Uint8Array | string, opts: XmlParseOptions & { expectType?: string } = {}): Result<ParsedMsgHead> {
  const parsed = parseXml(input, opts);
  if (!parsed.ok) return parsed;
  const head = readMsgHead(parsed.value.root);
  if (!head.ok) return head;
  if (opts.expectType !== undefined && head.value.type.code !== opts.expectType) {
    const typeEl = parsed.value.root.child(MSGHEAD_NS, 'MsgInfo')?.child(MSGHEAD_NS, 'Type');
    return fail(
      messageError(
        400,
        'not-supported',
        'unsupported-message-type',
        `Message type ${clip(head.value.type.code)} is not accepted here; expected ${opts.expectType}`,
        typeEl?.path ?? 'MsgHead.MsgInfo.Type',
      ).problem,
    );
  }
  return { ok: true, value: { doc: parsed.value, head: head.value }, warnings: [...parsed.warnings, ...head.warnings] };
}

export type DocumentPayload =
  | { kind: 'xml'; elements: XmlElement[] }
  | { kind: 'base64'; bytes: Buffer; container: XmlElement }
  | { kind: 'file'; uri: string }
  | { kind: 'empty' };

/**
 * What a Document carries: inline XML, a KITH Base64Container (how M9.4 embeds a signed M1), or a
 * file reference. Base64 is decoded here but not parsed: the caller parses it as a new document.
 */
export const documentPayload = (doc: MsgHeadDocument): Result<DocumentPayload> => readResult(() => payloadOf(doc));

function payloadOf(doc: MsgHeadDocument): DocumentPayload {
  const { content, fileReference } = doc.refDoc;
  if (fileReference) return { kind: 'file', uri: fileReference };
  if (!content || content.children.length === 0) return { kind: 'empty' };
  const container = content.child(KITH_NS.base64container, 'Base64Container');
  if (container && content.children.length === 1) {
    const text = container.rawText.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw invalidValue(container, 'is not valid base64');
    return { kind: 'base64', bytes: Buffer.from(text, 'base64'), container };
  }
  return { kind: 'xml', elements: [...content.children] };
}

function person(el: XmlElement): MsgHeadPerson {
  const ns = MSGHEAD_NS;
  const dob = optional(el, ns, 'DateOfBirth');
  const addr = optional(el, ns, 'Address');
  return defined({
    familyName: optionalText(el, ns, 'FamilyName'),
    middleName: optionalText(el, ns, 'MiddleName'),
    givenName: optionalText(el, ns, 'GivenName'),
    dateOfBirth: dob?.text ? xsDate(dob) : undefined,
    sex: optionalCoded(el, ns, 'Sex'),
    nationality: optionalCoded(el, ns, 'Nationality'),
    idents: repeated(el, ns, 'Ident').map((i) => ident(i, ns)),
    address: addr ? address(addr, ns) : undefined,
    telecom: telecoms(el, ns),
    path: el.path,
  });
}

function healthcareProfessional(el: XmlElement): HealthcareProfessional {
  const ns = MSGHEAD_NS;
  const p = person(el);
  if (p.idents.length === 0) throw missing(el, 'Ident');
  return defined({
    ...p,
    typeHealthcareProfessional: optionalCoded(el, ns, 'TypeHealthcareProfessional'),
    roleToPatient: optionalCoded(el, ns, 'RoleToPatient'),
  });
}

function organisation(el: XmlElement): Organisation {
  const ns = MSGHEAD_NS;
  const addr = optional(el, ns, 'Address');
  const sub = optional(el, ns, 'Organisation');
  const hp = optional(el, ns, 'HealthcareProfessional');
  return defined({
    name: requiredText(el, ns, 'OrganisationName'),
    typeOrganisation: optionalCoded(el, ns, 'TypeOrganisation'),
    idents: repeated(el, ns, 'Ident', 1).map((i) => ident(i, ns)),
    address: addr ? address(addr, ns) : undefined,
    telecom: telecoms(el, ns),
    organisation: sub ? organisation(sub) : undefined,
    healthcareProfessional: hp ? healthcareProfessional(hp) : undefined,
    path: el.path,
  });
}

function document(el: XmlElement): MsgHeadDocument {
  const ns = MSGHEAD_NS;
  const refDocEl = required(el, ns, 'RefDoc');
  const issueDate = optional(refDocEl, ns, 'IssueDate');
  const issueDateValue = issueDate?.attr('V')?.trim();
  const refDoc: RefDoc = defined({
    issueDate: issueDate && issueDateValue ? timestamp(issueDate, issueDateValue) : undefined,
    msgType: requiredCoded(refDocEl, ns, 'MsgType'),
    id: optionalText(refDocEl, ns, 'Id'),
    mimeType: optionalText(refDocEl, ns, 'MimeType'),
    description: optionalText(refDocEl, ns, 'Description'),
    compression: optionalCoded(refDocEl, ns, 'Compression'),
    fileReference: optionalText(refDocEl, ns, 'FileReference'),
    content: optional(refDocEl, ns, 'Content'),
  });
  return defined({
    documentConnection: optionalCoded(el, ns, 'DocumentConnection'),
    contentType: optionalCoded(el, ns, 'ContentType'),
    contentDescription: optionalText(el, ns, 'ContentDescription'),
    refDoc,
    path: el.path,
  });
}
