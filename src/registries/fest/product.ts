// Resolving one product across the catalogue: package -> brand -> substances with strength -> substance
// names. Pure: the caller fetches the related records (relatedIds tells which) and passes them in.
import type {
  Administration,
  FestIngredient,
  FestProduct,
  FestRecord,
  FestRecordOf,
  IngredientRef,
  MerkevareData,
} from './types.ts';

export type ProductRoot = FestRecordOf<'pakning'> | FestRecordOf<'merkevare'> | FestRecordOf<'legemiddel-virkestoff'>;

export const isProductRoot = (r: FestRecord): r is ProductRoot =>
  r.kind === 'pakning' || r.kind === 'merkevare' || r.kind === 'legemiddel-virkestoff';

/**
 * The ids to fetch next to resolve `root`, given what is already known. Call repeatedly until it returns
 * nothing new: brands first, then substances with strength, then substances.
 */
export function relatedIds(root: ProductRoot, known: ReadonlyMap<string, FestRecord>): string[] {
  const wanted = new Set<string>();
  const brands = brandsOf(root, known);
  if (root.kind === 'pakning') for (const p of root.data.packages) wanted.add(p.merkevareRef);
  const ingredientOwners: { ingredients: IngredientRef[]; substances: IngredientRef[] }[] =
    root.kind === 'legemiddel-virkestoff' ? [root.data] : brands.map((b) => b.data);
  for (const owner of ingredientOwners) {
    for (const i of owner.ingredients) {
      wanted.add(i.ref);
      const vms = known.get(i.ref);
      if (vms?.kind === 'virkestoff-med-styrke') wanted.add(vms.data.substanceRef);
    }
    for (const s of owner.substances) wanted.add(s.ref);
  }
  return [...wanted].filter((id) => !known.has(id));
}

function brandsOf(root: ProductRoot, known: ReadonlyMap<string, FestRecord>): FestRecordOf<'merkevare'>[] {
  if (root.kind === 'merkevare') return [root];
  if (root.kind === 'legemiddel-virkestoff') return [];
  return root.data.packages
    .map((p) => known.get(p.merkevareRef))
    .filter((r): r is FestRecordOf<'merkevare'> => r?.kind === 'merkevare');
}

function ingredientsOf(owner: { ingredients: IngredientRef[]; substances: IngredientRef[] }, known: ReadonlyMap<string, FestRecord>): FestIngredient[] {
  const out: FestIngredient[] = [];
  const substance = (id: string): FestIngredient | undefined => {
    const v = known.get(id);
    if (v?.kind !== 'virkestoff') return undefined;
    const ing: FestIngredient = { substance: v.data.name, substanceId: v.id };
    if (v.data.nameEnglish) ing.substanceEnglish = v.data.nameEnglish;
    return ing;
  };
  for (const ref of owner.ingredients) {
    const vms = known.get(ref.ref);
    if (vms?.kind !== 'virkestoff-med-styrke') continue;
    const ing = substance(vms.data.substanceRef) ?? { substance: vms.data.substanceRef };
    ing.strength = vms.data.strength;
    if (vms.data.denominator) ing.denominator = vms.data.denominator;
    out.push(ing);
  }
  for (const ref of owner.substances) {
    const ing = substance(ref.ref);
    if (ing && !out.some((o) => o.substanceId === ing.substanceId)) out.push(ing);
  }
  return out;
}

/** The product as enrichment sees it. Missing related records leave the matching fields empty. */
export function resolveProduct(root: ProductRoot, known: ReadonlyMap<string, FestRecord>): FestProduct {
  const brand = brandsOf(root, known)[0];
  const brandData: MerkevareData | undefined = brand?.data;
  const d = root.data;
  const admin: Administration | undefined = d.administration ?? brandData?.administration;
  const product: FestProduct = {
    kind: root.kind,
    festId: root.id,
    status: root.meta.status,
    name: d.name,
    prescriptionGroup: d.prescriptionGroup,
    routes: admin?.routes ?? [],
    soleRoute: admin?.routes.length === 1 ? admin.routes : [],
    doseUnits: admin?.doseUnits ?? [],
    ingredients: ingredientsOf(root.kind === 'legemiddel-virkestoff' ? root.data : (brandData ?? { ingredients: [], substances: [] }), known),
  };
  const atc = d.atc ?? brandData?.atc;
  if (atc) product.atc = atc;
  const productType = d.productType ?? brandData?.productType;
  if (productType) product.productType = productType;
  const doseForm = d.doseForm ?? brandData?.doseForm;
  if (doseForm) product.doseForm = doseForm;
  if (brandData?.doseFormText) product.doseFormText = brandData.doseFormText;
  if (brandData?.manufacturer) product.manufacturer = brandData.manufacturer;
  const validity = brandData?.prescriptionValidity.find((v) => !v.sex)?.duration ?? brandData?.prescriptionValidity[0]?.duration;
  if (validity) product.prescriptionValidity = validity;
  if (brand) product.merkevareId = brand.id;
  if (root.kind === 'merkevare') product.brandName = root.data.brandName;
  if (root.kind === 'pakning') {
    product.varenr = root.data.varenr;
    const brandName = brandData?.brandName ?? root.data.prescriptionPackage?.name;
    if (brandName) product.brandName = brandName;
    if (root.data.storage) product.storage = root.data.storage;
    const info = root.data.packages[0];
    const pr = root.data.prescriptionPackage;
    if (info) {
      product.package = { size: info.size, amount: info.amount, unit: info.unit, packageType: info.packageType };
    } else if (pr) {
      product.package = { size: pr.size, unit: pr.unit };
    }
    const ean = root.data.ean[0];
    if (product.package && ean) product.package.ean = ean;
  }
  return product;
}
