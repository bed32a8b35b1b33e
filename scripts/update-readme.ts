// `npm run docs`: regenerates the README's endpoint table from the route table.
import { readFileSync, writeFileSync } from 'node:fs';
import { endpointTable, withEndpointTable } from '../src/http/endpoint-table.ts';
import { allDocumentedRoutes } from '../src/http/routes.ts';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withEndpointTable(readFileSync(path, 'utf8'), endpointTable(allDocumentedRoutes())));
process.stdout.write('README endpoint table updated\n');
