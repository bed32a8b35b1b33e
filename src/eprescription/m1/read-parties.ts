// Patient and prescriber of an M1. They are not inside <Resept>: eResept puts them in the MsgHead
// (MsgInfo/Patient; MsgInfo/Sender/Organisation[/Organisation]/HealthcareProfessional).
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { warning } from '../../fhir/outcomes.ts';
import { parsePersonNumber } from '../../fhir/identifiers.ts';
import { MESSAGE_ERROR_SYSTEM, messageError } from '../../xml/errors.ts';
import type { Ident } from '../../xml/kith.ts';
import type { MsgHead, Organisation } from '../../xml/msghead.ts';
import { defined } from '../../xml/read.ts';
import type { M1Organisation, M1Patient, M1Prescriber, Resept } from './model.ts';

type Warn = (issue: OperationOutcomeIssue) => void;

const idOfType = (idents: Ident[], type: string): Ident | undefined => idents.find((i) => i.type.code === type);
const valueWarning = (text: string, path: string): OperationOutcomeIssue =>
  warning('value', text, { expression: [path], details: [{ system: MESSAGE_ERROR_SYSTEM, code: 'invalid-value' }] });

export function toM1Organisation(org: Organisation): M1Organisation {
  return defined({
    name: org.name,
    orgnr: idOfType(org.idents, 'ENH')?.id,
    her: idOfType(org.idents, 'HER')?.id,
    resh: idOfType(org.idents, 'RSH')?.id,
    idents: org.idents,
    address: org.address,
    telecom: org.telecom,
    path: org.path,
  });
}

/**
 * The patient. RF accepts three identifications (ERSA 7788): fødselsnummer; D-nummer with birth
 * date and sex; or birth date and sex with a reference number. Without any of them there is no one
 * to write an EU prescription for, so that is refused; lesser deviations become warnings.
 */
export function readPatient(head: MsgHead, resept: Resept, infoPath: string, warn: Warn): M1Patient | undefined {
  const p = head.patient;
  if (!p) {
    if (resept.tilEgenPraksis) return undefined;
    throw messageError(400, 'required', 'missing-element', 'The M1 has no patient (MsgHead MsgInfo/Patient)', `${infoPath}.Patient`);
  }
  const fnr = idOfType(p.idents, 'FNR')?.id;
  const dnr = idOfType(p.idents, 'DNR')?.id;
  const identPath = `${p.path}.Ident`;
  if (fnr !== undefined && parsePersonNumber(fnr)?.kind !== 'fnr') {
    warn(valueWarning('The patient fødselsnummer has an invalid form or check digits', identPath));
  }
  if (dnr !== undefined && parsePersonNumber(dnr)?.kind !== 'dnr') {
    warn(valueWarning('The patient D-nummer has an invalid form or check digits', identPath));
  }
  if (fnr === undefined && dnr === undefined) {
    if (!p.dateOfBirth) {
      throw messageError(
        400,
        'required',
        'missing-element',
        'The patient is not identified: give a fødselsnummer, a D-nummer, or birth date and sex with a reference number (RefNr)',
        identPath,
      );
    }
    if (!resept.refNr) warn(valueWarning('A patient without fødselsnummer or D-nummer needs a reference number (Resept/RefNr)', `${resept.path}.RefNr`));
  }
  if (fnr === undefined && (!p.dateOfBirth || !p.sex)) {
    warn(valueWarning('Without a fødselsnummer the patient should have DateOfBirth and Sex', p.path));
  }
  return defined({
    fnr,
    dnr,
    familyName: p.familyName,
    middleName: p.middleName,
    givenName: p.givenName,
    dateOfBirth: p.dateOfBirth,
    sex: p.sex,
    idents: p.idents,
    address: p.address,
    path: p.path,
  });
}

/** The prescriber: the health professional in the sender organisation (or its department), with an HPR number. */
export function readPrescriber(head: MsgHead, warn: Warn): M1Prescriber {
  const sender = head.sender;
  const inDepartment = !sender.healthcareProfessional && sender.organisation?.healthcareProfessional !== undefined;
  const hp = sender.healthcareProfessional ?? sender.organisation?.healthcareProfessional;
  if (!hp) {
    throw messageError(
      400,
      'required',
      'missing-element',
      'The M1 names no prescriber (MsgHead Sender/Organisation/HealthcareProfessional)',
      `${sender.path}.HealthcareProfessional`,
    );
  }
  const hpr = idOfType(hp.idents, 'HPR')?.id;
  if (!hpr) {
    throw messageError(400, 'required', 'missing-element', 'The prescriber has no HPR number (Ident with TypeId V="HPR")', `${hp.path}.Ident`);
  }
  if (!/^\d{1,9}$/.test(hpr)) warn(valueWarning('The prescriber HPR number is not 1-9 digits', `${hp.path}.Ident`));
  return defined({
    hpr,
    her: idOfType(hp.idents, 'HER')?.id,
    familyName: hp.familyName,
    middleName: hp.middleName,
    givenName: hp.givenName,
    category: hp.typeHealthcareProfessional,
    idents: hp.idents,
    address: hp.address,
    telecom: hp.telecom,
    organisation: toM1Organisation(sender),
    department: inDepartment && sender.organisation ? toM1Organisation(sender.organisation) : undefined,
    path: hp.path,
  });
}
