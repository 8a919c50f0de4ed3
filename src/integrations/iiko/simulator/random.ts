/**
 * Seeded randomness for the iiko demo data and generators. `Rng` is the demo seed's PRNG
 * (mulberry32 seeded by the FNV-1a hash of a stream name, or by a number) — its sequence must
 * not change: the seeded database and the demo simulator both derive from it.
 */
import { Rng } from '../../../util/prng';

export { fnv1a, Rng } from '../../../util/prng';


/** A Russian INN (taxpayer id) with valid check digits: 10 digits (legal entity) or 12 (person). */
export function inn(rng: Rng, length: 10 | 12, region: string): string {
  const check = (digits: string, weights: number[]): string =>
    String((weights.reduce((s, w, i) => s + w * Number(digits[i]), 0) % 11) % 10);
  if (length === 10) {
    const base = region + rng.digits(7);
    return base + check(base, [2, 4, 10, 3, 5, 9, 4, 6, 8]);
  }
  const base = region + rng.digits(8);
  const d11 = base + check(base, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
  return d11 + check(d11, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
}

/**
 * A stateless hash of integers to [0, 1): the same inputs always give the same number, so a
 * generator can compute any (day, department, dish) cell without walking a stream.
 */
export function hash01(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
