// Drug master data for enrichment: a product by varenummer, FEST id, or ATC + name, resolved to what the
// EU documents need (strength, active substance, route, package, dose form). A product FEST does not know
// is not an error: the caller converts from what the M1 says and passes the warning on.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { isProductRoot, relatedIds, resolveProduct, type ProductRoot } from './fest/product.ts';
import { findByAtc, findPakningByVarenr, getFestRecord, getFestRecords } from './fest/repository.ts';
import type { FestProduct, FestRecord } from './fest/types.ts';

export interface DrugRegistry {
  byVarenr(varenr: string): Promise<FestProduct | undefined>;
  byFestId(festId: string): Promise<FestProduct | undefined>;
  /** The product with this ATC whose name (NavnFormStyrke) best matches, if any matches well enough. */
  byAtcAndName(atc: string, name: string): Promise<FestProduct | undefined>;
}

/** Stable codes for enrichment warnings, in `issue.details.coding`. */
export const REGISTRY_ISSUE_SYSTEM = 'https://helsebro.no/fhir/CodeSystem/registry-issue';

/** The registry over the FEST tables of the store. */
export function festDrugRegistry(q: Queryable): DrugRegistry {
  const complete = async (root: ProductRoot): Promise<FestProduct> => {
    const known = new Map<string, FestRecord>([[root.id, root]]);
    // Three hops at most (brand, substance with strength, substance); the guard stops a cyclic catalogue.
    for (let hop = 0; hop < 4; hop++) {
      const ids = relatedIds(root, known);
      if (!ids.length) break;
      for (const [id, r] of await getFestRecords(q, ids)) known.set(id, r);
      if (ids.every((id) => !known.has(id))) break;
    }
    return resolveProduct(root, known);
  };
  return {
    async byVarenr(varenr) {
      const v = varenr.trim();
      if (!/^\d{1,12}$/.test(v)) return undefined;
      // Varenummer is six digits with leading zeros ("026721"); a sender that dropped the zeros still matches.
      const root = (await findPakningByVarenr(q, v)) ?? (v.length < 6 ? await findPakningByVarenr(q, v.padStart(6, '0')) : undefined);
      return root ? complete(root) : undefined;
    },
    async byFestId(festId) {
      const record = await getFestRecord(q, festId.trim());
      return record && isProductRoot(record) ? complete(record) : undefined;
    },
    async byAtcAndName(atc, name) {
      const candidates = (await findByAtc(q, atc.replace(/\s+/g, '').toUpperCase(), ['merkevare', 'legemiddel-virkestoff', 'pakning']))
        .filter(isProductRoot);
      const best = bestByName(candidates, name);
      return best ? complete(best) : undefined;
    },
  };
}

