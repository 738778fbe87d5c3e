;; Batched matrix product with WebAssembly SIMD (f32x4), for TF.js's wasm backend.
;;
;;   C[b] = op(A[b]) · op(B[b])     op(A)[b]: (M, K), op(B)[b]: (K, N), C[b]: (M, N) row-major
;;
;; Works in the memory it imports, which is TF.js's own wasm heap: A, B and C are tensors there, `work`
;; is scratch the caller allocates there. Any transpose is a choice of strides:
;;   op(A)[i, k] = A[b·M·K + i·sAi + k·sAk]      op(B)[k, j] = B[b·K·N + k·sBk + j·sBj]     (in floats)
;;
;; Per batch entry: B is packed into panels of 8 columns, each K × 8 floats contiguous (N padded to a multiple
;; of 8 with zeros), so that the inner loop reads B sequentially, 32 bytes a step, whatever B's layout (a
;; row-major B read 8 columns at a time jumps a whole row per step and thrashes the L1 cache once K is long).
;; Skipped when B already is row-major with N a multiple of 8 and either A has at most 4 rows (one product per
;; token when sampling: packing would cost as much as the product) or B fits in 16 KiB (attention's heads:
;; read in any order, it stays in L1). Then, panel by panel (the panel stays in L1), a
;; 4 × 8 register tile of C (8 f32x4 accumulators) runs down K: per k, two vector loads of B, four broadcast
;; loads of A read in place through its strides (rows past the last repeat it), 8 multiply-adds. Tiles are
;; written straight into C when M % 4 = 0 and N % 8 = 0, otherwise into a padded scratch C that is copied
;; out. Packing and copying are O(KN + MN) per entry against O(MNK) arithmetic.
;;
;; Products are summed in order k = 0, 1, …, K-1, each as a multiply then an add, as a plain loop would; the
;; fma variant (scripts/kernels.ts) fuses each multiply-add into one rounding.
;;
;; `tri` (attention's causal products, square T × T where triangular): 0 a full product; 1 only C's lower
;; triangle is wanted (C[i, j], j ≤ i: tiles wholly above the diagonal are written as zeros, not computed);
;; 2 op(A) is lower-triangular (op(A)[i, k] = 0 for k > i: each row tile stops at k = i + 3); 3 op(A) is
;; upper-triangular (0 for k < i: each row tile starts at k = i). Skipped terms are exact zeros, so the
;; sums are those of the full product. Row indices are the entry's own: the caller never splits such a
;; product by rows.
;;
;; When A is transposed (op(A)'s rows adjacent in memory, its k a long stride apart, as in a weight gradient
;; dyᵀ·x), reading 4 rows down a long K touches a new cache line per k for every tile: instead each row strip is
;; packed once (K × 4 floats) and every panel of B runs against it.
;;
;; Scratch `work` needs (K·Np + Mp·Np + 4·K) floats, Mp = M rounded up to 4, Np = N rounded up to 8.
;; All pointers are byte addresses; strides are in floats. C's rows are `ldc` floats apart (N for a dense C; the
;; whole product's N where a call computes a range of its columns, one thread's part), its entries M·ldc.
(module
  (import "env" "memory" (memory 0))

  ;; One 4 × 8 tile of C: rows i..i+3, columns j..j+7 (panel j / 8), written at `o` with row stride `ldo`.
  ;; `ap`: op(A)[i, 0]; from one k to the next `ks` bytes, rows i+1..i+3 at `o1`..`o3` bytes from row i.
  ;; `bp`: the panel at k = 0, `ldb` bytes from one k to the next. The k range follows `tri` (see above).
  (func $tile
    (param $i i32) (param $j i32) (param $ap i32) (param $ks i32) (param $o1 i32) (param $o2 i32) (param $o3 i32)
    (param $bp i32) (param $ldb i32) (param $K i32) (param $tri i32) (param $o i32) (param $ldo i32)
    (local $k i32) (local $k0 i32) (local $k1 i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    ;; the k range this tile needs: all of it, or where a triangular A is not zero; a tile wholly above the
    ;; diagonal of a lower-triangular C is left at zero (k0 = k1)
    (local.set $k1 (local.get $K))
    (if (i32.eq (local.get $tri) (i32.const 1))
      (then (if (i32.gt_u (local.get $j) (i32.add (local.get $i) (i32.const 3))) (then (local.set $k1 (i32.const 0))))))
    (if (i32.eq (local.get $tri) (i32.const 2))
      (then (if (i32.lt_u (i32.add (local.get $i) (i32.const 4)) (local.get $K)) (then (local.set $k1 (i32.add (local.get $i) (i32.const 4)))))))
    (if (i32.eq (local.get $tri) (i32.const 3))
      (then (local.set $k0 (select (local.get $i) (local.get $K) (i32.lt_u (local.get $i) (local.get $K))))))
    (local.set $ap (i32.add (local.get $ap) (i32.mul (local.get $k0) (local.get $ks))))
    (local.set $bp (i32.add (local.get $bp) (i32.mul (local.get $k0) (local.get $ldb))))
    (local.set $k (i32.sub (local.get $k1) (local.get $k0)))
    (block $kDone
      (br_if $kDone (i32.eqz (local.get $k)))
      (loop $kLoop
        (local.set $b0 (v128.load (local.get $bp)))
        (local.set $b1 (v128.load offset=16 (local.get $bp)))
        (local.set $av (v128.load32_splat (local.get $ap)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (i32.add (local.get $ap) (local.get $o1))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (i32.add (local.get $ap) (local.get $o2))))
        (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (i32.add (local.get $ap) (local.get $o3))))
        (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $ap (i32.add (local.get $ap) (local.get $ks)))
        (local.set $bp (i32.add (local.get $bp) (local.get $ldb)))
        (br_if $kLoop (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
    (v128.store (local.get $o) (local.get $c0))
    (v128.store offset=16 (local.get $o) (local.get $c1))
    (local.set $o (i32.add (local.get $o) (local.get $ldo)))
    (v128.store (local.get $o) (local.get $c2))
    (v128.store offset=16 (local.get $o) (local.get $c3))
    (local.set $o (i32.add (local.get $o) (local.get $ldo)))
    (v128.store (local.get $o) (local.get $c4))
    (v128.store offset=16 (local.get $o) (local.get $c5))
    (local.set $o (i32.add (local.get $o) (local.get $ldo)))
    (v128.store (local.get $o) (local.get $c6))
    (v128.store offset=16 (local.get $o) (local.get $c7)))

  (func $bmm (export "bmm")
    (param $batch i32) (param $M i32) (param $N i32) (param $K i32)
    (param $a i32) (param $sAi i32) (param $sAk i32)
    (param $b i32) (param $sBk i32) (param $sBj i32)
    (param $c i32) (param $work i32) (param $tri i32) (param $ldc i32)
    (local $Mp i32) (local $Np i32) (local $pb i32) (local $pc i32)
    (local $rs i32) (local $ks i32) (local $last i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $direct i32) (local $packB i32)
    (local $bi i32) (local $aB i32) (local $bB i32) (local $cB i32)
    (local $i i32) (local $j i32) (local $k i32)
    (local $src i32) (local $dst i32) (local $step i32) (local $ks2 i32)
    (local $bp0 i32) (local $ldb i32) (local $panel i32) (local $out i32) (local $ldo i32)
    (local $pa i32) (local $packA i32) (local $o i32)

    ;; Mp = (M + 3) & ~3, Np = (N + 7) & ~7
    (local.set $Mp (i32.and (i32.add (local.get $M) (i32.const 3)) (i32.const -4)))
    (local.set $Np (i32.and (i32.add (local.get $N) (i32.const 7)) (i32.const -8)))
    ;; scratch: packed B (K·Np, in panels), then padded C (Mp·Np)
    (local.set $pb (local.get $work))
    (local.set $pc (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $K) (local.get $Np)) (i32.const 2))))
    (local.set $direct (i32.and (i32.eq (local.get $Mp) (local.get $M)) (i32.eq (local.get $Np) (local.get $N))))
    ;; then a packed row strip of a transposed A (4·K)
    (local.set $pa (i32.add (local.get $pc) (i32.shl (i32.mul (local.get $Mp) (local.get $Np)) (i32.const 2))))
    (local.set $packA (i32.and (i32.eq (local.get $sAi) (i32.const 1)) (i32.ne (local.get $sAk) (i32.const 1))))
    ;; B is read in place when its rows are contiguous and a multiple of 8 long, and either A has one row tile
    ;; or B is small enough (≤ 16 KiB) to stay in L1 whatever the order it is read in; else packed
    (local.set $packB (i32.eqz (i32.and
      (i32.and (i32.eq (local.get $sBj) (i32.const 1)) (i32.eq (local.get $Np) (local.get $N)))
      (i32.or (i32.le_u (local.get $M) (i32.const 4)) (i32.le_u (i32.mul (local.get $K) (local.get $N)) (i32.const 4096))))))
    ;; tiles go straight into C (row stride ldc) or into the padded scratch C (row stride Np)
    (local.set $ldo (i32.shl (select (local.get $ldc) (local.get $Np) (local.get $direct)) (i32.const 2)))
    ;; op(A): bytes from one row to the next (rs) and from one k to the next (ks)
    (local.set $rs (i32.shl (local.get $sAi) (i32.const 2)))
    (local.set $ks (i32.shl (local.get $sAk) (i32.const 2)))

    (local.set $bi (i32.const 0))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $bi) (local.get $batch)))
        (local.set $aB (i32.add (local.get $a)
          (i32.shl (i32.mul (local.get $bi) (i32.mul (local.get $M) (local.get $K))) (i32.const 2))))
        (local.set $bB (i32.add (local.get $b)
          (i32.shl (i32.mul (local.get $bi) (i32.mul (local.get $K) (local.get $N))) (i32.const 2))))
        (local.set $cB (i32.add (local.get $c)
          (i32.shl (i32.mul (local.get $bi) (i32.mul (local.get $M) (local.get $ldc))) (i32.const 2))))

        ;; ---- pack B (when needed): panel jb holds pb[(jb·K + k)·8 + jj] = op(B)[k, 8·jb + jj], zero past N
        (if (local.get $packB)
          (then
            (local.set $step (i32.shl (local.get $sBj) (i32.const 2)))
            (local.set $ks2 (i32.shl (local.get $sBk) (i32.const 2)))
            ;; full panels: 8 columns each, copied without a test per element
            (local.set $j (i32.const 0))
            (block $pjDone
              (loop $pjLoop
                (br_if $pjDone (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $N)))
                (local.set $dst (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $j) (local.get $K)) (i32.const 2))))
                (local.set $src (i32.add (local.get $bB) (i32.mul (local.get $j) (local.get $step))))
                (local.set $k (local.get $K))
                (block $pkDone
                  (br_if $pkDone (i32.eqz (local.get $k)))
                  (loop $pkLoop
                    (if (i32.eq (local.get $sBj) (i32.const 1))
                      (then
                        (v128.store (local.get $dst) (v128.load (local.get $src)))
                        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src))))
                      (else
                        (local.set $o (local.get $src))
                        (f32.store (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=4 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=8 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=12 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=16 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=20 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=24 (local.get $dst) (f32.load (local.get $o)))
                        (local.set $o (i32.add (local.get $o) (local.get $step)))
                        (f32.store offset=28 (local.get $dst) (f32.load (local.get $o)))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $src (i32.add (local.get $src) (local.get $ks2)))
                    (br_if $pkLoop (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $pjLoop)))
            ;; the last, partial panel (N % 8 columns, then zeros)
            (if (i32.lt_u (local.get $j) (local.get $N))
              (then
                (local.set $dst (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $j) (local.get $K)) (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $tkDone
                  (loop $tkLoop
                    (br_if $tkDone (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $src (i32.add (local.get $bB)
                      (i32.add (i32.mul (local.get $k) (local.get $ks2)) (i32.mul (local.get $j) (local.get $step)))))
                    (local.set $o (i32.const 0))
                    (block $tcDone
                      (loop $tcLoop
                        (br_if $tcDone (i32.ge_u (local.get $o) (i32.const 8)))
                        (if (i32.lt_u (i32.add (local.get $j) (local.get $o)) (local.get $N))
                          (then (f32.store (local.get $dst) (f32.load (local.get $src))))
                          (else (f32.store (local.get $dst) (f32.const 0))))
                        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                        (local.set $src (i32.add (local.get $src) (local.get $step)))
                        (local.set $o (i32.add (local.get $o) (i32.const 1)))
                        (br $tcLoop)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $tkLoop)))))
            (local.set $bp0 (local.get $pb))
            (local.set $ldb (i32.const 32))
            (local.set $panel (i32.shl (local.get $K) (i32.const 5))))
          (else
            ;; row-major, N a multiple of 8: panel jb starts 8·jb floats into the row
            (local.set $bp0 (local.get $bB))
            (local.set $ldb (i32.shl (local.get $sBk) (i32.const 2)))
            (local.set $panel (i32.const 32))))

        (local.set $out (select (local.get $cB) (local.get $pc) (local.get $direct)))
        (if (local.get $packA)
          (then
            ;; ---- A transposed (its rows adjacent, k a long stride apart): row strip by row strip, each packed
            ;; first (K × 4 floats, in L1), then every panel of B against it
            (local.set $i (i32.const 0))
            (block $siDone
              (loop $siLoop
                (br_if $siDone (i32.ge_u (local.get $i) (local.get $Mp)))
                ;; pa[4k + r] = op(A)[i + r, k], rows past the last repeating it
                (local.set $src (i32.add (local.get $aB) (i32.shl (local.get $i) (i32.const 2))))
                (local.set $dst (local.get $pa))
                (local.set $k (i32.const 0))
                (block $sk
                  (loop $skLoop
                    (br_if $sk (i32.ge_u (local.get $k) (local.get $K)))
                    (if (i32.le_u (i32.add (local.get $i) (i32.const 4)) (local.get $M))
                      (then (v128.store (local.get $dst) (v128.load (local.get $src))))
                      (else
                        (local.set $last (i32.shl (i32.sub (i32.sub (local.get $M) (i32.const 1)) (local.get $i)) (i32.const 2)))
                        (f32.store (local.get $dst) (f32.load (local.get $src)))
                        (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $src) (select (i32.const 4) (local.get $last) (i32.ge_s (local.get $last) (i32.const 4))))))
                        (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $src) (select (i32.const 8) (local.get $last) (i32.ge_s (local.get $last) (i32.const 8))))))
                        (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $src) (select (i32.const 12) (local.get $last) (i32.ge_s (local.get $last) (i32.const 12))))))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (local.set $src (i32.add (local.get $src) (local.get $ks)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $skLoop)))
                (local.set $j (i32.const 0))
                (block $sjDone
                  (loop $sjLoop
                    (br_if $sjDone (i32.ge_u (local.get $j) (local.get $Np)))
                    (call $tile (local.get $i) (local.get $j) (local.get $pa) (i32.const 16) (i32.const 4) (i32.const 8) (i32.const 12)
                      (i32.add (local.get $bp0) (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (local.get $panel))) (local.get $ldb)
                      (local.get $K) (local.get $tri)
                      (i32.add (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ldo))) (i32.shl (local.get $j) (i32.const 2)))
                      (local.get $ldo))
                    (local.set $j (i32.add (local.get $j) (i32.const 8)))
                    (br $sjLoop)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $siLoop))))
          (else
            ;; ---- 4 × 8 tiles of C, panel by panel (the panel stays in L1; A's rows are read in place)
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_u (local.get $j) (local.get $Np)))
                (local.set $i (i32.const 0))
                (block $iDone
                  (loop $iLoop
                    (br_if $iDone (i32.ge_u (local.get $i) (local.get $Mp)))
                    ;; byte offsets of rows i+1..i+3 from row i; past the last row they repeat it (results discarded)
                    (local.set $last (i32.sub (i32.sub (local.get $M) (i32.const 1)) (local.get $i)))
                    (local.set $o1 (i32.mul (local.get $rs) (select (i32.const 1) (local.get $last) (i32.ge_s (local.get $last) (i32.const 1)))))
                    (local.set $o2 (i32.mul (local.get $rs) (select (i32.const 2) (local.get $last) (i32.ge_s (local.get $last) (i32.const 2)))))
                    (local.set $o3 (i32.mul (local.get $rs) (select (i32.const 3) (local.get $last) (i32.ge_s (local.get $last) (i32.const 3)))))
                    (call $tile (local.get $i) (local.get $j)
                      (i32.add (local.get $aB) (i32.mul (local.get $i) (local.get $rs))) (local.get $ks)
                      (local.get $o1) (local.get $o2) (local.get $o3)
                      (i32.add (local.get $bp0) (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (local.get $panel))) (local.get $ldb)
                      (local.get $K) (local.get $tri)
                      (i32.add (i32.add (local.get $out) (i32.mul (local.get $i) (local.get $ldo))) (i32.shl (local.get $j) (i32.const 2)))
                      (local.get $ldo))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $iLoop)))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $jLoop)))))

        ;; ---- padded C → C: rows 0..M-1, columns 0..N-1
        (if (i32.eqz (local.get $direct))
          (then
            (local.set $i (i32.const 0))
            (block $uDone
              (loop $uLoop
                (br_if $uDone (i32.ge_u (local.get $i) (local.get $M)))
                (memory.copy
                  (i32.add (local.get $cB) (i32.shl (i32.mul (local.get $i) (local.get $ldc)) (i32.const 2)))
                  (i32.add (local.get $pc) (i32.mul (local.get $i) (local.get $ldo)))
                  (i32.shl (local.get $N) (i32.const 2)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $uLoop)))))

        (local.set $bi (i32.add (local.get $bi) (i32.const 1)))
        (br $batchLoop)))
  )

  ;; ---- One row of A (M = 1: sampling one token at a time with a key/value cache), A contiguous (sAk = 1):
  ;; no tiles of 4 rows with three wasted, and no packing. Either B's columns are contiguous (sBk = 1: q·kᵀ, one
  ;; dot product of two contiguous vectors per output, its four lanes summed at the end: the order of the sum
  ;; differs from the tiles', within float32 round-off) or its rows are (sBj = 1: weights·v, each output column
  ;; summed over k in order, 4 columns a vector, as the tiles do). Same arguments as bmm but M, sAi and work, and
  ;; with B's batch stride sBb (floats) given: K·N where B is dense, more where its entries are the first rows of
  ;; larger buffers (a key/value cache held in buffers of the whole context, ops/wasmFused/cachedAttention.ts).
  (func $gemv (export "gemv")
    (param $batch i32) (param $N i32) (param $K i32)
    (param $a i32) (param $b i32) (param $sBk i32) (param $sBj i32) (param $c i32) (param $sBb i32)
    (local $bi i32) (local $aB i32) (local $bB i32) (local $cB i32) (local $j i32) (local $k i32)
    (local $acc v128) (local $s f32) (local $K4 i32) (local $N4 i32) (local $bp i32) (local $ks i32) (local $av v128)
    (local.set $K4 (i32.and (local.get $K) (i32.const -4)))
    (local.set $N4 (i32.and (local.get $N) (i32.const -4)))
    (local.set $ks (i32.shl (local.get $sBk) (i32.const 2)))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $bi) (local.get $batch)))
        (local.set $aB (i32.add (local.get $a) (i32.shl (i32.mul (local.get $bi) (local.get $K)) (i32.const 2))))
        (local.set $bB (i32.add (local.get $b) (i32.shl (i32.mul (local.get $bi) (local.get $sBb)) (i32.const 2))))
        (local.set $cB (i32.add (local.get $c) (i32.shl (i32.mul (local.get $bi) (local.get $N)) (i32.const 2))))
        (if (i32.eq (local.get $sBk) (i32.const 1))
          (then
            ;; C[j] = Σ_k A[k]·B[k, j], B[·, j] contiguous
            (local.set $j (i32.const 0))
            (block $jDone
              (loop $jLoop
                (br_if $jDone (i32.ge_u (local.get $j) (local.get $N)))
                (local.set $bp (i32.add (local.get $bB) (i32.shl (i32.mul (local.get $j) (local.get $sBj)) (i32.const 2))))
                (local.set $acc (v128.const i32x4 0 0 0 0))
                (local.set $k (i32.const 0))
                (block $kDone
                  (loop $kLoop
                    (br_if $kDone (i32.ge_u (local.get $k) (local.get $K4)))
                    (local.set $av (v128.load (i32.add (local.get $aB) (i32.shl (local.get $k) (i32.const 2)))))
                    (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $av) (v128.load (i32.add (local.get $bp) (i32.shl (local.get $k) (i32.const 2)))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $kLoop)))
                (local.set $s (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                  (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
                (block $tDone
                  (loop $tLoop
                    (br_if $tDone (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $s (f32.add (local.get $s) (f32.mul
                      (f32.load (i32.add (local.get $aB) (i32.shl (local.get $k) (i32.const 2))))
                      (f32.load (i32.add (local.get $bp) (i32.shl (local.get $k) (i32.const 2)))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $tLoop)))
                (f32.store (i32.add (local.get $cB) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop))))
          (else
            ;; sBj = 1: C[j..j+3] = Σ_k A[k]·B[k, j..j+3], over k in order
            (local.set $j (i32.const 0))
            (block $vDone
              (loop $vLoop
                (br_if $vDone (i32.ge_u (local.get $j) (local.get $N4)))
                (local.set $bp (i32.add (local.get $bB) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $acc (v128.const i32x4 0 0 0 0))
                (local.set $k (i32.const 0))
                (block $ukDone
                  (loop $ukLoop
                    (br_if $ukDone (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $av (v128.load32_splat (i32.add (local.get $aB) (i32.shl (local.get $k) (i32.const 2)))))
                    (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $av) (v128.load (local.get $bp)))))
                    (local.set $bp (i32.add (local.get $bp) (local.get $ks)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $ukLoop)))
                (v128.store (i32.add (local.get $cB) (i32.shl (local.get $j) (i32.const 2))) (local.get $acc))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $vLoop)))
            ;; the last N mod 4 columns, one at a time
            (block $sDone
              (loop $sLoop
                (br_if $sDone (i32.ge_u (local.get $j) (local.get $N)))
                (local.set $bp (i32.add (local.get $bB) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $s (f32.const 0))
                (local.set $k (i32.const 0))
                (block $skDone
                  (loop $skLoop
                    (br_if $skDone (i32.ge_u (local.get $k) (local.get $K)))
                    (local.set $s (f32.add (local.get $s) (f32.mul
                      (f32.load (i32.add (local.get $aB) (i32.shl (local.get $k) (i32.const 2))))
                      (f32.load (local.get $bp)))))
                    (local.set $bp (i32.add (local.get $bp) (local.get $ks)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $skLoop)))
                (f32.store (i32.add (local.get $cB) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $sLoop)))))
        (local.set $bi (i32.add (local.get $bi) (i32.const 1)))
        (br $batchLoop))))
)
