// The CapabilityStatement is generated from the route table, so it lists exactly what is served.
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
} from '@medplum/fhirtypes';
import type { RouteDef } from './types.ts';

const INTERACTION_CODE: Partial<Record<RouteDef['interaction'], string>> = {
  read: 'read',
  'search-type': 'search-type',
  create: 'create',
  update: 'update',
  delete: 'delete',
};

export interface CapabilityInfo {
  baseUrl: string;
  version: string;
  securityDescription?: string;
}

export function buildCapabilityStatement(routes: readonly RouteDef[], info: CapabilityInfo): CapabilityStatement {
  const byType = new Map<string, RouteDef[]>();
  for (const r of routes) {
    if (r.resourceType === 'CapabilityStatement' && r.path === '/metadata') continue;
    byType.set(r.resourceType, [...(byType.get(r.resourceType) ?? []), r]);
  }
  const resources: CapabilityStatementRestResource[] = [...byType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, rs]) => {
      const interactions = [...new Set(rs.map((r) => INTERACTION_CODE[r.interaction]).filter((c): c is string => !!c))];
      const operations: CapabilityStatementRestResourceOperation[] = rs
        .filter((r) => r.operation)
        .map((r) => ({
          name: r.operation!.name,
          definition: r.operation!.definition ?? `${info.baseUrl}/OperationDefinition/${type}-${r.operation!.name}`,
          documentation: `${r.method} ${r.path}: ${r.documentation}`,
        }));
      const searchParams = rs.flatMap((r) => r.searchParams ?? []);
      const res: CapabilityStatementRestResource = {
        type: type as CapabilityStatementRestResource['type'],
        interaction: interactions.map((code) => ({
          code: code as 'read',
          documentation: rs.filter((r) => INTERACTION_CODE[r.interaction] === code).map((r) => r.documentation).join(' '),
        })),
      };
      if (searchParams.length) res.searchParam = dedupeByName(searchParams);
      if (operations.length) res.operation = dedupeByName(operations);
      if (!res.interaction?.length) delete res.interaction;
      return res;
    });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Helsebro', version: info.version },
    implementation: { description: 'Helsebro: Norwegian patient summary and ePrescription bridge for MyHealth@EU', url: info.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(info.securityDescription ? { security: { description: info.securityDescription } } : {}),
        resource: resources,
      },
    ],
  };
}

function dedupeByName<T extends { name: string }>(items: T[]): T[] {
  const seen = new Map<string, T>();
  for (const i of items) if (!seen.has(i.name)) seen.set(i.name, i);
  return [...seen.values()];
}
