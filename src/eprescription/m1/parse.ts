// parseM1: bytes of an M1 (eResept 2.5 inside MsgHead v1.2) -> the typed M1 model, or the Problem
// that refuses it. Pure; never throws.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { fail, ok, type Result } from '../../fhir/outcomes.ts';
import type { XmlElement } from '../../xml/element.ts';
import { messageError } from '../../xml/errors.ts';
import { MSGHEAD_NS, parseMsgHead, type MsgHead } from '../../xml/msghead.ts';
import type { XmlParseOptions } from '../../xml/parse.ts';
import { clip, readResult } from '../../xml/read.ts';
import { M1_MESSAGE_TYPE, M1_NS, type M1Message } from './model.ts';
import { readPatient, readPrescriber, toM1Organisation } from './read-parties.ts';
import { readResept } from './read-resept.ts';

export type M1ParseOptions = XmlParseOptions;

/** Namespaces under which eResept has published M1 versions (KITH, later Direktoratet for e-helse). */
const M1_NS_FAMILIES = ['http://www.kith.no/xmlstds/eresept/m1/', 'http://www.ehelse.no/xmlstds/eresept/m1/'];

export function parseM1(input: Uint8Array | string, opts: M1ParseOptions = {}): Result<M1Message> {
  const parsed = parseM1Document(input, opts);
  return parsed.ok ? ok(parsed.value.message, parsed.warnings) : parsed;
}

/** The typed M1 together with the element tree it was read from (for mapping tables that name XML paths). */
export interface M1Document {
  message: M1Message;
  /** The MsgHead root element. */
  root: XmlElement;
  /** The m1:Resept element inside Document/RefDoc/Content. */
  resept: XmlElement;
}

export function parseM1Document(input: Uint8Array | string, opts: M1ParseOptions = {}): Result<M1Document> {
  const parsed = parseMsgHead(input, { ...opts, expectType: M1_MESSAGE_TYPE });
  if (!parsed.ok) return parsed;
  const { doc, head } = parsed.value;
  const warnings: OperationOutcomeIssue[] = [...parsed.warnings];
  const read = readResult(() => {
    const reseptEl = findResept(doc.root, head);
    return { message: readM1(doc.root, head, reseptEl, (w) => warnings.push(w)), root: doc.root, resept: reseptEl };
  });
  return read.ok ? ok(read.value, warnings) : fail(read.problem);
}

function readM1(root: XmlElement, head: MsgHead, reseptEl: XmlElement, warn: (w: OperationOutcomeIssue) => void): M1Message {
  const resept = readResept(reseptEl, warn);
  const infoPath = root.child(MSGHEAD_NS, 'MsgInfo')?.path ?? `${root.path}.MsgInfo`;
  const patient = readPatient(head, resept, infoPath, warn);
  const message: M1Message = {
    prescriptionId: head.msgId,
    genDate: head.genDate,
    migVersion: head.migVersion,
    sender: toM1Organisation(head.sender),
    receiver: toM1Organisation(head.receiver),
    prescriber: readPrescriber(head, warn),
    resept,
    signed: head.signed,
  };
  if (patient) message.patient = patient;
  return message;
}

/** The one m1:Resept among the documents' inline content; other M1 versions are named as such. */
function findResept(root: XmlElement, head: MsgHead): XmlElement {
  const candidates = head.documents.flatMap((d) => d.refDoc.content?.children ?? []).filter((el) => el.name === 'Resept');
  const current = candidates.filter((el) => el.ns === M1_NS);
  const other = candidates.find((el) => el.ns !== M1_NS);
  const first = current[0];
  // Counted whatever their version or namespace: a second Resept in an older version beside a current one is
  // still a second prescription, and reading the current one alone would drop the other without a word.
  const second = candidates.find((el) => el !== first);
  if (first && second) throw messageError(400, 'structure', 'unexpected-element', 'An M1 holds exactly one Resept', second.path);
  if (first) return first;
  if (other && M1_NS_FAMILIES.some((f) => other.ns.startsWith(f))) {
    const version = other.ns.slice(other.ns.lastIndexOf('/m1/') + 4);
    throw messageError(
      400,
      'not-supported',
      'unsupported-version',
      `M1 version ${clip(version)} is not supported; Helsebro reads eResept 2.5 (${M1_NS})`,
      other.path,
    );
  }
  if (other) {
    throw messageError(
      400,
      'structure',
      'wrong-root',
      `Resept is in namespace "${clip(other.ns, 80)}"${other.ns ? '' : ' (none)'}; an M1 Resept is in ${M1_NS}`,
      other.path,
    );
  }
  const contentPath = head.documents[0]?.path ? `${head.documents[0].path}.RefDoc.Content` : `${root.path}.Document.RefDoc.Content`;
  throw messageError(400, 'required', 'missing-element', 'The M1 carries no Resept in Document/RefDoc/Content', `${contentPath}.Resept`);
}
