// Helsebro's own operations are declared as FHIR OperationDefinitions, one file each in this folder. The
// definition is what the CapabilityStatement points to, what GET /OperationDefinition/{id} serves, and what
// the shared parser (parameters.ts) reads a call's parameters by.
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';

/** The parameter types the shared parser reads from a query string, a form and a Parameters body. */
export type ParamType = 'string' | 'code' | 'id' | 'boolean' | 'integer' | 'Identifier';

export interface InParameter {
  name: string;
  type: ParamType;
  min: 0 | 1;
  max: '1' | '*';
  documentation: string;
}

export interface CustomOperationInput {
  resource: 'MedicationRequest' | 'MedicationDispense' | 'Patient';
  code: string;
  /** Where it is invoked: on one resource, on the type, or both (named by path, or by a parameter). */
  level: 'instance' | 'type' | 'both';
  title: string;
  description: string;
  affectsState: boolean;
  /** What the request body is, when it is not a Parameters resource (an XML document). */
  body?: string;
  parameters: InParameter[];
  /** The result, in words (and its type), as `out` parameter `return`. */
  returns: { type: string; documentation: string };
}

export type HelsebroOperationDefinition = OperationDefinition & { id: string };

export function customOperation(op: CustomOperationInput): HelsebroOperationDefinition {
  const id = `${op.resource}-${op.code}`;
  const parameter: OperationDefinitionParameter[] = [
    ...op.parameters.map((p) => ({ name: p.name, use: 'in' as const, min: p.min, max: p.max, type: p.type, documentation: p.documentation })),
    { name: 'return', use: 'out', min: 1, max: '1', type: op.returns.type, documentation: op.returns.documentation },
  ];
  return {
    resourceType: 'OperationDefinition',
    id,
    name: id.replace(/[^A-Za-z0-9]/g, '_'),
    title: op.title,
    status: 'active',
    kind: 'operation',
    publisher: 'Helsebro',
    description: op.body ? `${op.description} Request body: ${op.body}` : op.description,
    affectsState: op.affectsState,
    code: op.code,
    resource: [op.resource],
    system: false,
    type: op.level !== 'instance',
    instance: op.level !== 'type',
    parameter,
  };
}

/** The definition as served: its canonical url is where this server serves it (as the CapabilityStatement says). */
export const servedDefinition = (def: HelsebroOperationDefinition, baseUrl: string): OperationDefinition => ({
  ...def,
  url: operationDefinitionUrl(baseUrl, def.id),
});

export const operationDefinitionUrl = (baseUrl: string, id: string): string => `${baseUrl}/OperationDefinition/${id}`;
