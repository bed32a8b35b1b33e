// GET /OperationDefinition/{id}: the definitions of Helsebro's own operations, where the
// CapabilityStatement points. Public, like the CapabilityStatement: they describe the API, not people.
import { notFound } from '../../fhir/outcomes.ts';
import { CUSTOM_OPERATIONS } from '../operations/index.ts';
import { servedDefinition } from '../operations/definition.ts';
import type { RouteDef } from '../types.ts';

export const operationDefinitionRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/OperationDefinition/:id',
    resourceType: 'OperationDefinition',
    interaction: 'read',
    access: 'public',
    documentation: "The definition of one of Helsebro's own operations (the CapabilityStatement names each).",
    async handler(req) {
      const def = CUSTOM_OPERATIONS.get(req.params.id!);
      if (!def) return notFound(`OperationDefinition/${req.params.id!.slice(0, 64)} not found`, { expression: ['OperationDefinition.id'] });
      return { status: 200, resource: servedDefinition(def, req.baseUrl) };
    },
  },
];
