;; Exact GELU, y = x·Φ(x), and its gradient dx = dy·(Φ(x) + x·φ(x)), with WebAssembly SIMD (f32x4), for
;; TF.js's wasm backend: one pass over memory each, where TF.js's ops take ~5 kernels forward and ~12
;; backward, each a full pass (Erf and Exp scalar).
;;
;;   Φ(x) = ½(1 + erf(x/√2)),  φ(x) = exp(−x²/2)/√(2π)
;;
;; erf is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the formula and constants TF.js's own Erf kernels
;; use (backend_util.ERF_*): erf(z) = sign(z)·(1 − t·(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·exp(−z²)),
;; t = 1/(1 + p|z|). With z = x/√2, exp(−z²) = exp(−x²/2) is also φ's exponential: computed once.
;; exp is Cephes' expf (range reduction by ln 2, degree-6 polynomial; ~1 ulp), for arguments ≤ 0.
;;
;; Works in TF.js's wasm heap (imported memory); pointers are byte addresses, n ≥ 4 elements. Blocks of 4;
;; the last block is the final 4 elements (overlapping the one before when n % 4 ≠ 0: recomputed, same
;; values), so no element is read or written outside the tensors.
(module
  (import "env" "memory" (memory 0))

  ;; exp(x) for x ≤ 0; below −87 it returns exp(−87) ≈ 1.6e-38 (the smallest normals), far under any use here
  (func $exp (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (local.get $x) (f32x4.splat (f32.const -87.0))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    ;; r = x − n·ln2, ln 2 split in two parts for exactness (Cephes C1, C2)
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    ;; p·r² + r + 1
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (f32x4.splat (f32.const 1.0))))
    ;; · 2^n, n in [−126, 0]: the float with exponent field n + 127
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; Φ(x) given e = exp(−x²/2)
  (func $cdf (param $x v128) (param $e v128) (result v128)
    (local $t v128) (local $q v128) (local $erfAbs v128)
    ;; t = 1/(1 + p·|x/√2|)
    (local.set $t (f32x4.div (f32x4.splat (f32.const 1.0))
      (f32x4.add (f32x4.splat (f32.const 1.0))
        (f32x4.mul (f32x4.abs (local.get $x)) (f32x4.splat (f32.const 0.231641898)))))) ;; p/√2 = 0.3275911/√2
    (local.set $q (f32x4.splat (f32.const 1.061405429)))                                                  ;; a5
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const -1.453152027)))) ;; a4
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const 1.421413741))))  ;; a3
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const -0.284496736)))) ;; a2
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $t)) (f32x4.splat (f32.const 0.254829592))))  ;; a1
    (local.set $erfAbs (f32x4.sub (f32x4.splat (f32.const 1.0))
      (f32x4.mul (f32x4.mul (local.get $q) (local.get $t)) (local.get $e))))
    ;; ½(1 + sign(x)·|erf|)
    (f32x4.mul (f32x4.splat (f32.const 0.5))
      (f32x4.add (f32x4.splat (f32.const 1.0))
        (v128.bitselect (f32x4.neg (local.get $erfAbs)) (local.get $erfAbs)
          (f32x4.lt (local.get $x) (f32x4.splat (f32.const 0.0)))))))

  ;; exp(−x²/2)
  (func $gauss (param $x v128) (result v128)
    (call $exp (f32x4.mul (f32x4.splat (f32.const -0.5)) (f32x4.mul (local.get $x) (local.get $x)))))

  ;; y[i] = x[i]·Φ(x[i]), i < n
  (func (export "gelu") (param $x i32) (param $y i32) (param $n i32)
    (local $o i32) (local $last i32) (local $v v128)
    (local.set $last (i32.shl (i32.sub (local.get $n) (i32.const 4)) (i32.const 2)))
    (local.set $o (i32.const 0))
    (loop $blocks
      ;; past the last full block: do the final 4 elements and stop
      (if (i32.gt_u (local.get $o) (local.get $last)) (then (local.set $o (local.get $last))))
      (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
      (v128.store (i32.add (local.get $y) (local.get $o))
        (f32x4.mul (local.get $v) (call $cdf (local.get $v) (call $gauss (local.get $v)))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br_if $blocks (i32.lt_u (local.get $o) (i32.add (local.get $last) (i32.const 16))))))

  ;; dx[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])), i < n
  (func (export "geluGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32)
    (local $o i32) (local $last i32) (local $v v128) (local $e v128)
    (local.set $last (i32.shl (i32.sub (local.get $n) (i32.const 4)) (i32.const 2)))
    (local.set $o (i32.const 0))
    (loop $blocks
      (if (i32.gt_u (local.get $o) (local.get $last)) (then (local.set $o (local.get $last))))
      (local.set $v (v128.load (i32.add (local.get $x) (local.get $o))))
      (local.set $e (call $gauss (local.get $v)))
      (v128.store (i32.add (local.get $dx) (local.get $o))
        (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $o)))
          (f32x4.add (call $cdf (local.get $v) (local.get $e))
            (f32x4.mul (local.get $v) (f32x4.mul (local.get $e) (f32x4.splat (f32.const 0.398942280401432678))))))) ;; 1/√(2π)
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br_if $blocks (i32.lt_u (local.get $o) (i32.add (local.get $last) (i32.const 16))))))
)
