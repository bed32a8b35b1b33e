// The route table: every FHIR endpoint Helsebro serves, in one list. The CapabilityStatement and the
// README's endpoint table are generated from it.
import type { SummarySource } from '../sources/source.ts';
import { auditRoutes } from './handlers/audit.ts';
import { documentRoutes } from './handlers/documents.ts';
import { edispensationRoutes } from './handlers/edispensation.ts';
import { euPrescriptionRoutes } from './handlers/eu-prescription.ts';
import { medicationRequestRoutes } from './handlers/medication-request.ts';
import { operationDefinitionRoutes } from './handlers/operation-definition.ts';
import { patientRoutes } from './handlers/patient.ts';
import { summaryRoutes } from './handlers/summary.ts';
import { terminologyRoutes } from './handlers/terminology.ts';
import type { HandlerResult, RouteDef } from './types.ts';

/** What the handlers need that is built once at start-up. */
export interface RouteServices {
  summarySources: readonly SummarySource[];
  version: string;
}

export function fhirRoutes(services: RouteServices): RouteDef[] {
  return [...patientRoutes, ...summaryRoutes(services.summarySources, services.version), ...documentRoutes({ sources: services.summarySources, version: services.version }), ...auditRoutes, ...edispensationRoutes, ...euPrescriptionRoutes, ...medicationRequestRoutes, ...terminologyRoutes, ...operationDefinitionRoutes];
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
    handler: (): Promise<HandlerResult> => Promise.reject(new Error('documentation only')),
  };
  return [metadata, ...fhirRoutes({ summarySources: [], version: 'docs' })];
}
