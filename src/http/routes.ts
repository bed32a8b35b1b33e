// The route table: every FHIR endpoint Helsebro serves, in one list. The CapabilityStatement and the
// README's endpoint table are generated from it.
import { auditRoutes } from './handlers/audit.ts';
import { patientRoutes } from './handlers/patient.ts';
import type { RouteDef } from './types.ts';

export function fhirRoutes(): RouteDef[] {
  return [...patientRoutes, ...auditRoutes];
}

/** Every route including the CapabilityStatement, as the app serves them (for docs). */
export function allDocumentedRoutes(): RouteDef[] {
  const metadata: RouteDef = {
    method: 'GET',
    path: '/metadata',
    resourceType: 'CapabilityStatement',
    interaction: 'operation',
    access: 'public',
    documentation: 'The CapabilityStatement, generated from this route table.',
    handler: () => Promise.reject(new Error('documentation only')),
  };
  return [metadata, ...fhirRoutes()];
}
