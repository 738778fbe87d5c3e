;; LayerNorm over rows of C floats with WebAssembly SIMD (f32x4), for TF.js's wasm backend: the kernels
;; and formulas of the WebGPU programs (src/worker/webgpu/layerNorm.ts), biased variance as PyTorch:
;;
;;   μ = mean(x),  r = 1/√(mean((x − μ)²) + eps),  x̂ = (x − μ)·r,  y = x̂·w (+ b)
;;   dx = r · (g − mean(g) − x̂·mean(g·x̂)),  g = dy·w
;;   dw = Σ_rows dy·x̂,  db = Σ_rows dy
;;
;; Rows of C floats, C a multiple of 4 (the caller checks). Row sums run in four f32x4 lanes, then the
;; lanes are added: float32 throughout, as the stock ops. Works in TF.js's wasm heap (imported memory);
;; pointers are byte addresses. `stats` holds a (mean, 1/σ) pair per row.
(module
  (import "env" "memory" (memory 0))

  ;; the sum of a vector's four lanes
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; mean and 1/σ of the row at p (C floats, two passes) into stats at s
  (func $rowStats (param $p i32) (param $C i32) (param $eps f32) (param $s i32)
    (local $o i32) (local $end i32) (local $acc v128) (local $d v128) (local $mean f32) (local $m v128)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (local.set $o (i32.const 0))
    (loop $sum
      (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $p) (local.get $o)))))
      (br_if $sum (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
    (local.set $mean (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))))
    (local.set $m (f32x4.splat (local.get $mean)))
    (local.set $acc (v128.const i32x4 0 0 0 0))
    (local.set $o (i32.const 0))
    (loop $var
      (local.set $d (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o))) (local.get $m)))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
      (br_if $var (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
    (f32.store (local.get $s) (local.get $mean))
    (f32.store offset=4 (local.get $s)
      (f32.div (f32.const 1)
        (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $C))) (local.get $eps))))))

  ;; stats (N × 2) of x (N × C)
  (func (export "stats") (param $x i32) (param $s i32) (param $N i32) (param $C i32) (param $eps f32)
    (local $r i32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (call $rowStats
          (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $C)) (i32.const 2)))
          (local.get $C) (local.get $eps)
          (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; y = x̂·w + b (b = 0: no bias), with the row statistics written to s (N × 2 floats of scratch)
  (func (export "forward") (param $x i32) (param $w i32) (param $b i32) (param $y i32) (param $s i32)
    (param $N i32) (param $C i32) (param $eps f32)
    (local $r i32) (local $o i32) (local $end i32) (local $p i32) (local $q i32) (local $sr i32)
    (local $m v128) (local $rs v128) (local $v v128)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $end))))
        (local.set $q (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $end))))
        (local.set $sr (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 3))))
        (call $rowStats (local.get $p) (local.get $C) (local.get $eps) (local.get $sr))
        (local.set $m (v128.load32_splat (local.get $sr)))
        (local.set $rs (v128.load32_splat offset=4 (local.get $sr)))
        (local.set $o (i32.const 0))
        (loop $cols
          (local.set $v (f32x4.mul
            (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $o))) (local.get $m)) (local.get $rs))
            (v128.load (i32.add (local.get $w) (local.get $o)))))
          (if (local.get $b)
            (then (local.set $v (f32x4.add (local.get $v) (v128.load (i32.add (local.get $b) (local.get $o)))))))
          (v128.store (i32.add (local.get $q) (local.get $o)) (local.get $v))
          (br_if $cols (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; dx = r·(g − mean(g) − x̂·mean(g·x̂)), g = dy·w
  (func (export "gradX") (param $x i32) (param $w i32) (param $dy i32) (param $s i32) (param $dx i32)
    (param $N i32) (param $C i32)
    (local $r i32) (local $o i32) (local $end i32) (local $base i32) (local $sr i32)
    (local $m v128) (local $rs v128) (local $g v128) (local $xh v128) (local $sg v128) (local $sgx v128)
    (local $mg v128) (local $mgx v128) (local $inv f32)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (local.set $inv (f32.div (f32.const 1) (f32.convert_i32_u (local.get $C))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (local.set $base (i32.mul (local.get $r) (local.get $end)))
        (local.set $sr (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $m (v128.load32_splat (local.get $sr)))
        (local.set $rs (v128.load32_splat offset=4 (local.get $sr)))
        (local.set $sg (v128.const i32x4 0 0 0 0))
        (local.set $sgx (v128.const i32x4 0 0 0 0))
        (local.set $o (i32.const 0))
        (loop $sums
          (local.set $g (f32x4.mul
            (v128.load (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $o))))
            (v128.load (i32.add (local.get $w) (local.get $o)))))
          (local.set $xh (f32x4.mul
            (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $base) (local.get $o)))) (local.get $m))
            (local.get $rs)))
          (local.set $sg (f32x4.add (local.get $sg) (local.get $g)))
          (local.set $sgx (f32x4.add (local.get $sgx) (f32x4.mul (local.get $g) (local.get $xh))))
          (br_if $sums (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
        (local.set $mg (f32x4.splat (f32.mul (call $hsum (local.get $sg)) (local.get $inv))))
        (local.set $mgx (f32x4.splat (f32.mul (call $hsum (local.get $sgx)) (local.get $inv))))
        (local.set $o (i32.const 0))
        (loop $cols
          (local.set $g (f32x4.mul
            (v128.load (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $o))))
            (v128.load (i32.add (local.get $w) (local.get $o)))))
          (local.set $xh (f32x4.mul
            (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $base) (local.get $o)))) (local.get $m))
            (local.get $rs)))
          (v128.store (i32.add (local.get $dx) (i32.add (local.get $base) (local.get $o)))
            (f32x4.mul (local.get $rs)
              (f32x4.sub (f32x4.sub (local.get $g) (local.get $mg)) (f32x4.mul (local.get $xh) (local.get $mgx)))))
          (br_if $cols (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; out (C) = Σ_rows dy·x̂ (weight ≠ 0) or Σ_rows dy (weight = 0), summed row after row
  (func (export "gradParam") (param $x i32) (param $dy i32) (param $s i32) (param $out i32)
    (param $N i32) (param $C i32) (param $weight i32)
    (local $r i32) (local $o i32) (local $end i32) (local $base i32) (local $sr i32)
    (local $m v128) (local $rs v128) (local $v v128)
    (local.set $end (i32.shl (local.get $C) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (local.get $end))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $N)))
        (local.set $base (i32.mul (local.get $r) (local.get $end)))
        (local.set $sr (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $m (v128.load32_splat (local.get $sr)))
        (local.set $rs (v128.load32_splat offset=4 (local.get $sr)))
        (local.set $o (i32.const 0))
        (loop $cols
          (local.set $v (v128.load (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $o)))))
          (if (local.get $weight)
            (then (local.set $v (f32x4.mul (local.get $v)
              (f32x4.mul
                (f32x4.sub (v128.load (i32.add (local.get $x) (i32.add (local.get $base) (local.get $o)))) (local.get $m))
                (local.get $rs))))))
          (v128.store (i32.add (local.get $out) (local.get $o))
            (f32x4.add (v128.load (i32.add (local.get $out) (local.get $o))) (local.get $v)))
          (br_if $cols (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))
)
