// Refusals of incoming XML messages. Each carries a stable code in `details.coding` (so clients and
// tests need not parse diagnostics) and, where one exists, the element path in `expression`.
import { problem, ProblemError, type IssueCode, type Problem } from '../fhir/outcomes.ts';

export const MESSAGE_ERROR_SYSTEM = 'https://helsebro.no/fhir/CodeSystem/message-error';

export const MESSAGE_ERRORS = {
  'xml-too-large': 'The document exceeds the size limit',
  'xml-encoding': 'The bytes are not in a supported, correctly declared character encoding',
  'xml-doctype': 'DOCTYPE and entity declarations are refused (XXE and entity-expansion defence)',
  'xml-too-deep': 'Elements are nested deeper than the limit',
  'xml-too-many-elements': 'The document has more elements than the limit',
  'xml-too-many-attributes': 'An element has more attributes or namespace declarations than the limit',
  'xml-tag-too-long': 'A start tag is longer than the limit',
  'xml-malformed': 'The document is not well-formed, namespace-correct XML',
  'wrong-root': 'The root element is not the one this message type needs',
  'unsupported-version': 'The message or schema version is not supported',
  'unsupported-message-type': 'The message type is not the one this endpoint reads',
  'missing-element': 'A mandatory element is missing or empty',
  'unexpected-element': 'An element is not allowed here, or occurs more often than allowed',
  'invalid-value': 'An element or attribute has a value of the wrong form',
  'patient-identity-conflict': 'The message names its patient ambiguously: more than one person number, or a birth date the number contradicts',
  'prescriber-hpr-mismatch': 'The prescriber named in the message is not the person the HPR register holds for that HPR number',
} as const;

export type MessageErrorCode = keyof typeof MESSAGE_ERRORS;

export function messageProblem(
  status: number,
  issueCode: IssueCode,
  code: MessageErrorCode,
  diagnostics: string,
  path?: string,
): Problem {
  return problem(status, issueCode, diagnostics, {
    ...(path ? { expression: [path] } : {}),
    details: [{ system: MESSAGE_ERROR_SYSTEM, code, display: MESSAGE_ERRORS[code] }],
  });
}

/** For readers deep in a tree: throw, and let the entry point turn it back into a Result. */
export function messageError(
  status: number,
  issueCode: IssueCode,
  code: MessageErrorCode,
  diagnostics: string,
  path?: string,
): ProblemError {
  return new ProblemError(messageProblem(status, issueCode, code, diagnostics, path));
}

/** The stable code of a message Problem's first issue, if it has one. */
export function messageErrorCode(p: Problem): MessageErrorCode | undefined {
  const coding = p.issues[0]?.details?.coding?.find((c) => c.system === MESSAGE_ERROR_SYSTEM);
  return coding?.code as MessageErrorCode | undefined;
}
