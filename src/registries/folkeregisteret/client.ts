// How Helsebro asks Folkeregisteret for a person. Two implementations share this interface: the live HTTP
// client below and the demo stand-in (demo.ts). Both hand back the raw JSON the register would send;
// parsing and validation happen once (read.ts), for both.

export interface FolkeregisteretClient {
  /** The person document for a fødselsnummer or D-nummer; undefined when the register has no such person. */
  person(personNumber: string, signal: AbortSignal): Promise<unknown>;
}

export interface FolkeregisteretHttpOptions {
  /** e.g. https://folkeregisteret.api.skatteetaten.no/folkeregisteret/offentlig-med-hjemmel/api/v1 */
  baseUrl: string;
  /** Authorization (Maskinporten token) of the deployment. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /** Largest answer accepted; a person document is a few kilobytes. */
  maxBytes?: number;
}

export class FolkeregisteretError extends Error {
  override name = 'FolkeregisteretError';
}

/**
 * The register's person lookup: GET {base}/personer/{personidentifikator}?part=..., only the parts
 * Helsebro reads. The register's API puts the number in the path; Helsebro's own logs mask it.
 */
export function folkeregisteretHttpClient(opts: FolkeregisteretHttpOptions): FolkeregisteretClient {
  const parts = ['identifikasjonsnummer', 'navn', 'kjoenn', 'foedsel', 'bostedsadresse', 'adressebeskyttelse', 'foreldreansvar', 'vergemaalEllerFremtidsfullmakt'];
  return {
    async person(personNumber, signal) {
      if (!/^\d{11}$/.test(personNumber)) return undefined;
      const url = new URL(`${opts.baseUrl.replace(/\/$/, '')}/personer/${personNumber}`);
      for (const p of parts) url.searchParams.append('part', p);
      let res: Response;
      try {
        res = await fetch(url, { headers: { accept: 'application/json', ...(await opts.headers?.()) }, signal, redirect: 'error' });
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        throw new FolkeregisteretError('Folkeregisteret not reachable');
      }
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new FolkeregisteretError(`Folkeregisteret answered HTTP ${res.status}`);
      }
      const text = await res.text();
      if (text.length > (opts.maxBytes ?? 1024 * 1024)) throw new FolkeregisteretError('Folkeregisteret answer too large');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new FolkeregisteretError('Folkeregisteret answer is not JSON');
      }
    },
  };
}
