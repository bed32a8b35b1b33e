// SMART discovery: /.well-known/smart-configuration (at the root and under /fhir) and the
// CapabilityStatement's oauth-uris, read by fhir-kit-client as a SMART client would, naming the in-process
// HelseID's endpoints in production and the demo issuer in demo mode; IPS and MPD in the statement.
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAUTH_URIS } from '../../src/http/capability.ts';
import { engines } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startWithHelseId, type HelseIdSetup } from './support/helseid.ts';

const getJson = async (url: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
};

describe.each(engines)('SMART discovery in production, naming HelseID (%s)', (engine) => {
  let setup: HelseIdSetup;
  beforeAll(async () => {
    setup = await startWithHelseId(engine);
  });
  afterAll(async () => {
    await setup?.close();
  });

  it("fhir-kit-client's smartAuthMetadata() finds HelseID's authorize and token endpoints", async () => {
    const client = new Client({ baseUrl: `${setup.srv.url}/fhir` });
    const meta = (await client.smartAuthMetadata()) as { authorizeUrl?: URL; tokenUrl?: URL };
    expect(meta.authorizeUrl?.href).toBe(`${setup.provider.issuer}/auth`);
    expect(meta.tokenUrl?.href).toBe(`${setup.provider.issuer}/token`);
  });

  it('serves the same document at /.well-known and /fhir/.well-known, with PKCE S256, the EHR launch and the scopes of the route table', async () => {
    const root = await getJson(`${setup.srv.url}/.well-known/smart-configuration`);
    const fhir = await getJson(`${setup.srv.url}/fhir/.well-known/smart-configuration`);
    expect(root.status).toBe(200);
    expect(fhir.body).toEqual(root.body);
    expect(root.headers.get('access-control-allow-origin')).toBe('*');
    const doc = root.body;
    expect(doc).toMatchObject({
      issuer: setup.provider.issuer,
      jwks_uri: `${setup.provider.issuer}/jwks`,
      authorization_endpoint: `${setup.provider.issuer}/auth`,
      token_endpoint: `${setup.provider.issuer}/token`,
      end_session_endpoint: `${setup.provider.issuer}/session/end`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    expect(doc.capabilities).toEqual(expect.arrayContaining(['launch-ehr', 'context-ehr-patient', 'client-confidential-asymmetric', 'sso-openid-connect', 'permission-v2']));
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'launch', 'user/Patient.rs', 'system/MedicationDispense.crus', 'patient/AuditEvent.s']));
  });

  it('names the endpoints in the CapabilityStatement (oauth-uris, SMART-on-FHIR) and the IPS and MPD guides and profiles', async () => {
    const cs = (await getJson(`${setup.srv.url}/fhir/metadata`)).body as unknown as CapabilityStatement;
    const security = cs.rest?.[0]?.security;
    const uris = security?.extension?.find((e) => e.url === OAUTH_URIS)?.extension ?? [];
    expect(Object.fromEntries(uris.map((e) => [e.url, e.valueUri]))).toEqual({
      authorize: `${setup.provider.issuer}/auth`,
      token: `${setup.provider.issuer}/token`,
    });
    expect(security?.service?.[0]?.coding?.map((c) => c.code)).toEqual(['OAuth', 'SMART-on-FHIR']);
    expect(cs.implementationGuide).toEqual([
      'http://hl7.org/fhir/uv/ips/ImplementationGuide/hl7.fhir.uv.ips',
      'http://hl7.eu/fhir/mpd/ImplementationGuide/hl7.fhir.eu.mpd',
    ]);
    const profiles = (type: string): string[] | undefined => cs.rest?.[0]?.resource?.find((r) => r.type === type)?.supportedProfile;
    expect(profiles('Condition')).toEqual(['http://hl7.org/fhir/uv/ips/StructureDefinition/Condition-uv-ips']);
    expect(profiles('MedicationRequest')).toEqual(['http://hl7.eu/fhir/mpd/StructureDefinition/MedicationRequest-eu-mpd']);
    expect(profiles('MedicationDispense')).toEqual(['http://hl7.eu/fhir/mpd/StructureDefinition/MedicationDispense-eu-mpd']);
    expect(profiles('Patient')).toEqual(['http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips']);
  });
});

describe.each(engines)('SMART discovery in demo mode, naming the demo issuer (%s)', (engine) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('names the demo issuer and its key set, and no OAuth endpoint it does not have', async () => {
    const { status, body } = await getJson(`${srv.url}/fhir/.well-known/smart-configuration`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ issuer: 'urn:helsebro:demo-issuer', jwks_uri: `${srv.url}/.well-known/jwks.json`, grant_types_supported: [] });
    expect(body).not.toHaveProperty('authorization_endpoint');
    expect(body).not.toHaveProperty('token_endpoint');
    expect((await fetch(body.jwks_uri as string)).status).toBe(200);
    const cs = (await getJson(`${srv.url}/fhir/metadata`)).body as unknown as CapabilityStatement;
    expect(cs.rest?.[0]?.security?.extension).toBeUndefined();
    expect(cs.implementationGuide).toHaveLength(2);
  });
});

describe.each(engines)('SMART discovery while HelseID cannot be reached (%s)', (engine) => {
  let srv: TestServer;
  beforeAll(async () => {
    const { PRODUCTION_ENV } = await import('../support/production-env.ts');
    srv = await startTestServer(engine, { ...PRODUCTION_ENV, AUTH_ISSUER: 'http://127.0.0.1:9', AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks' });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('answers 503 with an OperationOutcome for the SMART configuration, and the CapabilityStatement without oauth-uris', async () => {
    const res = await fetch(`${srv.url}/.well-known/smart-configuration`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    const cs = (await getJson(`${srv.url}/fhir/metadata`)).body as unknown as CapabilityStatement;
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.rest?.[0]?.security?.extension).toBeUndefined();
  });
});
