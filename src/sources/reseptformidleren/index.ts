// Which Reseptformidleren Helsebro asks, chosen as the summary's sources are (build-sources.ts): the live
// gateway when RESEPTFORMIDLEREN_BASE_URL is set, the store-backed stand-in in demo mode, and in production
// without a URL one that always fails, so that no prescription is stated abroad with a count nobody checked.
import type { Config } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { Queryable } from '../../store/db.ts';
import type { HeaderProvider } from '../http.ts';
import { SourceUnavailableError } from '../source.ts';
import { reseptformidlerenSource, type ReseptformidlerenSource } from './adapter.ts';
import { reseptformidlerenHttpClient, type ReseptformidlerenClient } from './client.ts';
import { reseptformidlerenStoreClient } from './demo-store.ts';

export type { ReseptformidlerenSource } from './adapter.ts';

export type RfConfig = Pick<Config, 'mode' | 'ncp'> & { prescriptionChain: Config['prescriptionChain'] };

export function reseptformidlerenFor(config: RfConfig, db: Queryable, opts: { log?: Logger | undefined; headers?: HeaderProvider } = {}): ReseptformidlerenSource {
  const sender = { herId: config.ncp.herId, orgnr: config.ncp.orgnr, name: config.ncp.name };
  const { baseUrl, timeoutMs } = config.prescriptionChain;
  const client: ReseptformidlerenClient = baseUrl
    ? reseptformidlerenHttpClient({ baseUrl, sender, ...(opts.headers ? { headers: opts.headers } : {}) })
    : config.mode === 'demo'
      ? reseptformidlerenStoreClient(db, sender)
      : notConfigured();
  return reseptformidlerenSource(client, {
    timeoutMs,
    // The kind of failure, never the upstream's words (they may hold personal data).
    onFailure: (call, status, err) => opts.log?.warn({ source: call, status, error: err instanceof Error ? err.name : typeof err }, 'Reseptformidleren did not give a usable answer; failing closed'),
  });
}

function notConfigured(): ReseptformidlerenClient {
  const fail = async (): Promise<never> => {
    throw new SourceUnavailableError('not configured (RESEPTFORMIDLEREN_BASE_URL is not set)');
  };
  return { dispensings: fail, prescriptionList: fail };
}
