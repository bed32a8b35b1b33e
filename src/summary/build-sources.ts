// Which adapters answer for each source: the live HTTP clients when an upstream base URL is configured,
// the store-backed stand-ins in demo mode, and in production without a base URL a source that fails
// (so its sections say unavailable) rather than silently serving demo data.
import type { Queryable } from '../store/db.ts';
import type { HeaderProvider } from '../sources/http.ts';
import { kjernejournalSource } from '../sources/kjernejournal/adapter.ts';
import { kjernejournalHttpClient } from '../sources/kjernejournal/client.ts';
import { kjernejournalStoreClient } from '../sources/kjernejournal/demo-store.ts';
import { medicationListSource } from '../sources/medication-list/adapter.ts';
import { medicationListHttpClient } from '../sources/medication-list/client.ts';
import { medicationListStoreClient } from '../sources/medication-list/demo-store.ts';
import { registryEpisodeSource } from '../sources/registry-episodes/adapter.ts';
import { SourceUnavailableError, type SourceName, type SummarySource } from '../sources/source.ts';

/** The part of the typed configuration (src/config.ts) this needs; the Config object itself fits. */
export interface SummarySourceConfig {
  mode: 'demo' | 'production';
  sources: { kjernejournalBaseUrl: string | undefined; medicationListBaseUrl: string | undefined };
}

export interface SourceOptions {
  /** Per-request headers for the live upstreams (HelseID token, nhn-* headers). */
  headers?: Partial<Record<'kjernejournal' | 'medication-list', HeaderProvider>>;
}

export function buildSummarySources(
  config: SummarySourceConfig,
  db: Queryable,
  opts: SourceOptions = {},
): SummarySource[] {
  const { kjernejournalBaseUrl, medicationListBaseUrl } = config.sources;
  const kj = kjernejournalBaseUrl
    ? kjernejournalSource(kjernejournalHttpClient({ baseUrl: kjernejournalBaseUrl, ...(opts.headers?.kjernejournal ? { headers: opts.headers.kjernejournal } : {}) }))
    : config.mode === 'demo'
      ? kjernejournalSource(kjernejournalStoreClient(db))
      : notConfigured('kjernejournal', 'KJERNEJOURNAL_BASE_URL');
  const pll = medicationListBaseUrl
    ? medicationListSource(medicationListHttpClient({ baseUrl: medicationListBaseUrl, ...(opts.headers?.['medication-list'] ? { headers: opts.headers['medication-list'] } : {}) }))
    : config.mode === 'demo'
      ? medicationListSource(medicationListStoreClient(db))
      : notConfigured('medication-list', 'MEDICATION_LIST_BASE_URL');
  return [kj, pll, registryEpisodeSource(db, 'npr'), registryEpisodeSource(db, 'kpr')];
}

function notConfigured(name: SourceName, variable: string): SummarySource {
  return {
    name,
    fetch: async () => {
      throw new SourceUnavailableError(`not configured (${variable} is not set)`);
    },
  };
}
