// A multipack as FEST (and the prescriptions and dispensing reports naming FEST packages) writes its size:
// "2 x 150" doses is two sprays of 150 doses each, "2 x 7 x 1" ml two series of seven 1 ml ampoules. The EU
// outputs of both bridges state such a package as nested containers rather than as one total (300), so that
// a pharmacist sees what is on the shelf. Pure.

/** The factors of a size text ("2 x 150", "2x7x1", "10 × 2,5"), outermost first; undefined unless all are positive numbers. */
export function sizeFactors(text: string): number[] | undefined {
  const factors = text.replace(/,/g, '.').split(/\s*[x×*]\s*/i).map((f) => (f.trim() === '' ? Number.NaN : Number(f.trim())));
  if (!factors.length || factors.some((f) => !Number.isFinite(f) || f <= 0)) return undefined;
  return factors;
}

export interface PackageLevels {
  /** What one innermost item holds, in the package unit (150 of "2 x 150"). */
  item: number;
  /** How many of the level below each container holds, innermost first: [2] for "2 x 150", [7, 2] for "2 x 7 x 1". */
  counts: number[];
}

/** eHDSI nests a package at most three containers deep (the innermost and two around it). */
const MAX_OUTER_LEVELS = 2;

/**
 * The nesting a size text states, when it is a multipack whose factors multiply to the package's total.
 * Undefined for a single level, for counts that are not whole numbers, for deeper nesting than eHDSI allows,
 * and when the total disagrees (then the text is no reliable breakdown and the total alone is stated).
 */
export function packageLevels(size: string | undefined, total: number): PackageLevels | undefined {
  const factors = size === undefined ? undefined : sizeFactors(size);
  if (!factors || factors.length < 2 || factors.length - 1 > MAX_OUTER_LEVELS) return undefined;
  const item = factors[factors.length - 1]!;
  const counts = factors.slice(0, -1).reverse();
  if (counts.some((c) => !Number.isInteger(c))) return undefined;
  const product = counts.reduce((a, b) => a * b, item);
  if (Math.abs(product - total) > 1e-9 * Math.max(1, total)) return undefined;
  return { item, counts };
}
