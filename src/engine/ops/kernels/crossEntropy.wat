;; Next-token cross-entropy per row, and its gradient, with WebAssembly SIMD (f32x4), for TF.js's wasm backend:
;; the formulas of the WebGPU programs (src/worker/webgpu/crossEntropy.ts), over logits z (N rows × V):
;;
;;   nll_r = −(z_rt − m_r − log s_r),   m_r = max_j z_rj,   s_r = Σ_j e^(z_rj − m_r)
;;   dz_rj = dnll_r · (e^(z_rj − m_r) / s_r − [j = t_r])
;;
;; There is no log in WebAssembly: `stats` writes m_r and s_r, and the caller finishes nll_r (one log per row).
;; A target outside [0, V) counts as the stock ops count it (its one-hot row is all zeros): gradient 0.
;; exp is Cephes' expf as in softmax.wat (arguments ≤ 0: a logit minus its row's maximum).
;;
;; V ≥ 4. A row's last V mod 4 logits are the final 4-block of the row, overlapping the one before: the maximum
;; takes it whole (the overlap changes nothing), the sum only its new lanes, and the gradient writes it whole
;; (the overlap's values again), so nothing is read or written outside a row. Pointers are byte addresses.
(module
  (import "env" "memory" (memory 0))

  ;; exp(x) for x ≤ 0; below −87 it returns exp(−87) ≈ 1.6e-38
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.pmax (local.get $x) (f32x4.splat (f32.const -87.0))))
    ;; k = x·log2(e) + 1.5·2²³: its low bits hold n = round(x·log2 e) (n in [−126, 0]), and n = k − 1.5·2²³ as a
    ;; float (as in gelu.wat: fewer instructions than nearest and trunc_sat)
    (local.set $k (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))
      (f32x4.splat (f32.const 12582912.0))))
    (local.set $n (f32x4.sub (local.get $k) (f32x4.splat (f32.const 12582912.0))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (local.get $p) (f32x4.mul (local.get $r) (local.get $r))) (local.get $r))
      (f32x4.splat (f32.const 1.0))))
    ;; 2ⁿ is the float whose exponent field is n + 127: k's bits + (127 − 0x4B400000), shifted into place
    (f32x4.mul (local.get $p) (i32x4.shl (i32x4.sub (local.get $k) (i32x4.splat (i32.const 0x4B3FFF81))) (i32.const 23))))

  ;; the row's maximum, from the row's start (byte address) and its length in bytes minus 16 (the final block)
  (func $rowMax (param $row i32) (param $lastBlock i32) (result f32)
    (local $o i32) (local $mx v128)
    (local.set $mx (v128.load (local.get $row)))
    (block $done
      (loop $blocks
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $done (i32.ge_u (local.get $o) (local.get $lastBlock)))
        (local.set $mx (f32x4.pmax (local.get $mx) (v128.load (i32.add (local.get $row) (local.get $o)))))
        (br $blocks)))
    (local.set $mx (f32x4.pmax (local.get $mx) (v128.load (i32.add (local.get $row) (local.get $lastBlock)))))
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
      (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))

  ;; Σ_j e^(z_j − m) over the row; `fresh` masks the lanes of the final block that no earlier block had
  (func $rowSum (param $row i32) (param $whole i32) (param $lastBlock i32) (param $m v128) (param $fresh v128) (result f32)
    (local $o i32) (local $sum v128)
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $o) (local.get $whole)))
        (local.set $sum (f32x4.add (local.get $sum)
          (call $exp (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $o))) (local.get $m)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $blocks)))
    (local.set $sum (f32x4.add (local.get $sum)
      (v128.and (local.get $fresh)
        (call $exp (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $lastBlock))) (local.get $m))))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
      (f32.add (f32x4.extract_lane 2 (local.get $sum)) (f32x4.extract_lane 3 (local.get $sum)))))

  ;; bytes of the 4-blocks the sum takes before the final block: ((V − 1) & −4)·4, so that where V is a multiple of 4
  ;; the final block is the last whole one and the sum stops before it
  (func $wholeBytes (param $V i32) (result i32)
    (i32.shl (i32.and (i32.sub (local.get $V) (i32.const 1)) (i32.const -4)) (i32.const 2)))

  ;; the lanes of the final block past the last whole block (all of them where V is a multiple of 4)
  (func $freshLanes (param $V i32) (result v128)
    (i32x4.ge_s (v128.const i32x4 0 1 2 3)
      (i32x4.splat (i32.and (i32.sub (i32.const 4) (i32.and (local.get $V) (i32.const 3))) (i32.const 3)))))

  ;; m_r → mx[r], s_r → sum[r] for N rows of z
  (func (export "stats") (param $z i32) (param $N i32) (param $V i32) (param $mx i32) (param $sum i32)
    (local $r i32) (local $row i32) (local $whole i32) (local $lastBlock i32) (local $fresh v128) (local $m f32)
    (local.set $whole (call $wholeBytes (local.get $V)))
    (local.set $lastBlock (i32.shl (i32.sub (local.get $V) (i32.const 4)) (i32.const 2)))
    (local.set $fresh (call $freshLanes (local.get $V)))
    (local.set $row (local.get $z))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (local.set $m (call $rowMax (local.get $row) (local.get $lastBlock)))
        (f32.store (i32.add (local.get $mx) (i32.shl (local.get $r) (i32.const 2))) (local.get $m))
        (f32.store (i32.add (local.get $sum) (i32.shl (local.get $r) (i32.const 2)))
          (call $rowSum (local.get $row) (local.get $whole) (local.get $lastBlock) (f32x4.splat (local.get $m)) (local.get $fresh)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $V) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; dz (N × V) from z, the int32 targets and dnll (N)
  (func (export "grad") (param $z i32) (param $targets i32) (param $dy i32) (param $N i32) (param $V i32) (param $dz i32)
    (local $r i32) (local $o i32) (local $row i32) (local $out i32) (local $whole i32) (local $lastBlock i32)
    (local $fresh v128) (local $m v128) (local $scale v128) (local $t i32) (local $d f32) (local $at i32)
    (local.set $whole (call $wholeBytes (local.get $V)))
    (local.set $lastBlock (i32.shl (i32.sub (local.get $V) (i32.const 4)) (i32.const 2)))
    (local.set $fresh (call $freshLanes (local.get $V)))
    (local.set $row (local.get $z))
    (local.set $out (local.get $dz))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (local.set $t (i32.load (i32.add (local.get $targets) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $d (f32.load (i32.add (local.get $dy) (i32.shl (local.get $r) (i32.const 2)))))
        (if (i32.ge_u (local.get $t) (local.get $V)) ;; unsigned: a negative target is ≥ V too
          (then (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $V) (i32.const 2))))
          (else
            (local.set $m (f32x4.splat (call $rowMax (local.get $row) (local.get $lastBlock))))
            ;; dnll / s: the gradient is e^(z − m) times this, less dnll at the target
            (local.set $scale (f32x4.splat (f32.div (local.get $d)
              (call $rowSum (local.get $row) (local.get $whole) (local.get $lastBlock) (local.get $m) (local.get $fresh)))))
            (local.set $o (i32.const 0))
            (block $blocksDone
              (loop $blocks
                (br_if $blocksDone (i32.ge_u (local.get $o) (local.get $lastBlock)))
                (v128.store (i32.add (local.get $out) (local.get $o))
                  (f32x4.mul (local.get $scale)
                    (call $exp (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $o))) (local.get $m)))))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $blocks)))
            (v128.store (i32.add (local.get $out) (local.get $lastBlock))
              (f32x4.mul (local.get $scale)
                (call $exp (f32x4.sub (v128.load (i32.add (local.get $row) (local.get $lastBlock))) (local.get $m)))))
            (local.set $at (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 2))))
            (f32.store (local.get $at) (f32.sub (f32.load (local.get $at)) (local.get $d)))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $V) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.shl (local.get $V) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))
)
