;; Elementwise sum and product of two float32 arrays of the same length, with WebAssembly SIMD (f32x4), for
;; TF.js's wasm backend on kernel threads: the residual stream's additions and the tape's sums of gradients
;; (TF.js's Add and AddN), and equal-shape products (Multiply). The same IEEE operation per element as TF.js's
;; own kernels, so the values are identical; what changes is that they can wait in the kernel threads' queue
;; with the engine's other kernels instead of stopping it (ops/kernelThreads.ts).
;;
;; Pointers are byte addresses in TF.js's heap (imported memory), n elements. Blocks of 4, then the last n % 4
;; one at a time: y may be a or b (AddN sums into its output), so no element is computed twice.
(module
  (import "env" "memory" (memory 0))

  (func (export "add") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $o i32) (local $end i32) (local $blocks i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $blocks (i32.and (local.get $end) (i32.const -16)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $o) (local.get $blocks)))
        (v128.store (i32.add (local.get $y) (local.get $o))
          (f32x4.add (v128.load (i32.add (local.get $a) (local.get $o))) (v128.load (i32.add (local.get $b) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $four)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (i32.add (local.get $y) (local.get $o))
          (f32.add (f32.load (i32.add (local.get $a) (local.get $o))) (f32.load (i32.add (local.get $b) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one))))

  (func (export "mul") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $o i32) (local $end i32) (local $blocks i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $blocks (i32.and (local.get $end) (i32.const -16)))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $o) (local.get $blocks)))
        (v128.store (i32.add (local.get $y) (local.get $o))
          (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $o))) (v128.load (i32.add (local.get $b) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $four)))
    (block $tail
      (loop $one
        (br_if $tail (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (i32.add (local.get $y) (local.get $o))
          (f32.mul (f32.load (i32.add (local.get $a) (local.get $o))) (f32.load (i32.add (local.get $b) (local.get $o)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $one))))
)
