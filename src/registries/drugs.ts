// Drug master data for enrichment: the product a prescription names by identity (varenummer or FEST id),
// resolved to what the EU documents need (strength, active substance, route, package, dose form). Never by
// similarity: a product FEST does not know is converted from what the M1 says, with a warning naming the
// missing record, rather than from another product that happens to share its ATC code or name.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { isProductRoot, relatedIds, resolveProduct, type ProductRoot } from './fest/product.ts';
import { findPakningByVarenr, getFestRecord, getFestRecords } from './fest/repository.ts';
import type { FestProduct, FestRecord } from './fest/types.ts';

export interface DrugRegistry {
  byVarenr(varenr: string): Promise<FestProduct | undefined>;
  byFestId(festId: string): Promise<FestProduct | undefined>;
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
  };
}

export interface ProductReference {
  /** The catalogue the prescription names its drug in ("Legemiddelpakning" ...), for the warning text. */
  kind: string;
  /** Varenummer: a package is identified by it alone. */
  varenr?: string | undefined;
  /** FEST id (Merkevare, LegemiddelVirkestoff; on a package only checked against the varenummer). */
  festId?: string | undefined;
  atc?: string | undefined;
  /** NavnFormStyrke as the message gives it; only for the warning text, never to look up. */
  name?: string | undefined;
}

export interface ProductLookup {
  product?: FestProduct;
  matchedBy?: 'varenr' | 'fest-id';
  /** Warnings for the conversion's OperationOutcome (unknown product, expired entry, ATC mismatch ...). */
  warnings: OperationOutcomeIssue[];
}

const ISSUE_TYPE: Record<string, OperationOutcomeIssue['code']> = {
  'FEST-UNKNOWN-PRODUCT': 'not-found',
  'FEST-EXPIRED-ENTRY': 'business-rule',
  'FEST-ATC-MISMATCH': 'business-rule',
};

const registryIssue = (code: keyof typeof ISSUE_TYPE, diagnostics: string, expression: string | undefined): OperationOutcomeIssue => ({
  severity: 'warning',
  code: ISSUE_TYPE[code] ?? 'informational',
  diagnostics,
  details: { coding: [{ system: REGISTRY_ISSUE_SYSTEM, code }], text: diagnostics },
  ...(expression ? { expression: [expression] } : {}),
});

/** Varenummer as FEST keys it: six digits with leading zeros. */
export const normalVarenr = (v: string): string => v.trim().padStart(6, '0');

/** The FEST record the prescription names, in words: "Legemiddelpakning with varenummer 485342". */
export function describeReference(ref: ProductReference): string {
  const key = ref.varenr ? `varenummer ${ref.varenr.trim()}` : ref.festId ? `FEST id ${ref.festId.trim()}` : 'no identifier';
  return `${ref.kind} with ${key}`;
}

/**
 * The product a prescription names, by identity only: a package by its varenummer (a FEST id on it must be
 * that same package's), any other drug by its FEST id. Never fails: a product FEST does not know comes back
 * without `product` and with a warning naming the missing record; the conversion then says only what the M1
 * says.
 */
export async function findProduct(registry: DrugRegistry, ref: ProductReference, opts: { expression?: string } = {}): Promise<ProductLookup> {
  const warnings: OperationOutcomeIssue[] = [];
  let product: FestProduct | undefined;
  let matchedBy: ProductLookup['matchedBy'];
  if (ref.varenr) {
    product = await registry.byVarenr(ref.varenr);
    if (product) matchedBy = 'varenr';
    else if (ref.festId) {
      const byId = await registry.byFestId(ref.festId);
      // The id names the package only when it is the package with the prescribed varenummer.
      if (byId?.varenr && normalVarenr(byId.varenr) === normalVarenr(ref.varenr)) {
        product = byId;
        matchedBy = 'fest-id';
      }
    }
  } else if (ref.festId) {
    product = await registry.byFestId(ref.festId);
    if (product) matchedBy = 'fest-id';
  }
  if (!product) {
    const named = ref.name ? ` ('${ref.name}')` : '';
    warnings.push(
      registryIssue(
        'FEST-UNKNOWN-PRODUCT',
        `FEST has no ${describeReference(ref)}${named}; the EU prescription carries only what the M1 states (name, ATC, form, package), without strength, substance, route or maker`,
        opts.expression,
      ),
    );
    return { warnings };
  }
  if (product.status !== 'A') {
    warnings.push(registryIssue('FEST-EXPIRED-ENTRY', `FEST lists '${product.name}' as no longer active (status ${product.status})`, opts.expression));
  }
  if (ref.atc && product.atc && ref.atc.replace(/\s+/g, '').toUpperCase() !== product.atc.code) {
    warnings.push(
      registryIssue('FEST-ATC-MISMATCH', `The prescription says ATC ${ref.atc} but FEST has ${product.atc.code} for '${product.name}'`, opts.expression),
    );
  }
  return matchedBy ? { product, matchedBy, warnings } : { product, warnings };
}
