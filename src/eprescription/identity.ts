// Who the prescription is for, and who wrote it, judged before anything is mapped. A pharmacist abroad checks
// the patient's name, birth date and sex against an identity document and trusts the prescriber named, so
// nothing in the output may come from another person's record and the patient must be one person. Pure.
//
// Where the patient's facts come from (the mappings/ rows run in this order; the first with a value wins):
// - identifier: the one fødselsnummer or D-nummer the prescription is linked to (access, search, the register
//   lookup all use it). An M1 naming more than one FNR/DNR is refused; no other identifier is sent.
// - birth date: the number itself (RF derives it so, R0908 §4.1.1), else the M1 DateOfBirth (a patient
//   without a valid number; the register is asked by number, so it has nothing to add). An M1 DateOfBirth
//   that contradicts the number is refused: a birth date does not change, so the two describe different
//   people, or one of them is mistyped. A register birth date that differs from the number's is a warning.
// - sex: the register, else the M1 Sex, and only when neither says it the sex digit of the number. Not from
//   the number while a source says it: the planned gender-neutral fødselsnummer carries no sex, and legal sex
//   can change. An M1 Sex that differs from the register is a warning; the register's is sent.
// - name: the M1's. A register name that differs is a warning, not a refusal: names change.
// The prescriber: HPR details (specialty, authorisation) enter the output only when the HPR record for the
// M1's HPR number carries the family name the M1 gives; a different name is refused (prescriberHprConflict).
import type { Identifier, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { fail, ok, type Problem, type Result } from '../fhir/outcomes.ts';
import { OID, parsePersonNumber } from '../fhir/identifiers.ts';
import { REGISTRY_ISSUE_SYSTEM } from '../registries/drugs.ts';
import type { HprPerson } from '../registries/hpr.ts';
import { messageProblem } from '../xml/errors.ts';
import type { M1Patient, M1Prescriber } from './m1/model.ts';

/** What the patient's own number says, for the mapping tables (CTX:patientIdentity). */
export interface PatientIdentity {
  /** The one FNR or DNR the prescription is linked to; absent for a patient identified by birth date and RefNr. */
  identifier?: Identifier;
  /** The birth date the number encodes (undefined when the number is not valid). */
  numberBirthDate?: string;
  /** The sex digit of the number: the last source for sex, see the header. */
  numberGender?: 'male' | 'female';
}

const PERSON_NUMBER_SYSTEM: Record<string, string> = { FNR: OID.fnr, DNR: OID.dnr };

/** The patient's FNR and DNR idents, each distinct number once, in message order. */
function personNumbers(patient: M1Patient): Identifier[] {
  const seen = new Set<string>();
  const out: Identifier[] = [];
  for (const ident of patient.idents) {
    // The type codes exactly as the reader (read-parties.ts) takes them, so the number linked is the number sent.
    const system = PERSON_NUMBER_SYSTEM[ident.type.code];
    const value = ident.id.trim();
    if (!system || !value || seen.has(value)) continue;
    seen.add(value);
    out.push({ system, value });
  }
  return out;
}

const identityConflict = (en: string, nb: string, path: string): Problem =>
  // Both languages in one text: the pipeline does not know the caller's language, and the sender's staff
  // and the NCP's may read either. The numbers and dates themselves are not repeated (logs, audit).
  messageProblem(422, 'invariant', 'patient-identity-conflict', `${en} / ${nb}`, path);

/**
 * The patient's identity from the M1, or the refusal when the M1 names the patient ambiguously: more than
 * one person number, or a DateOfBirth that is not the birth date the number encodes.
 */
export function patientIdentity(patient: M1Patient | undefined): Result<PatientIdentity> {
  if (!patient) return ok({});
  const numbers = personNumbers(patient);
  if (numbers.length > 1) {
    return fail(
      identityConflict(
        `The M1 names the patient by ${numbers.length} person numbers (fødselsnummer/D-nummer in MsgHead/MsgInfo/Patient/Ident); an EU prescription is for one person with one number, so it was not converted`,
        `M1-en oppgir ${numbers.length} personnummer (fødselsnummer/D-nummer i MsgHead/MsgInfo/Patient/Ident) for pasienten; en e-resept til utlandet gjelder én person med ett nummer, så den er ikke konvertert`,
        `${patient.path}.Ident`,
      ),
    );
  }
  const identifier = numbers[0];
  if (!identifier?.value) return ok({});
  const parsed = parsePersonNumber(identifier.value);
  if (!parsed) return ok({ identifier });
  const stated = patient.dateOfBirth?.trim().slice(0, 10);
  if (stated && stated !== parsed.birthDate) {
    return fail(
      identityConflict(
        'The M1 DateOfBirth (MsgHead/MsgInfo/Patient/DateOfBirth) is not the birth date in the patient\'s fødselsnummer/D-nummer; the two describe different people or one is mistyped, so it was not converted',
        'Fødselsdatoen i M1 (MsgHead/MsgInfo/Patient/DateOfBirth) er ikke fødselsdatoen i pasientens fødselsnummer/D-nummer; de beskriver ulike personer, eller en av dem er feilskrevet, så den er ikke konvertert',
        `${patient.path}.DateOfBirth`,
      ),
    );
  }
  // The ninth digit: odd for men, even for women, in numbers issued before the gender-neutral scheme.
  const numberGender = Number(identifier.value[8]) % 2 === 1 ? 'male' : 'female';
  return ok({ identifier, numberBirthDate: parsed.birthDate, numberGender });
}

const registerWarning = (code: string, diagnostics: string, path: string): OperationOutcomeIssue => ({
  severity: 'warning',
  code: 'business-rule',
  diagnostics,
  details: { coding: [{ system: REGISTRY_ISSUE_SYSTEM, code }], text: diagnostics },
  expression: [path],
});

/** Name parts compared as people write them: case, spacing and hyphens aside, letters exact. */
const nameTokens = (...parts: (string | undefined)[]): string[] =>
  parts
    .flatMap((p) => (p ?? '').normalize('NFC').toLocaleLowerCase('nb').split(/[\s\-\u2010-\u2015]+/))
    .filter(Boolean);

const sameTokens = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');

const M1_SEX: Record<string, 'male' | 'female'> = { '1': 'male', '2': 'female' };

/**
 * Where the register's person differs from what the M1 says of the patient. None of it refuses (names and
 * legal sex change, and the register's sex is the one sent); the birth date the number encodes is the one
 * sent, so a register that says otherwise is named too.
 */
export function registerIdentityWarnings(patient: M1Patient, registered: Patient): OperationOutcomeIssue[] {
  const warnings: OperationOutcomeIssue[] = [];
  const name = registered.name?.[0];
  if (name && (patient.familyName || patient.givenName)) {
    const familyDiffers = !sameTokens(nameTokens(patient.familyName), nameTokens(name.family));
    const givenDiffers = !sameTokens(nameTokens(patient.givenName, patient.middleName), nameTokens(...(name.given ?? [])));
    if (familyDiffers || givenDiffers) {
      warnings.push(
        registerWarning('REG-NAME-DIFFERS', "The patient's name in the M1 differs from the population register's; the M1's name is sent", patient.path),
      );
    }
  }
  const sex = M1_SEX[patient.sex?.code?.trim() ?? ''];
  if (sex && (registered.gender === 'male' || registered.gender === 'female') && sex !== registered.gender) {
    warnings.push(registerWarning('REG-SEX-DIFFERS', "The M1 Sex differs from the population register's; the register's is sent", `${patient.path}.Sex`));
  }
  const number = patient.fnr ?? patient.dnr;
  const encoded = number ? parsePersonNumber(number.trim())?.birthDate : undefined;
  if (encoded && registered.birthDate && registered.birthDate !== encoded) {
    warnings.push(
      registerWarning('REG-BIRTHDATE-DIFFERS', "The population register's birth date is not the one in the person number; the number's is sent", `${patient.path}.Ident`),
    );
  }
  return warnings;
}

/**
 * The refusal when the M1 names its prescriber differently from the HPR record for the prescriber's HPR
 * number: a typo, the wrong user, or a forgery. The record belongs to someone else, so none of its details
 * (specialty, authorisation) may be attached, and a prescription whose prescriber cannot be told is not sent
 * abroad silently. The M1's family name must be in HPR's (so "Lie" matches "Lie Hansen"); without a family
 * name in the M1 there is nothing to compare, and the number alone names the prescriber.
 */
export function prescriberHprConflict(prescriber: M1Prescriber, person: HprPerson | undefined): Problem | undefined {
  if (!person) return undefined;
  const stated = nameTokens(prescriber.familyName);
  if (!stated.length) return undefined;
  const registered = new Set(nameTokens(person.family));
  if (stated.every((t) => registered.has(t))) return undefined;
  const en = `The prescriber's family name in the M1 (HealthcareProfessional/FamilyName) is not the name the Health Personnel Register (HPR) holds for HPR number ${prescriber.hpr}; the prescription was not converted, and no HPR details were used`;
  const nb = `Forskriverens etternavn i M1 (HealthcareProfessional/FamilyName) er ikke navnet Helsepersonellregisteret (HPR) har for HPR-nummer ${prescriber.hpr}; resepten er ikke konvertert, og ingen opplysninger fra HPR er brukt`;
  return messageProblem(422, 'invariant', 'prescriber-hpr-mismatch', `${en} / ${nb}`, `${prescriber.path}.FamilyName`);
}
