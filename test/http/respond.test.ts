import { describe, expect, it } from 'vitest';
import { forbidden, unauthorized } from '../../src/fhir/outcomes.ts';
import { inFhirOrder, outcomeOf, prepareResult } from '../../src/http/respond.ts';

describe('inFhirOrder', () => {
  it('says whether every resource, nested ones too, has resourceType as its first key', () => {
    expect(inFhirOrder({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'a' } }] })).toBe(true);
    expect(inFhirOrder({ resourceType: 'Bundle', entry: [{ resource: { id: 'a', resourceType: 'Patient' } }] })).toBe(false);
    expect(inFhirOrder({ id: 'x', contained: [{ resourceType: 'Medication' }], resourceType: 'MedicationRequest' })).toBe(false);
    expect(inFhirOrder({ resourceType: 'Patient', contained: [{ code: { text: 'x' }, resourceType: 'Medication' }] })).toBe(false);
    // An object without a resourceType (a Coding, a Reference) may have any key first.
    expect(inFhirOrder({ resourceType: 'Patient', name: [{ family: 'N', given: ['A'] }], meta: { versionId: '1' } })).toBe(true);
    expect(inFhirOrder([1, 'a', null, { resourceType: 'Basic' }])).toBe(true);
  });
});

const text = (body: string | Uint8Array): string => (typeof body === 'string' ? body : new TextDecoder().decode(body));

describe('prepareResult', () => {
  it('serialises a resource as FHIR JSON, resourceType first in every resource, with the handler\'s headers', () => {
    const resource = { id: 'p1', resourceType: 'Patient', contained: [{ id: 'm', resourceType: 'Medication' }] } as never;
    const prepared = prepareResult({ status: 200, resource, headers: { ETag: 'W/"2"' } }, false);
    expect(prepared.status).toBe(200);
    expect(prepared.headers).toEqual({ ETag: 'W/"2"', 'Content-Type': 'application/fhir+json; charset=utf-8' });
    expect(text(prepared.body)).toBe('{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Medication","id":"m"}]}');
    expect(text(prepareResult({ status: 200, resource: { resourceType: 'Patient', id: 'b' } }, true).body)).toBe('{\n  "resourceType": "Patient",\n  "id": "b"\n}');
  });

  it('answers a Problem as an OperationOutcome with the headers its status needs', () => {
    const prepared = prepareResult(unauthorized(), false);
    expect(prepared.status).toBe(401);
    expect(prepared.headers['WWW-Authenticate']).toMatch(/^Bearer realm=/);
    expect(prepared.headers['Content-Type']).toBe('application/fhir+json; charset=utf-8');
    expect(JSON.parse(text(prepared.body))).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security', diagnostics: 'Authentication required' }] });
  });

  it('passes text and bytes through, each with its content type', () => {
    const xml = prepareResult({ status: 200, body: '<name>Åse Ødegård</name>', contentType: 'application/xml; charset=utf-8' }, false);
    expect(xml).toEqual({ status: 200, headers: { 'Content-Type': 'application/xml; charset=utf-8' }, body: '<name>Åse Ødegård</name>' });
    const bytes = new TextEncoder().encode('<ClinicalDocument/>');
    expect(prepareResult({ status: 200, body: bytes, contentType: 'text/xml; charset=utf-8' }, false)).toEqual({
      status: 200,
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: bytes,
    });
  });
});

describe('outcomeOf', () => {
  it('keeps what the audit record needs: the status, and the issue codes of a Problem', () => {
    expect(outcomeOf({ status: 200, resource: { resourceType: 'Patient' } })).toEqual({ status: 200 });
    expect(outcomeOf(forbidden('not yours'))).toEqual({ status: 403, issueCodes: 'forbidden' });
  });
});
