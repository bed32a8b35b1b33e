// The size text an ePrescription output states its package content with (the parsing of such texts is
// FEST's: src/registries/fest/package-size.ts). Pure.
import type { FestProduct } from '../registries/fest/types.ts';
import type { M1Message } from './m1/model.ts';

/**
 * The size text that goes with the package content an output states: FEST's Pakningsstr when the content
 * is FEST's amount, else the prescription's own PakningsinfoResept.
 */
export function sizeTextOf(input: { m1: M1Message; product?: FestProduct | undefined }, contentFromFest: boolean): string | undefined {
  if (contentFromFest) return input.product?.package?.size;
  const dok = input.m1.resept.reseptDok;
  const drug = dok.kind === 'ReseptDokLegemiddel' ? dok.forskrivning.legemiddel : undefined;
  return drug?.kind === 'Legemiddelpakning' ? drug.pakningsinfoResept[0]?.pakningsstr : undefined;
}
