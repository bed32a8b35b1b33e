// What every answer to a hostile request must satisfy, as a list of findings (empty = fine).
import type { HostileCase } from './corpus.ts';
import { LEAK_PATTERNS } from './payloads.ts';
import type { RawResponse } from './raw-http.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The answer's text with every string the request carried removed, in the forms it may be quoted in. */
function withoutPayloads(text: string, payloads: string[]): string {
  let out = text;
  const forms = payloads
    .filter((p) => p.length >= 2)
    .flatMap((p) => [p, JSON.stringify(p).slice(1, -1), encodeURIComponent(p)])
    .sort((a, b) => b.length - a.length);
  for (const f of forms) out = out.split(f).join('');
  return out;
}

/** Every XHTML narrative (`text.div`) in a JSON answer. */
function narratives(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const x of value) narratives(x, out);
  else if (value && typeof value === 'object') {
    for (const [k, x] of Object.entries(value)) {
      if (k === 'div' && typeof x === 'string') out.push(x);
      else narratives(x, out);
    }
  }
  return out;
}

export function judge(c: HostileCase, res: RawResponse): string[] {
  const findings: string[] = [];
  if (res.status >= 500) findings.push(`answered ${res.status}`);
  if (c.expect === 'reject' && (res.status < 400 || res.status > 499)) findings.push(`expected a 4xx, got ${res.status}`);
  if (c.status !== undefined && res.status !== c.status) findings.push(`expected ${c.status}, got ${res.status}`);
  if (res.status >= 400) {
    const type = res.headers['content-type'] ?? '';
    if (!type.startsWith('application/fhir+json')) findings.push(`error answered as '${type}', not application/fhir+json`);
    try {
      const oo = JSON.parse(res.text) as { resourceType?: string; issue?: unknown[] };
      if (oo.resourceType !== 'OperationOutcome' || !Array.isArray(oo.issue) || oo.issue.length === 0) {
        findings.push('error body is not an OperationOutcome with issues');
      }
    } catch {
      findings.push(`error body is not JSON: ${res.text.slice(0, 120)}`);
    }
  }
  const scrubbed = withoutPayloads(res.text, c.payloads);
  for (const leak of LEAK_PATTERNS) {
    const m = leak.re.exec(scrubbed);
    if (m) findings.push(`leaks ${leak.name}: …${scrubbed.slice(Math.max(0, m.index - 40), m.index + 60)}…`);
  }
  if (res.headers['set-cookie'] !== undefined) findings.push('answer sets a cookie');
  if (res.headerNames.some((h) => /pwned/i.test(h))) findings.push('a header was injected');
  const rid = res.headers['x-request-id'];
  if (rid !== undefined && !REQUEST_ID.test(rid)) findings.push(`unsafe X-Request-Id echoed: ${rid.slice(0, 60)}`);
  // Accepted input may legitimately come back as data in JSON, but never as markup in a narrative.
  if (res.status < 300 && (res.headers['content-type'] ?? '').includes('json')) {
    const divs = (() => {
      try {
        return narratives(JSON.parse(res.text));
      } catch {
        return [];
      }
    })();
    for (const p of c.payloads.filter((x) => x.includes('<'))) {
      if (divs.some((d) => d.includes(p))) findings.push(`unescaped markup in a narrative: ${p}`);
    }
  }
  if (res.status < 300 && /xml|html/.test(res.headers['content-type'] ?? '')) {
    for (const p of c.payloads.filter((x) => x.includes('<'))) if (res.text.includes(p)) findings.push(`unescaped markup in the ${res.headers['content-type']} answer: ${p}`);
  }
  return findings;
}