/** Name comparison as FEST writes names: case, spacing and decimal comma do not matter. */
export function normaliseDrugName(name: string): string[] {
  return name
    .toLowerCase()
    .replace(/(\d),(\d)/g, '$1.$2')
    .replace(/[^\p{L}\p{N}.%/]+/gu, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
}

const MIN_NAME_SCORE = 0.6;
// A brand or generic entry describes the product; a package entry is one of several with the same name.
const KIND_RANK: Record<ProductRoot['kind'], number> = { merkevare: 0, 'legemiddel-virkestoff': 1, pakning: 2 };

export function bestByName(candidates: ProductRoot[], name: string): ProductRoot | undefined {
  const wanted = normaliseDrugName(name);
  if (!wanted.length) return undefined;
  const scored = candidates
    .map((c) => {
      const have = normaliseDrugName(c.data.name);
      const common = wanted.filter((w) => have.includes(w)).length;
      const score = common / Math.max(wanted.length, have.length);
      return { c, score };
    })
    .filter((s) => s.score >= MIN_NAME_SCORE)
    .sort(
      (a, b) =>
        b.score - a.score ||
        Number(b.c.meta.status === 'A') - Number(a.c.meta.status === 'A') ||
        KIND_RANK[a.c.kind] - KIND_RANK[b.c.kind] ||
        a.c.id.localeCompare(b.c.id),
    );
  return scored[0]?.c;
}

export interface ProductReference {
  varenr?: string | undefined;
  festId?: string | undefined;
  atc?: string | undefined;
  /** NavnFormStyrke as the message gives it. */
  name?: string | undefined;
}

export interface ProductLookup {
  product?: FestProduct;
  matchedBy?: 'varenr' | 'fest-id' | 'atc-name';
  /** Warnings for the conversion's OperationOutcome (unknown product, expired entry, ATC mismatch ...). */
  warnings: OperationOutcomeIssue[];
}

const ISSUE_TYPE: Record<string, OperationOutcomeIssue['code']> = {
  'FEST-UNKNOWN-PRODUCT': 'not-found',
  'FEST-EXPIRED-ENTRY': 'business-rule',
  'FEST-ATC-MISMATCH': 'business-rule',
  'FEST-MATCHED-BY-NAME': 'informational',
};

const registryIssue = (
  severity: 'warning' | 'information',
  code: keyof typeof ISSUE_TYPE,
  diagnostics: string,
  expression: string | undefined,
): OperationOutcomeIssue => ({
  severity,
  code: ISSUE_TYPE[code] ?? 'informational',
  diagnostics,
  details: { coding: [{ system: REGISTRY_ISSUE_SYSTEM, code }], text: diagnostics },
  ...(expression ? { expression: [expression] } : {}),
});

/**
 * Finds the product a prescription names: by varenummer, else FEST id, else ATC + name. Never fails: a
 * product FEST does not know comes back without `product` and with a warning saying the conversion uses the
 * message's own data.
 */
export async function findProduct(
  registry: DrugRegistry,
  ref: ProductReference,
  opts: { expression?: string } = {},
): Promise<ProductLookup> {
  const warnings: OperationOutcomeIssue[] = [];
  let product: FestProduct | undefined;
  let matchedBy: ProductLookup['matchedBy'];
  if (ref.varenr) {
    product = await registry.byVarenr(ref.varenr);
    if (product) matchedBy = 'varenr';
  }
  if (!product && ref.festId) {
    product = await registry.byFestId(ref.festId);
    if (product) matchedBy = 'fest-id';
  }
  if (!product && ref.atc && ref.name) {
    product = await registry.byAtcAndName(ref.atc, ref.name);
    if (product) {
      matchedBy = 'atc-name';
      if (ref.varenr || ref.festId) {
        warnings.push(
          registryIssue(
            'information',
            'FEST-MATCHED-BY-NAME',
            `Varenummer/FEST id not found in FEST; matched '${ref.name}' by ATC ${ref.atc} and name to '${product.name}'`,
            opts.expression,
          ),
        );
      }
    }
  }
  const named = ref.name ?? ref.varenr ?? ref.festId ?? ref.atc ?? 'the product';
  if (!product) {
    const keys = [ref.varenr && `varenummer ${ref.varenr}`, ref.festId && `FEST id ${ref.festId}`, ref.atc && `ATC ${ref.atc}`]
      .filter(Boolean)
      .join(', ');
    warnings.push(
      registryIssue(
        'warning',
        'FEST-UNKNOWN-PRODUCT',
        `'${named}' (${keys || 'no identifiers'}) is not in FEST; converted from the prescription's own data without strength, substance and route details`,
        opts.expression,
      ),
    );
    return { warnings };
  }
  if (product.status !== 'A') {
    warnings.push(
      registryIssue('warning', 'FEST-EXPIRED-ENTRY', `FEST lists '${product.name}' as no longer active (status ${product.status})`, opts.expression),
    );
  }
  if (ref.atc && product.atc && ref.atc.replace(/\s+/g, '').toUpperCase() !== product.atc.code) {
    warnings.push(
      registryIssue(
        'warning',
        'FEST-ATC-MISMATCH',
        `The prescription says ATC ${ref.atc} but FEST has ${product.atc.code} for '${product.name}'`,
        opts.expression,
      ),
    );
  }
  return matchedBy ? { product, matchedBy, warnings } : { product, warnings };
}
