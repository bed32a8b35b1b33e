// Which Folkeregisteret answers: the live register when FOLKEREGISTERET_BASE_URL is set, the demo stand-in
// in demo mode, and in production without a base URL a register that always fails, so that every caller
// takes its fail-closed path (addresses withheld, guardians refused) instead of reading demo data.
import type { Queryable } from '../../store/db.ts';
import { folkeregisteretHttpClient, FolkeregisteretError, type FolkeregisteretClient } from './client.ts';
import { folkeregisteretDemoClient } from './demo.ts';

export interface FolkeregisteretConfig {
  mode: 'demo' | 'production';
  sources: { folkeregisteretBaseUrl: string | undefined };
}

export function folkeregisteretFor(config: FolkeregisteretConfig, db: Queryable): FolkeregisteretClient {
  const baseUrl = config.sources.folkeregisteretBaseUrl;
  if (baseUrl) return folkeregisteretHttpClient({ baseUrl });
  if (config.mode === 'demo') return folkeregisteretDemoClient(db);
  return {
    person: async () => {
      throw new FolkeregisteretError('Folkeregisteret is not configured (FOLKEREGISTERET_BASE_URL is not set)');
    },
  };
}

export { FolkeregisteretError, type FolkeregisteretClient } from './client.ts';
export { addressProtection, populationFacts, protectedAddress, readFregPerson, type PopulationFacts, type Representative } from './read.ts';
export type { Gradering } from './types.ts';
