// RF's answers -> the few facts Helsebro acts on. An answer is hostile until read: it goes through the one
// hardened XML reader (no DOCTYPE, size, depth and element limits), must be the message type and schema
// version that was asked for, must answer the query that was sent, and every value Helsebro uses must
// have the exact form the schema gives it. Anything else is a MalformedSourceError: a count Helsebro
// cannot vouch for is never a number. Messages name the fault, never the upstream's text (it may hold
// personal data, and these messages reach logs and OperationOutcomes).
import type { XmlElement } from '../../xml/element.ts';
import { messageErrorCode } from '../../xml/errors.ts';
import { KITH_NS } from '../../xml/kith.ts';
import { documentPayload, parseMsgHead, type MsgHead } from '../../xml/msghead.ts';
import { MalformedSourceError } from '../source.ts';
import { MAX_DISPENSINGS, MSG_TYPE, NS, type RfDispensings, type RfListedPrescription } from './types.ts';

/** An M9.8 is one number in an envelope; 64 KiB is generous. */
export const M98_MAX_BYTES = 64 * 1024;
/** An M9.2 lists every prescription of one patient; a few hundred fit easily in 2 MiB. */
export const M92_MAX_BYTES = 2 * 1024 * 1024;

/** An answer as the client received it: the text, and the MsgId of the query it must answer (live client). */
export interface RfReply {
  xml: string;
  /** MsgId of the M9.7 / M9.1 sent; the answer's ConversationRef/RefToParent must name it. */
  inReplyTo?: string;
}

const malformed = (what: string, why: string): MalformedSourceError => new MalformedSourceError(`Reseptformidleren ${what}: ${why}`);

/** The envelope and the one business element of the answer, in the expected namespace. */
function payloadOf(reply: RfReply, kind: 'm98' | 'm92', maxBytes: number, maxElements: number): { head: MsgHead; payload: XmlElement } {
  const what = kind === 'm98' ? 'M9.8' : 'M9.2';
  if (typeof reply.xml !== 'string') throw malformed(what, 'the answer is not text');
  const parsed = parseMsgHead(reply.xml, { maxBytes, maxElements, expectType: MSG_TYPE[kind].code });
  if (!parsed.ok) throw malformed(what, `not a readable ${MSG_TYPE[kind].code} message (${messageErrorCode(parsed.problem) ?? 'unreadable'})`);
  const head = parsed.value.head;
  if (reply.inReplyTo !== undefined && head.conversationRef?.refToParent !== reply.inReplyTo) {
    throw malformed(what, 'the answer does not answer the query that was sent (ConversationRef/RefToParent)');
  }
  if (head.documents.length !== 1) throw malformed(what, 'the message must carry exactly one Document');
  const content = documentPayload(head.documents[0]!);
  if (!content.ok || content.value.kind !== 'xml' || content.value.elements.length !== 1) {
    throw malformed(what, 'the Document must hold exactly one XML element');
  }
  const payload = content.value.elements[0]!;
  const [name, ns] = kind === 'm98' ? ['M98', NS.m98] : ['Reseptliste', NS.m92];
  // Another namespace is another schema version (or another message): its elements may mean other things.
  if (payload.name !== name || payload.ns !== ns) throw malformed(what, `expected ${name} in ${ns}`);
  return { head, payload };
}

/** A non-negative integer in xs:int form, no larger than any real count. */
function count(el: XmlElement): number {
  const text = el.text;
  if (!/^\+?\d{1,9}$/.test(text)) throw malformed('M9.8', 'AntallUtleveringer is not a non-negative integer');
  const n = Number(text);
  if (n > MAX_DISPENSINGS) throw malformed('M9.8', `AntallUtleveringer is larger than ${MAX_DISPENSINGS}`);
  return n;
}

/** IngenResept and Pasientreservasjon say something only when true; false has no meaning in the choice. */
function flag(el: XmlElement): void {
  if (el.text !== 'true' && el.text !== '1') throw malformed('M9.8', `${el.name} must be true when it is sent`);
}

export function parseM98(reply: RfReply): RfDispensings {
  const { payload } = payloadOf(reply, 'm98', M98_MAX_BYTES, 200);
  if (payload.children.length !== 1) throw malformed('M9.8', 'M98 must hold exactly one of AntallUtleveringer, IngenResept, Pasientreservasjon');
  const only = payload.children[0]!;
  if (only.ns !== NS.m98) throw malformed('M9.8', 'an element of M98 is in another namespace');
  switch (only.name) {
    case 'AntallUtleveringer':
      return { kind: 'count', count: count(only) };
    case 'IngenResept':
      flag(only);
      return { kind: 'no-prescription' };
    case 'Pasientreservasjon':
      flag(only);
      return { kind: 'patient-reservation' };
    default:
      throw malformed('M9.8', 'M98 holds none of AntallUtleveringer, IngenResept, Pasientreservasjon');
  }
}

// A ReseptId is only compared with the ids Helsebro holds, never written anywhere: any text will do, as the
// M1's MsgId it came from may be any text. It must be there.
const STATUS_CODE = /^[A-Z]$/;

/**
 * The patient's prescriptions from an M9.2: ReseptId and Status (kodeverk 7408) of each Reseptinfo. A
 * Reseptinfo that names another patient, one without a readable id or status, or one prescription listed
 * twice with different statuses makes the whole answer malformed: a list that is wrong in one place is
 * not trusted in the others.
 */
export function parseM92(reply: RfReply, nin: string): RfListedPrescription[] {
  const { payload } = payloadOf(reply, 'm92', M92_MAX_BYTES, 20_000);
  const out = new Map<string, RfListedPrescription>();
  for (const info of payload.all(NS.m92, 'Reseptinfo')) {
    const ids = info.all(NS.m92, 'ReseptId');
    const statuses = info.all(NS.m92, 'Status');
    if (ids.length !== 1 || !ids[0]!.text) throw malformed('M9.2', 'a Reseptinfo has no ReseptId');
    if (statuses.length !== 1) throw malformed('M9.2', 'a Reseptinfo has no Status');
    const status = statuses[0]!.attr('V')?.trim() ?? '';
    if (!STATUS_CODE.test(status)) throw malformed('M9.2', 'a Reseptinfo Status is not a kodeverk 7408 code');
    const owner = info.child(NS.m92, 'Ident')?.child(KITH_NS.felleskomponent1, 'Id')?.text;
    if (owner !== undefined && owner !== nin) throw malformed('M9.2', 'a Reseptinfo belongs to another patient');
    const reseptId = ids[0]!.text;
    const seen = out.get(reseptId);
    if (seen && seen.status !== status) throw malformed('M9.2', 'a prescription is listed twice with different statuses');
    out.set(reseptId, { reseptId, status });
  }
  return [...out.values()];
}
