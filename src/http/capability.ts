// The CapabilityStatement is generated from the route table, so it lists exactly what is served.
import type {
  CapabilityStatement,
  CapabilityStatementRestSecurity,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
} from '@medplum/fhirtypes';
import type { ProviderEndpoints } from '../auth/helseid.ts';
import type { AuthSetup } from '../auth/setup.ts';
import { scopeContextsOf } from '../auth/roles.ts';
import { requiredScope, type ScopeNeed } from '../auth/scopes.ts';
import { IMPLEMENTATION_GUIDES } from './supported-profiles.ts';
import type { RouteDef } from './types.ts';

/** SMART's extension on rest.security naming the OAuth endpoints (SMART App Launch 1.0, still read by clients). */
export const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

/** Who may call what, in words: the CapabilityStatement's security section. */
export function securityDescription(auth: Pick<AuthSetup, 'mode' | 'issuer' | 'audience'>): string {
  return [
    `OAuth 2.0 bearer tokens (JWT) from ${auth.mode === 'demo' ? 'the embedded demo issuer' : 'HelseID'} (issuer ${auth.issuer}, audience ${auth.audience}),`,
    'verified against the issuer\'s JWKS. Scopes follow SMART on FHIR v2 (user/, system/ and patient/ contexts with cruds letters);',
    'each interaction and operation below names the scope it needs. Only /metadata is public.',
    'Every read or write of personal data is recorded as an AuditEvent; citizens read their own log at AuditEvent?patient=.',
  ].join(' ');
}

function scopeText(r: RouteDef): string {
  return r.access === 'public' ? 'Public.' : `Roles: ${r.access.admits.join(', ')}. Scope: ${requiredScope(r.access.scope, scopeContextsOf(r.access.admits))}.`;
}

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
  /** The authorization server (HelseID, or the demo issuer): its endpoints go into the oauth-uris extension. */
  authorizationServer?: ProviderEndpoints | undefined;
  /** Resource type -> profiles held for it (supported-profiles.ts). */
  profiles?: ReadonlyMap<string, readonly string[]>;
}

/** The scope needs of the route table: what the SMART configuration lists as supported scopes. */
export function routeScopeNeeds(routes: readonly RouteDef[]): ScopeNeed[] {
  return routes.flatMap((r) => (r.access === 'public' ? [] : [r.access.scope]));
}

function oauthUris(server: ProviderEndpoints): CapabilityStatementRestSecurity['extension'] {
  const uris = [
    ['authorize', server.authorizationEndpoint],
    ['token', server.tokenEndpoint],
    ['revoke', server.revocationEndpoint],
    ['introspect', server.introspectionEndpoint],
  ].filter((e): e is [string, string] => e[1] !== undefined);
  return uris.length ? [{ url: OAUTH_URIS, extension: uris.map(([url, valueUri]) => ({ url, valueUri })) }] : undefined;
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
          documentation: `${r.method} ${r.path}: ${r.documentation} ${scopeText(r)}`,
        }));
      const searchParams = rs.flatMap((r) => r.searchParams ?? []);
      const res: CapabilityStatementRestResource = {
        type: type as CapabilityStatementRestResource['type'],
        interaction: interactions.map((code) => ({
          code: code as 'read',
          documentation: rs
            .filter((r) => INTERACTION_CODE[r.interaction] === code)
            .map((r) => `${r.method} ${r.path}: ${r.documentation} ${scopeText(r)}`)
            .join(' '),
        })),
      };
      const profiles = info.profiles?.get(type);
      if (profiles?.length) res.supportedProfile = [...profiles];
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
    implementationGuide: [...IMPLEMENTATION_GUIDES],
    rest: [
      {
        mode: 'server',
        ...(info.securityDescription ? { security: security(info.securityDescription, info.authorizationServer) } : {}),
        resource: resources,
      },
    ],
  };
}

function security(description: string, server: ProviderEndpoints | undefined): CapabilityStatementRestSecurity {
  const extension = server ? oauthUris(server) : undefined;
  const system = 'http://terminology.hl7.org/CodeSystem/restful-security-service';
  return {
    ...(extension ? { extension } : {}),
    service: [{ coding: [{ system, code: 'OAuth' }, ...(extension ? [{ system, code: 'SMART-on-FHIR' }] : [])] }],
    description,
  };
}

function dedupeByName<T extends { name: string }>(items: T[]): T[] {
  const seen = new Map<string, T>();
  for (const i of items) if (!seen.has(i.name)) seen.set(i.name, i);
  return [...seen.values()];
}
