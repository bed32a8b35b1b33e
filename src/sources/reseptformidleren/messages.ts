// The query messages Helsebro sends Reseptformidleren, and the answers as RF writes them (for the demo
// stand-in and the tests' fake RF): each a KITH MsgHead v1.2 with one Document. Pure: ids and clock are
// parameters. The queries validate against ER-M97-2018-07-01.xsd and ER-M91-2023-03-20.xsd inside
// MsgHead-v1_2.xsd (schemas/kith/, checked in the tests); every value passes the one XML writer, which
// escapes it.
import { MSGHEAD_MIG_VERSION, MSGHEAD_NS } from '../../xml/msghead.ts';
import { el, textEl, xmlDocument, type XmlNode } from '../../xml/write.ts';
import { MSG_TYPE, NS, RESEPTFORMIDLEREN_PARTY, RF_STATUS, type RfDispensings, type RfListedPrescription, type RfSender } from './types.ts';

const ORG_ID_TYPE = '2.16.578.1.12.4.1.1.9051';
const PERSON_ID_TYPE = '2.16.578.1.12.4.1.1.8116';

export interface Envelope {
  msgId: string;
  now: Date;
  /** For an answer: the MsgId of the query it answers (ConversationRef). */
  inReplyTo?: string;
}

function organisation(p: RfSender): XmlNode {
  return el(
    'Organisation',
    {},
    textEl('OrganisationName', p.name),
    el('Ident', {}, textEl('Id', p.orgnr), el('TypeId', { V: 'ENH', S: ORG_ID_TYPE, DN: 'Organisasjonsnummeret i Enhetsregister' })),
    el('Ident', {}, textEl('Id', p.herId), el('TypeId', { V: 'HER', S: ORG_ID_TYPE, DN: 'HER-id' })),
  );
}

function msgHead(type: { code: string; name: string }, from: RfSender, to: RfSender, env: Envelope, payload: XmlNode): string {
  return xmlDocument(
    el(
      'MsgHead',
      { xmlns: MSGHEAD_NS },
      el(
        'MsgInfo',
        {},
        el('Type', { V: type.code, DN: type.name }),
        textEl('MIGversion', MSGHEAD_MIG_VERSION),
        textEl('GenDate', env.now.toISOString()),
        textEl('MsgId', env.msgId),
        env.inReplyTo ? el('ConversationRef', {}, textEl('RefToParent', env.inReplyTo), textEl('RefToConversation', env.inReplyTo)) : undefined,
        el('Sender', {}, organisation(from)),
        el('Receiver', {}, organisation(to)),
      ),
      el('Document', {}, el('RefDoc', {}, el('MsgType', { V: 'XML', DN: 'XML-instans' }), el('Content', {}, payload))),
    ),
  );
}

/**
 * M9.7: RF's count of dispensings on one prescription. Komprimering is required by the schema and not
 * explained in the material Helsebro has; 0 asks for nothing compressed, and the answer is one number.
 */
export function buildM97(reseptId: string, sender: RfSender, env: Envelope): string {
  const payload = el('M97', { xmlns: NS.m97 }, textEl('ReseptId', reseptId), textEl('Komprimering', '0'));
  return msgHead(MSG_TYPE.m97, sender, RESEPTFORMIDLEREN_PARTY, env, payload);
}

/**
 * M9.1: the patient's prescriptions with their status, by fødselsnummer (or D-nummer). AlleResepter "Ja":
 * a recalled, finished or expired prescription must be listed with that status, not left out as if RF did
 * not know it. Prescriptions under a guardian-access reservation are not asked for: Helsebro never exports
 * them. AnsattId names the NCP, as in its M10s (no person at Helsebro asks).
 */
export function buildM91(nin: string, sender: RfSender, env: Envelope): string {
  const yes = { V: '1', DN: 'Ja' };
  const no = { V: '2', DN: 'Nei' };
  const payload = el(
    'ForesporselReseptUtleverer',
    { xmlns: NS.m91 },
    textEl('Fnr', nin),
    el('AlleResepter', yes),
    textEl('AnsattId', sender.herId),
    el('InkluderVergeinnsynsreservasjon', no),
  );
  return msgHead(MSG_TYPE.m91, sender, RESEPTFORMIDLEREN_PARTY, env, payload);
}

/** M9.8 as RF answers (the demo stand-in and the tests' fake RF write it; Helsebro only reads it). */
export function buildM98(answer: RfDispensings, receiver: RfSender, env: Envelope): string {
  const choice =
    answer.kind === 'count'
      ? textEl('AntallUtleveringer', String(answer.count))
      : answer.kind === 'no-prescription'
        ? textEl('IngenResept', 'true')
        : textEl('Pasientreservasjon', 'true');
  return msgHead(MSG_TYPE.m98, RESEPTFORMIDLEREN_PARTY, receiver, env, el('M98', { xmlns: NS.m98 }, choice));
}

/** One prescription of an M9.2 as the stand-in knows it: what the schema requires of a Reseptinfo, and its status. */
export interface ListedForAnswer extends RfListedPrescription {
  issued: string;
  patient: { nin: string; given: string; family: string };
  prescriber: { hpr: string; name: string };
}

/** M9.2 as RF answers: one Reseptinfo per prescription, in the schema's element order. */
export function buildM92(prescriptions: readonly ListedForAnswer[], receiver: RfSender, env: Envelope): string {
  const fk1 = 'http://www.kith.no/xmlstds/felleskomponent1';
  const info = (p: ListedForAnswer): XmlNode =>
    el(
      'Reseptinfo',
      {},
      textEl('Forskrivningsdato', p.issued),
      textEl('Fornavn', p.patient.given),
      textEl('Etternavn', p.patient.family),
      textEl('RekvirentId', p.prescriber.hpr),
      textEl('NavnRekvirent', p.prescriber.name),
      el('EndretFarmasoyt', { V: '2', DN: 'Nei' }),
      textEl('ReseptId', p.reseptId),
      el('Status', { V: p.status, DN: RF_STATUS[p.status as keyof typeof RF_STATUS] ?? p.status }),
      el('Ident', {}, el('Id', { xmlns: fk1 }, p.patient.nin), el('TypeId', { xmlns: fk1, V: 'FNR', S: PERSON_ID_TYPE, DN: 'Fødselsnummer' })),
      textEl('Vergeinnsynsreservasjon', 'false'),
    );
  return msgHead(MSG_TYPE.m92, RESEPTFORMIDLEREN_PARTY, receiver, env, el('Reseptliste', { xmlns: NS.m92 }, prescriptions.map(info)));
}
