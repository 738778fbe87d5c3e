;; Exact GELU, y = x·Φ(x), and its slope Φ(x) + x·φ(x) (dx = dy·slope), with WebAssembly SIMD (f32x4), for
;; TF.js's wasm backend: one pass over memory, where TF.js's ops take ~5 kernels forward and ~12 backward,
;; each a full pass (Erf and Exp scalar). The slope is written forward, where its exponential is already at
;; hand, and saved for the backward pass in place of x (the same memory): backward is then one multiply
;; instead of this whole pass again.
;;
;;   Φ(x) = ½(1 + erf(x/√2)),  φ(x) = exp(−x²/2)/√(2π)
;;
;; erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the formula and constants TF.js's own Erf kernels
;; use (backend_util.ERF_*): erf(z) = sign(z)·(1 − t·(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·exp(−z²)),
;; t = 1/(1 + p|z|). With z = x/√2, exp(−z²) = exp(−x²/2) is also φ's exponential: computed once.
;; exp is Cephes' expf (range reduction by ln 2, degree-6 polynomial; ~1 ulp), for arguments ≤ 0; n, the
;; power of two, is rounded with the 1.5·2²³ trick so that 2ⁿ is its float's bits shifted (fewer
;; instructions than nearest + trunc_sat, which is what bounds this loop).
;;
;; Written out in full because engines do not inline calls taking vectors. Works in TF.js's wasm heap (imported memory);
;; pointers are byte addresses, n ≥ 4 elements. Blocks of 4; the last block is the final 4 elements
;; (overlapping the one before when n % 4 ≠ 0: recomputed, same values), so no element is read or written
;; outside the tensors.
(module
  (import "env" "memory" (memory 0))

  (func (export "gelu") (param $x i32) (param $y i32) (param $slope i32) (param $n i32)
    (local $o i32) (local $last i32) (local $v v128) (local $a v128) (local $k v128) (local $m v128)
    (local $r v128) (local $p v128) (local $e v128) (local $t v128) (local $q v128) (local $cdf v128)
    (local.set $last (i32.shl (i32.sub (local.get $n) (i32.const 4)) (i32.const 2)))
    (loop $blocks
      ;; past the last full block: do the final 4 elements and stop
      (if (i32.gt_u (local.get $o) (local.get $last)) (then (local.set $o (local.get $last))))
      (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
      ;; e = exp(a), a = −x²/2 ≥ −87 (below, e is exp(−87) ≈ 1.6e-38, far under any use here)
      (local.set $a (f32x4.pmax (f32x4.mul (f32x4.splat (f32.const -0.5)) (f32x4.mul (local.get $v) (local.get $v)))
        (f32x4.splat (f32.const -87.0))))
      ;; k = a·log2(e) + 1.5·2²³: its low bits hold n = round(a·log2 e) (n in [−126, 0]), m = n as a float
      (local.set $k (f32x4.add (f32x4.mul (local.get $a) (f32x4.splat (f32.const 1.44269504088896341)))
        (f32x4.splat (f32.const 12582912.0))))
      (local.set $m (f32x4.sub (local.get $k) (f32x4.splat (f32.const 12582912.0))))
      ;; r = a − n·ln2, ln 2 in two parts for exactness (Cephes C1, C2)
      (local.set $r (f32x4.sub (local.get $a) (f32x4.mul (local.get $m) (f32x4.splat (f32.const 0.693359375)))))
      (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $m) (f32x4.splat (f32.const -2.12194440e-4)))))
      (local.set $p (f32x4.add (f32x4.mul (f32x4.splat (f32.const 1.9875691500e-4)) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
      (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
      ;; (p·r² + r + 1)·2ⁿ; 2ⁿ is the float whose exponent field is n + 127: k's bits + (127 − 0x4B400000) ≪ 23
      (local.set $e (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
          (f32x4.splat (f32.const 1.0)))
        (i32x4.shl (i32x4.sub (local.get $k) (i32x4.splat (i32.const 0x4B3FFF81))) (i32.const 23))))
      ;; Φ(x): t = 1/(1 + p·|x/√2|), p/√2 = 0.3275911/√2
      (local.set $t (f32x4.div (f32x4.splat (f32.const 1.0))
        (f32x4.add (f32x4.splat (f32.const 1.0)) (f32x4.mul (f32x4.abs (local.get $v)) (f32x4.splat (f32.const 0.231641898))))))
      (local.set $q (f32x4.add (f32x4.mul (f32x4.splat (f32.const 1.061405429)) (local.get $t)) (f32x4.splat (f32.const -1.453152027)))) ;; a5, a4
      (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const 1.421413741))))  ;; a3
      (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const -0.284496736)))) ;; a2
      (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const 0.254829592))))  ;; a1
      ;; |erf| = 1 − q·t·e; Φ = ½(1 + sign(x)·|erf|)
      (local.set $q (f32x4.sub (f32x4.splat (f32.const 1.0)) (f32x4.mul (f32x4.mul (local.get $q) (local.get $t)) (local.get $e))))
      (local.set $cdf (f32x4.mul (f32x4.splat (f32.const 0.5))
        (f32x4.add (f32x4.splat (f32.const 1.0))
          (v128.xor (local.get $q) (v128.and (local.get $v) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))))
      ;; y = x·Φ(x), slope = Φ(x) + x·e/√(2π)
      (v128.store (i32.add (local.get $y) (local.get $o)) (f32x4.mul (local.get $v) (local.get $cdf)))
      (v128.store (i32.add (local.get $slope) (local.get $o))
        (f32x4.add (local.get $cdf)
          (f32x4.mul (local.get $v) (f32x4.mul (local.get $e) (f32x4.splat (f32.const 0.398942280401432678))))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br_if $blocks (i32.lt_u (local.get $o) (i32.add (local.get $last) (i32.const 16))))))
)
