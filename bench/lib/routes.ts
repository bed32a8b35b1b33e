// Which endpoints the server serves right now, from its own route table: cases for endpoints other
// engineers are still building run as soon as the route exists, and say "not yet served" until then.
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import type { RouteDef } from '../../src/http/types.ts';

export function findRoute(method: RouteDef['method'], path: string): RouteDef | undefined {
  return allDocumentedRoutes().find((r) => r.method === method && r.path === path);
}

export const SUMMARY_PATH = '/Patient/:id/$summary';
export const PS_PATH = '/Patient/:id/$ehdsi-ps';
