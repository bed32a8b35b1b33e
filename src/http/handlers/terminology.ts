// Terminology operations over terminology/ (src/terminology/operations.ts): CodeSystem/$lookup,
// ValueSet/$validate-code and ConceptMap/$translate, by GET (query parameters) or POST (a Parameters
// resource, or a form). No personal data passes here, so calls are not audited; a token is still needed.
import type { Parameters } from '@medplum/fhirtypes';
import { badRequest, type Problem } from '../../fhir/outcomes.ts';
import { lookupOperation, translateOperation, validateCodeOperation, type OperationInput, type OperationResult } from '../../terminology/index.ts';
import { ROLES, type Role } from '../../auth/roles.ts';
import { noPatient } from '../locate.ts';
import { GENERAL_QUERY_PARAMETERS } from '../operations/parameters.ts';
import { route, type FhirRequest, type HandlerResult, type RouteDef } from '../types.ts';

const ROLES_ALL = ROLES as readonly Role[] as [Role, ...Role[]];

type Operation = (input: OperationInput) => OperationResult;

/** The operation's input: the query string, plus a POSTed Parameters resource or form. */
function inputOf(req: FhirRequest): OperationInput | undefined {
  if (req.method !== 'POST') return req.query;
  if (req.body instanceof URLSearchParams) {
    const merged = new URLSearchParams(req.query);
    for (const [k, v] of req.body) merged.append(k, v);
    return merged;
  }
  const body = req.body as Parameters | undefined;
  if (body?.resourceType !== 'Parameters') return undefined;
  return body;
}

/** With a Parameters body the query may carry only the general parameters: one left there would be neither read nor merged. */
function queryBesideParameters(req: FhirRequest): Problem | undefined {
  if (req.method !== 'POST' || req.body instanceof URLSearchParams || req.body === undefined) return undefined;
  const stray = [...req.query.keys()].find((k) => !GENERAL_QUERY_PARAMETERS.has(k));
  return stray === undefined ? undefined : badRequest(`With a Parameters body, give '${stray.slice(0, 64)}' in the body, not in the query`, { expression: [stray.slice(0, 64)] });
}

const run =
  (op: Operation) =>
  async (req: FhirRequest): Promise<HandlerResult> => {
    const stray = queryBesideParameters(req);
    if (stray) return stray;
    const input = inputOf(req);
    if (!input) return badRequest('POST a Parameters resource (or a form) to this operation');
    const result = op(input);
    return result.ok ? { status: 200, resource: result.value } : result.problem;
  };

// Code systems are nobody's personal data: every role with the scope may look codes up.
const ACCESS = (resourceType: string) => ({ admits: ROLES_ALL, scope: { resourceType, interaction: 'r' as const }, audit: false as const, patient: noPatient });

function pair(resourceType: string, name: string, definition: string, documentation: string, op: Operation): RouteDef[] {
  const base = {
    path: `/${resourceType}/$${name}`,
    resourceType,
    interaction: 'operation' as const,
    operation: { name, level: 'type' as const, definition },
    access: ACCESS(resourceType),
    documentation,
    handler: run(op),
  };
  return [route({ ...base, method: 'GET' }), route({ ...base, method: 'POST', accepts: ['json', 'form'], documentation: `${documentation} (parameters in a Parameters resource or a form)` })];
}

export const terminologyRoutes: RouteDef[] = [
  ...pair(
    'CodeSystem',
    'lookup',
    'http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
    'Look up a code (system + code, or coding) in the Norwegian and EU code systems Helsebro holds; displayLanguage en or nb.',
    (input) => lookupOperation(input),
  ),
  ...pair(
    'ValueSet',
    'validate-code',
    'http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
    'Is a code in a value set (url + system + code, coding or codeableConcept): the eHDSI value sets and the Volven lists.',
    (input) => validateCodeOperation(input),
  ),
  ...pair(
    'ConceptMap',
    'translate',
    'http://hl7.org/fhir/OperationDefinition/ConceptMap-translate',
    "Translate a Norwegian code to the EU value sets with Helsebro's ConceptMaps (url, or source/target/targetsystem), each draft with its review status.",
    (input) => translateOperation(input),
  ),
];
