// FEST held in memory, for conversions that run without a store (the convert-m1 command): the catalogue
// file is read with the FEST M30 parser of src/registries and indexed here; products are resolved and
// resolved exactly as the store-backed registry does (resolveProduct), by identity only.
import { createReadStream } from 'node:fs';
import type { DrugRegistry } from '../registries/drugs.ts';
import { parseFest } from '../registries/fest/m30-parser.ts';
import { isProductRoot, relatedIds, resolveProduct, type ProductRoot } from '../registries/fest/product.ts';
import type { FestProduct, FestRecord } from '../registries/fest/types.ts';

/** Reads every record of a FEST M30 file (entries that break the schema are left out, as the loader does). */
export async function readFestRecords(path: string): Promise<FestRecord[]> {
  const records: FestRecord[] = [];
  for await (const e of parseFest(createReadStream(path))) if (e.type === 'record') records.push(e.record);
  return records;
}

export function memoryDrugRegistry(records: Iterable<FestRecord>): DrugRegistry {
  const byId = new Map<string, FestRecord>();
  const byVarenr = new Map<string, ProductRoot>();
  for (const r of records) {
    byId.set(r.id, r);
    if (!isProductRoot(r)) continue;
    if (r.kind === 'pakning') {
      const earlier = byVarenr.get(r.data.varenr);
      // An active entry before an expired one.
      if (!earlier || (earlier.meta.status !== 'A' && r.meta.status === 'A')) byVarenr.set(r.data.varenr, r);
    }
  }
  const complete = (root: ProductRoot): FestProduct => {
    const known = new Map<string, FestRecord>([[root.id, root]]);
    for (let hop = 0; hop < 4; hop++) {
      const ids = relatedIds(root, known).filter((id) => byId.has(id));
      if (!ids.length) break;
      for (const id of ids) known.set(id, byId.get(id)!);
    }
    return resolveProduct(root, known);
  };
  return {
    async byVarenr(varenr) {
      const v = varenr.trim();
      if (!/^\d{1,12}$/.test(v)) return undefined;
      const root = byVarenr.get(v) ?? (v.length < 6 ? byVarenr.get(v.padStart(6, '0')) : undefined);
      return root ? complete(root) : undefined;
    },
    async byFestId(festId) {
      const r = byId.get(festId.trim());
      return r && isProductRoot(r) ? complete(r) : undefined;
    },
  };
}
