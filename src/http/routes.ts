// The route table: every FHIR endpoint Helsebro serves, in one list. The CapabilityStatement and the
// README's endpoint table are generated from it.
import { auditRoutes } from './handlers/audit.ts';
import { patientRoutes } from './handlers/patient.ts';
import type { RouteDef } from './types.ts';

export function fhirRoutes(): RouteDef[] {
  return [...patientRoutes, ...auditRoutes];
}
