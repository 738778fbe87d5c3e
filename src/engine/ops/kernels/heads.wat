;; Attention's heads, for TF.js's wasm backend: copies between rows of a (B, T, W) tensor, where each row holds
;; nh heads of hs floats side by side starting `offset` floats in, and one (B, nh, T, hs) tensor:
;;
;;   heads[b, h, t, i] = rows[b, t, offset + h·hs + i]        (toHeads = 1: split; 0: the inverse, merge)
;;
;; q, k and v are three such copies out of (B, T, 3C) at offsets 0, C, 2C; attention's output y (B, nh, T, hs)
;; back to (B, T, C) is one with offset 0. Blocks of 4 floats with SIMD (hs a multiple of 4, as at every preset
;; size), one at a time otherwise. Works in TF.js's wasm heap; pointers are byte addresses, sizes in floats.
(module
  (import "env" "memory" (memory 0))

  (func (export "copyHeads")
    (param $rows i32) (param $heads i32) (param $B i32) (param $T i32) (param $nh i32) (param $hs i32)
    (param $W i32) (param $offset i32) (param $toHeads i32)
    (local $b i32) (local $h i32) (local $t i32) (local $i i32) (local $r i32) (local $q i32) (local $vec i32)
    (local.set $vec (i32.shl (i32.shr_u (local.get $hs) (i32.const 2)) (i32.const 2))) ;; hs rounded down to 4
    (local.set $b (i32.const 0))
    (block $bDone
      (loop $bLoop
        (br_if $bDone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $h (i32.const 0))
        (block $hDone
          (loop $hLoop
            (br_if $hDone (i32.ge_u (local.get $h) (local.get $nh)))
            ;; heads[b, h, 0, 0] and rows[b, 0, offset + h·hs]
            (local.set $q (i32.add (local.get $heads)
              (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $nh)) (local.get $h)) (i32.mul (local.get $T) (local.get $hs))) (i32.const 2))))
            (local.set $r (i32.add (local.get $rows)
              (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $T)) (local.get $W))
                (i32.add (local.get $offset) (i32.mul (local.get $h) (local.get $hs)))) (i32.const 2))))
            (local.set $t (i32.const 0))
            (block $tDone
              (loop $tLoop
                (br_if $tDone (i32.ge_u (local.get $t) (local.get $T)))
                (local.set $i (i32.const 0))
                (block $vDone
                  (loop $vLoop
                    (br_if $vDone (i32.ge_u (local.get $i) (local.get $vec)))
                    (if (local.get $toHeads)
                      (then (v128.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
                        (v128.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))))
                      (else (v128.store (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2)))
                        (v128.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $vLoop)))
                (block $sDone
                  (loop $sLoop
                    (br_if $sDone (i32.ge_u (local.get $i) (local.get $hs)))
                    (if (local.get $toHeads)
                      (then (f32.store (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))
                        (f32.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))))
                      (else (f32.store (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2)))
                        (f32.load (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $sLoop)))
                ;; next position: one head row on, one whole row on
                (local.set $q (i32.add (local.get $q) (i32.shl (local.get $hs) (i32.const 2))))
                (local.set $r (i32.add (local.get $r) (i32.shl (local.get $W) (i32.const 2))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tLoop)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $hLoop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bLoop)))
  )

  ;; rows rows of n floats from src to dst, row r at src + r·srcStride and dst + r·dstStride (floats): new keys and
  ;; values (B·nh rows of hs) into their position of a key/value cache held in buffers of the whole context
  (func (export "copyRows") (param $src i32) (param $dst i32) (param $rows i32) (param $n i32) (param $srcStride i32) (param $dstStride i32)
    (local $r i32)
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (memory.copy
          (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $r) (local.get $dstStride)) (i32.const 2)))
          (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $srcStride)) (i32.const 2)))
          (i32.shl (local.get $n) (i32.const 2)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))
)
