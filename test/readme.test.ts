import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointTable, withEndpointTable } from '../src/http/endpoint-table.ts';
import { allDocumentedRoutes } from '../src/http/routes.ts';

describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('documents every served endpoint with its scope (run `npm run docs` after changing routes)', () => {
    expect(withEndpointTable(readme, endpointTable(allDocumentedRoutes()))).toBe(readme);
  });

  it('shows the two commands a newcomer needs', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
