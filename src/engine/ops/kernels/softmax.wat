;; Causal softmax of attention scores, and its gradient, with WebAssembly SIMD (f32x4), for TF.js's wasm
;; backend: the kernels of the WebGPU programs (src/worker/webgpu/attention.ts).
;;
;; Scores (rows × S): T queries over S keys per group of T rows, the queries being the last T of S
;; positions. Key j is visible to the query of row r iff j ≤ r mod T + S − T; hidden keys get exactly 0.
;;
;;   y = softmax(scale · s + mask),   ds = scale · y · (dy − Σ_j dy_j·y_j)
;;
;; Any S, both ways: the final S mod 4 keys of a row one at a time. exp is Cephes' expf as in gelu.wat
;; (arguments ≤ 0 here: each is a score minus its row's maximum). Works in TF.js's wasm heap; pointers are byte addresses.
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

;; the sum of a vector's four lanes
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; bytes from a row's start to the end of the 4-key block holding key `last`
  (func $visibleEnd (param $last i32) (result i32)
    (i32.shl (i32.and (i32.add (local.get $last) (i32.const 4)) (i32.const -4)) (i32.const 2)))

;; one lane of exp: x ≤ 0
  (func $exp1 (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp (f32x4.splat (local.get $x)))))

  ;; Any S ≥ 1: the 4-key blocks run up to the last whole block (vecEnd); where the row's visible keys reach into
  ;; the final S mod 4 keys, those run one at a time (the tail), so nothing is read or written past a row's end.
  (func (export "causalSoftmax") (param $s i32) (param $y i32) (param $rows i32) (param $T i32) (param $S i32)
    (param $scale f32)
    (local $r i32) (local $o i32) (local $end i32) (local $base i32) (local $last v128) (local $j v128)
    (local $vis v128) (local $v v128) (local $mx v128) (local $sum v128) (local $sc v128) (local $m f32) (local $vend i32)
    (local $lastKey i32) (local $whole i32) (local $vecEnd i32) (local $k i32) (local $t f32) (local $total f32)
    (local.set $end (i32.shl (local.get $S) (i32.const 2)))
    ;; bytes to the end of the last whole 4-key block
    (local.set $whole (i32.shl (i32.and (local.get $S) (i32.const -4)) (i32.const 2)))
    (local.set $sc (f32x4.splat (local.get $scale)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.mul (local.get $r) (local.get $end)))
        ;; the last visible key of this row, in every lane
        (local.set $lastKey (i32.add (i32.rem_u (local.get $r) (local.get $T)) (i32.sub (local.get $S) (local.get $T))))
        (local.set $last (i32x4.splat (local.get $lastKey)))
        ;; bytes up to the end of the block holding the last visible key: the blocks after it are all hidden
        (local.set $vend (call $visibleEnd (local.get $lastKey)))
        ;; the blocks run to vend, or to the last whole block where vend is past it (the rest is the tail)
        (local.set $vecEnd (select (local.get $whole) (local.get $vend) (i32.gt_u (local.get $vend) (local.get $whole))))
        ;; row maximum over the visible keys
        (local.set $mx (f32x4.splat (f32.const -3.4e38)))
        (local.set $j (v128.const i32x4 0 1 2 3))
        (local.set $o (i32.const 0))
        (block $maxDone
          (br_if $maxDone (i32.eqz (local.get $vecEnd)))
          (loop $max
            (local.set $vis (i32x4.le_s (local.get $j) (local.get $last)))
            (local.set $v (f32x4.mul (v128.load (i32.add (local.get $s) (i32.add (local.get $base) (local.get $o)))) (local.get $sc)))
            (local.set $mx (f32x4.pmax (local.get $mx)
              (v128.bitselect (local.get $v) (f32x4.splat (f32.const -3.4e38)) (local.get $vis))))
            (local.set $j (i32x4.add (local.get $j) (i32x4.splat (i32.const 4))))
            (br_if $max (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $vecEnd)))))
        (local.set $m (f32.max
          (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
          (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        ;; the tail's visible keys
        (local.set $k (i32.shr_u (local.get $vecEnd) (i32.const 2)))
        (block $tmDone
          (loop $tm
            (br_if $tmDone (i32.gt_s (local.get $k) (local.get $lastKey)))
            (br_if $tmDone (i32.ge_u (local.get $k) (local.get $S)))
            (local.set $m (f32.max (local.get $m)
              (f32.mul (f32.load (i32.add (local.get $s) (i32.add (local.get $base) (i32.shl (local.get $k) (i32.const 2))))) (local.get $scale))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $tm)))
        (local.set $mx (f32x4.splat (local.get $m)))
        ;; y = exp(scale·s − max) on visible keys, 0 elsewhere; and their sum
        (local.set $sum (v128.const i32x4 0 0 0 0))
        (local.set $j (v128.const i32x4 0 1 2 3))
        (local.set $o (i32.const 0))
        (block $expDone
          (br_if $expDone (i32.eqz (local.get $vecEnd)))
          (loop $exps
            (local.set $vis (i32x4.le_s (local.get $j) (local.get $last)))
            (local.set $v (f32x4.sub
              (f32x4.mul (v128.load (i32.add (local.get $s) (i32.add (local.get $base) (local.get $o)))) (local.get $sc))
              (local.get $mx)))
            ;; hidden lanes: exp(0) computed, then zeroed
            (local.set $v (v128.and (call $exp (v128.and (local.get $v) (local.get $vis))) (local.get $vis)))
            (local.set $sum (f32x4.add (local.get $sum) (local.get $v)))
            (v128.store (i32.add (local.get $y) (i32.add (local.get $base) (local.get $o))) (local.get $v))
            (local.set $j (i32x4.add (local.get $j) (i32x4.splat (i32.const 4))))
            (br_if $exps (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $vecEnd)))))
        (local.set $total (call $hsum (local.get $sum)))
        ;; the tail: each of the final keys, visible or 0
        (local.set $k (i32.shr_u (local.get $vecEnd) (i32.const 2)))
        (block $teDone
          (br_if $teDone (i32.le_u (local.get $vend) (local.get $whole)))
          (loop $te
            (br_if $teDone (i32.ge_u (local.get $k) (local.get $S)))
            (local.set $t (f32.const 0))
            (if (i32.le_s (local.get $k) (local.get $lastKey))
              (then
                (local.set $t (call $exp1 (f32.sub
                  (f32.mul (f32.load (i32.add (local.get $s) (i32.add (local.get $base) (i32.shl (local.get $k) (i32.const 2))))) (local.get $scale))
                  (local.get $m))))
                (local.set $total (f32.add (local.get $total) (local.get $t)))))
            (f32.store (i32.add (local.get $y) (i32.add (local.get $base) (i32.shl (local.get $k) (i32.const 2)))) (local.get $t))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $te)))
        ;; the hidden blocks after the last visible key (none where the tail ran)
        (if (i32.le_u (local.get $vend) (local.get $whole))
          (then
            (memory.fill (i32.add (local.get $y) (i32.add (local.get $base) (local.get $vend))) (i32.const 0)
              (i32.sub (local.get $end) (local.get $vend)))))
        (local.set $sum (f32x4.splat (local.get $total)))
        (local.set $o (i32.const 0))
        (block $normDone
          (br_if $normDone (i32.eqz (local.get $vecEnd)))
          (loop $norm
            (v128.store (i32.add (local.get $y) (i32.add (local.get $base) (local.get $o)))
              (f32x4.div (v128.load (i32.add (local.get $y) (i32.add (local.get $base) (local.get $o)))) (local.get $sum)))
            (br_if $norm (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $vecEnd)))))
        (local.set $k (i32.shr_u (local.get $vecEnd) (i32.const 2)))
        (block $tnDone
          (br_if $tnDone (i32.le_u (local.get $vend) (local.get $whole)))
          (loop $tn
            (br_if $tnDone (i32.ge_u (local.get $k) (local.get $S)))
            (local.set $o (i32.add (local.get $y) (i32.add (local.get $base) (i32.shl (local.get $k) (i32.const 2)))))
            (f32.store (local.get $o) (f32.div (f32.load (local.get $o)) (local.get $total)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $tn)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; hidden keys have y = 0, so ds = 0 there: only the keys up to the last visible one are computed. Any S ≥ 1, as
  ;; forward: 4-key blocks up to the last whole block (vecEnd), and where the visible keys reach into the final S mod 4
  ;; keys, those one at a time (the tail: its products added to the dot after the blocks' sum); nothing is read or
  ;; written past a row's end. For S a multiple of 4 there is no tail: the same operations as before.
  (func (export "causalSoftmaxGrad") (param $y i32) (param $dy i32) (param $ds i32) (param $rows i32) (param $T i32)
    (param $S i32) (param $scale f32)
    (local $r i32) (local $o i32) (local $end i32) (local $base i32) (local $acc v128) (local $dot v128) (local $vend i32)
    (local $whole i32) (local $vecEnd i32) (local $lastKey i32) (local $tailEnd i32) (local $d f32) (local $p i32)
    (local $fill i32)
    (local.set $end (i32.shl (local.get $S) (i32.const 2)))
    ;; bytes to the end of the last whole 4-key block
    (local.set $whole (i32.shl (i32.and (local.get $S) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.mul (local.get $r) (local.get $end)))
        (local.set $lastKey (i32.add (i32.rem_u (local.get $r) (local.get $T)) (i32.sub (local.get $S) (local.get $T))))
        (local.set $vend (call $visibleEnd (local.get $lastKey)))
        ;; the blocks: up to the one holding the last visible key, or to the last whole block where that is in the tail
        (local.set $vecEnd (select (local.get $whole) (local.get $vend) (i32.gt_u (local.get $vend) (local.get $whole))))
        ;; the tail's keys run to the last visible one (bytes), where the blocks stop short of it
        (local.set $tailEnd (select (i32.shl (i32.add (local.get $lastKey) (i32.const 1)) (i32.const 2)) (local.get $vecEnd)
          (i32.gt_u (local.get $vend) (local.get $whole))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $o (i32.const 0))
        (if (i32.gt_u (local.get $vecEnd) (i32.const 0))
          (then
            (loop $sum
              (local.set $acc (f32x4.add (local.get $acc)
                (f32x4.mul (v128.load (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $o))))
                  (v128.load (i32.add (local.get $y) (i32.add (local.get $base) (local.get $o)))))))
              (br_if $sum (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $vecEnd))))))
        (local.set $d (call $hsum (local.get $acc)))
        ;; the tail's products
        (local.set $o (local.get $vecEnd))
        (block $tsDone
          (loop $ts
            (br_if $tsDone (i32.ge_u (local.get $o) (local.get $tailEnd)))
            (local.set $p (i32.add (local.get $base) (local.get $o)))
            (local.set $d (f32.add (local.get $d)
              (f32.mul (f32.load (i32.add (local.get $dy) (local.get $p))) (f32.load (i32.add (local.get $y) (local.get $p))))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $ts)))
        (local.set $dot (f32x4.splat (local.get $d)))
        (local.set $o (i32.const 0))
        (if (i32.gt_u (local.get $vecEnd) (i32.const 0))
          (then
            (loop $cols
              (v128.store (i32.add (local.get $ds) (i32.add (local.get $base) (local.get $o)))
                (f32x4.mul (f32x4.splat (local.get $scale))
                  (f32x4.mul (v128.load (i32.add (local.get $y) (i32.add (local.get $base) (local.get $o))))
                    (f32x4.sub (v128.load (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $o)))) (local.get $dot)))))
              (br_if $cols (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $vecEnd))))))
        ;; the tail's gradients
        (local.set $o (local.get $vecEnd))
        (block $tcDone
          (loop $tc
            (br_if $tcDone (i32.ge_u (local.get $o) (local.get $tailEnd)))
            (local.set $p (i32.add (local.get $base) (local.get $o)))
            (f32.store (i32.add (local.get $ds) (local.get $p))
              (f32.mul (local.get $scale)
                (f32.mul (f32.load (i32.add (local.get $y) (local.get $p)))
                  (f32.sub (f32.load (i32.add (local.get $dy) (local.get $p))) (local.get $d)))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $tc)))
        ;; the hidden keys after those computed: 0
        (local.set $fill (select (local.get $tailEnd) (local.get $vecEnd) (i32.gt_u (local.get $tailEnd) (local.get $vecEnd))))
        (memory.fill (i32.add (local.get $ds) (i32.add (local.get $base) (local.get $fill))) (i32.const 0)
          (i32.sub (local.get $end) (local.get $fill)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))
)
