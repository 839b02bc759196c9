/** Unnormalised dependence measures kept beside nHSIC: biased HSIC and CKA. */
import { centreBoth } from "./kernels.ts";

/** Biased HSIC, (m-1)^-2 Tr(K H L H), for symmetric m x m kernels. Does not modify its inputs. */
export function biasedHsic(k: Float64Array, l: Float64Array, m: number): number {
  const kc = k.slice();
  centreBoth(kc, m);
  // Tr(HKH L) = <HKH, L>_F for symmetric L.
  let s = 0;
  for (let i = 0; i < kc.length; i++) s += kc[i] * l[i];
  return s / ((m - 1) * (m - 1));
}

/**
 * Centred kernel alignment, HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); with linear kernels this is
 * linear CKA, with Gaussian kernels Gaussian CKA. Does not modify its inputs.
 */
export function cka(k: Float64Array, l: Float64Array, m: number): number {
  const kc = k.slice(), lc = l.slice();
  centreBoth(kc, m);
  centreBoth(lc, m);
  let kl = 0, kk = 0, ll = 0;
  for (let i = 0; i < kc.length; i++) {
    kl += kc[i] * lc[i];
    kk += kc[i] * kc[i];
    ll += lc[i] * lc[i];
  }
  return kl / Math.sqrt(kk * ll);
}
