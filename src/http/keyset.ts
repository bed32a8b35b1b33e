// The `_page` token of a keyset-paged search (AuditEvent): the snapshot instant every page of the search
// shares, and the (recorded, id) of the last row the previous page ended on. Opaque to clients (base64url
// JSON), checked strictly when it comes back.
import { badRequest, type Problem } from '../fhir/outcomes.ts';

export const PAGE_PARAM = '_page';

export interface KeysetPage {
  asOf: Date;
  after?: { recorded: Date; id: string } | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodePage(page: KeysetPage): string {
  const body = { s: page.asOf.getTime(), ...(page.after ? { r: page.after.recorded.getTime(), i: page.after.id } : {}) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const invalid = (): Problem => badRequest(`${PAGE_PARAM} is not a paging token from a link of this search`, { expression: [PAGE_PARAM] });

export function decodePage(token: string): KeysetPage | Problem {
  if (token.length > 200 || !/^[A-Za-z0-9_-]+$/.test(token)) return invalid();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalid();
  }
  const { s, r, i } = (body ?? {}) as { s?: unknown; r?: unknown; i?: unknown };
  if (!Number.isSafeInteger(s) || (s as number) < 0) return invalid();
  const asOf = new Date(s as number);
  if (r === undefined && i === undefined) return { asOf };
  if (!Number.isSafeInteger(r) || (r as number) < 0 || typeof i !== 'string' || !UUID.test(i)) return invalid();
  return { asOf, after: { recorded: new Date(r as number), id: i } };
}
