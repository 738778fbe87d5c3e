;; One AdamW step for one parameter tensor in a single pass (and, below, the sum of squares the clipping reads), with WebAssembly SIMD (f32x4), for TF.js's
;; wasm backend — where written with TF.js ops it is ~20 kernels per tensor, each a full pass.
;; The same float32 operations in the same order as src/engine/train/adamw.ts, element by element:
;;
;;   g = grad·scale                  (the clipping factor, a float in the heap at `scale`; none when 0)
;;   m' = m·β1 + g·(1−β1)          v' = v·β2 + (g·g)·(1−β2)
;;   denom = √v' / c2 + ε           (c2 = √(1−β2^t))
;;   next = p·decay − (m'/denom)·stepSize        (decay = 1 − lr·wd, or exactly 1: no decay)
;;   where ok: p, m, v ← next, m', v'   elsewhere unchanged;   norm2 = Σ (pOut − p)²
;;
;; ok is a bool tensor (one byte per element): one value for the whole tensor (okStride 0) or one per
;; element (okStride 1, the trainer's mask spread to the parameter's shape).
;; Pointers are byte addresses in TF.js's heap (imported memory); outputs are separate buffers.
;; n elements: blocks of 4, then the rest one at a time (the same operations, scalar).
(module
  (import "env" "memory" (memory 0))

  (func (export "adamw")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $pOut i32) (param $mOut i32) (param $vOut i32) (param $normOut i32) (param $n i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $cb2 f32)
    (param $stepSize f32) (param $c2 f32) (param $eps f32) (param $decay f32) (param $ok i32) (param $okStride i32)
    (param $scale i32)
    (local $o i32) (local $end4 i32) (local $end i32)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vcb2 v128)
    (local $vstep v128) (local $vc2 v128) (local $veps v128) (local $vdecay v128)
    (local $P v128) (local $G v128) (local $M v128) (local $V v128) (local $N v128) (local $D v128) (local $acc v128)
    (local $mask v128) (local $okb i32) (local $vscale v128) (local $ss f32)
    (local $sp f32) (local $sg f32) (local $sm f32) (local $sv f32) (local $sn f32) (local $sd f32) (local $norm f32)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vcb2 (f32x4.splat (local.get $cb2)))
    (local.set $vstep (f32x4.splat (local.get $stepSize)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vdecay (f32x4.splat (local.get $decay)))
    (local.set $acc (v128.const i32x4 0 0 0 0))
    ;; g·1 is g exactly: without a scale the arithmetic is unchanged
    (local.set $ss (select (f32.load (local.get $scale)) (f32.const 1) (local.get $scale)))
    (local.set $vscale (f32x4.splat (local.get $ss)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))

    ;; one ok for the whole tensor: as a lane mask
    (local.set $okb (i32.load8_u (local.get $ok)))
    (local.set $mask (i32x4.splat (i32.sub (i32.const 0) (i32.ne (local.get $okb) (i32.const 0)))))
    (if (i32.and (i32.eqz (local.get $okStride)) (i32.eqz (local.get $okb)))
      (then
        ;; a skipped step: everything stays as it was
        (memory.copy (local.get $pOut) (local.get $p) (local.get $end))
        (memory.copy (local.get $mOut) (local.get $m) (local.get $end))
        (memory.copy (local.get $vOut) (local.get $v) (local.get $end))
        (f32.store (local.get $normOut) (f32.const 0))
        (return)))

    (local.set $o (i32.const 0))
    (block $done4
      (loop $blocks
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end4)))
        (local.set $P (v128.load (i32.add (local.get $p) (local.get $o))))
        (local.set $G (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $o))) (local.get $vscale)))
        (local.set $M (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o))) (local.get $vb1))
          (f32x4.mul (local.get $G) (local.get $vc1))))
        (local.set $V (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o))) (local.get $vb2))
          (f32x4.mul (f32x4.mul (local.get $G) (local.get $G)) (local.get $vcb2))))
        (local.set $D (f32x4.add (f32x4.div (f32x4.sqrt (local.get $V)) (local.get $vc2)) (local.get $veps)))
        (local.set $N (f32x4.sub
          (f32x4.mul (local.get $P) (local.get $vdecay))
          (f32x4.mul (f32x4.div (local.get $M) (local.get $D)) (local.get $vstep))))
        (if (local.get $okStride)
          (then ;; this block's 4 bytes of ok → lanes of all ones where ok
            (local.set $mask (i32x4.ne
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                (v128.load32_zero (i32.add (local.get $ok) (i32.shr_u (local.get $o) (i32.const 2))))))
              (v128.const i32x4 0 0 0 0)))))
        (local.set $N (v128.bitselect (local.get $N) (local.get $P) (local.get $mask)))
        (v128.store (i32.add (local.get $pOut) (local.get $o)) (local.get $N))
        (v128.store (i32.add (local.get $mOut) (local.get $o))
          (v128.bitselect (local.get $M) (v128.load (i32.add (local.get $m) (local.get $o))) (local.get $mask)))
        (v128.store (i32.add (local.get $vOut) (local.get $o))
          (v128.bitselect (local.get $V) (v128.load (i32.add (local.get $v) (local.get $o))) (local.get $mask)))
        (local.set $D (f32x4.sub (local.get $N) (local.get $P)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $D) (local.get $D))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $blocks)))

    (local.set $norm (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

    ;; the last n % 4 elements
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $sp (f32.load (i32.add (local.get $p) (local.get $o))))
        (local.set $sg (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $ss)))
        (local.set $sm (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
          (f32.mul (local.get $sg) (local.get $c1))))
        (local.set $sv (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
          (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $cb2))))
        (local.set $sd (f32.add (f32.div (f32.sqrt (local.get $sv)) (local.get $c2)) (local.get $eps)))
        (local.set $sn (f32.sub
          (f32.mul (local.get $sp) (local.get $decay))
          (f32.mul (f32.div (local.get $sm) (local.get $sd)) (local.get $stepSize))))
        (if (local.get $okStride)
          (then (local.set $okb (i32.load8_u (i32.add (local.get $ok) (i32.shr_u (local.get $o) (i32.const 2)))))))
        (if (i32.eqz (local.get $okb))
          (then
            (local.set $sn (local.get $sp))
            (local.set $sm (f32.load (i32.add (local.get $m) (local.get $o))))
            (local.set $sv (f32.load (i32.add (local.get $v) (local.get $o))))))
        (f32.store (i32.add (local.get $pOut) (local.get $o)) (local.get $sn))
        (f32.store (i32.add (local.get $mOut) (local.get $o)) (local.get $sm))
        (f32.store (i32.add (local.get $vOut) (local.get $o)) (local.get $sv))
        (local.set $sd (f32.sub (local.get $sn) (local.get $sp)))
        (local.set $norm (f32.add (local.get $norm) (f32.mul (local.get $sd) (local.get $sd))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $rest)))
    (f32.store (local.get $normOut) (local.get $norm)))
;; acc += Σ x² over n floats: the gradient's global norm², tensor by tensor, before the step (the clipping
  ;; factor). Four f32x4 lanes over blocks of 4, the lanes then the rest added in float32.
  (func (export "sumSquares") (param $x i32) (param $n i32) (param $acc i32)
    (local $o i32) (local $end4 i32) (local $end i32) (local $lanes v128) (local $V v128) (local $s f32) (local $e f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (local.set $lanes (v128.const i32x4 0 0 0 0))
    (block $done4
      (loop $blocks
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end4)))
        (local.set $V (v128.load (i32.add (local.get $x) (local.get $o))))
        (local.set $lanes (f32x4.add (local.get $lanes) (f32x4.mul (local.get $V) (local.get $V))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $blocks)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $lanes)) (f32x4.extract_lane 1 (local.get $lanes)))
      (f32.add (f32x4.extract_lane 2 (local.get $lanes)) (f32x4.extract_lane 3 (local.get $lanes)))))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $e (f32.load (i32.add (local.get $x) (local.get $o))))
        (local.set $s (f32.add (local.get $s) (f32.mul (local.get $e) (local.get $e))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $rest)))
    (f32.store (local.get $acc) (f32.add (f32.load (local.get $acc)) (local.get $s))))
)
