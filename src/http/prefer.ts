// Prefer: return=minimal | representation | OperationOutcome (FHIR REST, "Managing Return Content") on the
// calls that store something: creates, updates and the operations whose definition says they change state.
// The answer says what it did in Preference-Applied. Handlers that honour the header themselves (they have
// warnings of their own to return) set Preference-Applied, and are left as they are.
import type { IncomingHttpHeaders } from 'node:http';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { FhirResponse } from './types.ts';

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** The return preference of a Prefer header (several preferences may be listed); undefined when none or unknown. */
export function returnPreference(headers: IncomingHttpHeaders): ReturnPreference | undefined {
  const raw = headers.prefer;
  const text = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  for (const part of text.split(/[,;]/)) {
    const m = /^\s*return\s*=\s*"?(minimal|representation|OperationOutcome)"?\s*$/.exec(part);
    if (m) return m[1] as ReturnPreference;
  }
  return undefined;
}

export function applyReturnPreference(result: FhirResponse, preference: ReturnPreference | undefined): FhirResponse {
  if (!preference || result.status < 200 || result.status > 299 || !('resource' in result)) return result;
  if (Object.keys(result.headers ?? {}).some((k) => k.toLowerCase() === 'preference-applied')) return result;
  const headers = { ...result.headers, 'Preference-Applied': `return=${preference}` };
  if (preference === 'representation') return { ...result, headers };
  if (preference === 'minimal') return { status: result.status, body: '', contentType: 'application/fhir+json; charset=utf-8', headers };
  const r = result.resource;
  if (r.resourceType === 'OperationOutcome') return { ...result, headers };
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'informational',
        diagnostics: `${r.resourceType}${r.id ? `/${r.id}` : ''} ${result.status === 201 ? 'created' : 'processed'}`,
      },
    ],
  };
  return { status: result.status, resource: outcome, headers };
}
