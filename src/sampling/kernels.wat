;; Vocabulary-wide loops of token selection, 4 lanes at a time (WebAssembly SIMD).
;; Every function reads `n` f32 scores at byte offset `ptr` of the exported memory; `n` is a multiple
;; of 8 (callers pad with -infinity). exp(x - max) uses exp2 with Cephes' exp2f polynomial (relative
;; error about 1e-7); results below 2^-126 count as 0.
(module
  (memory (export "memory") 4)

  ;; 4 lanes of exp(x - max), x <= max.
  (func $exp4 (param $x v128) (param $max v128) (result v128)
    (local $z v128) (local $n v128) (local $f v128) (local $p v128)
    (local.set $z (f32x4.mul (f32x4.sub (local.get $x) (local.get $max)) (v128.const f32x4 1.4426950409 1.4426950409 1.4426950409 1.4426950409)))
    (local.set $z (f32x4.max (local.get $z) (v128.const f32x4 -126 -126 -126 -126)))
    (local.set $n (f32x4.nearest (local.get $z)))
    (local.set $f (f32x4.sub (local.get $z) (local.get $n)))
    (local.set $p (v128.const f32x4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1 1 1 1)))
    ;; times 2^n, built from the exponent bits; lanes at the clamp are zeroed
    (v128.and
      (f32x4.mul (local.get $p)
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (f32x4.gt (local.get $z) (v128.const f32x4 -126 -126 -126 -126))))

  ;; Index of the largest score (the first one on ties).
  (func (export "argmax") (param $ptr i32) (param $n i32) (result i32)
    (local $i i32) (local $end i32) (local $v v128) (local $best v128) (local $bestIdx v128) (local $idx v128) (local $gt v128)
    (local $lane i32) (local $bv f32) (local $bi i32) (local $cv f32) (local $ci i32)
    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $bestIdx (v128.const i32x4 0 1 2 3))
    (local.set $idx (v128.const i32x4 0 1 2 3))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $i (local.get $ptr))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (local.get $i)))
        (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
        (local.set $bestIdx (v128.bitselect (local.get $idx) (local.get $bestIdx) (local.get $gt)))
        (local.set $idx (i32x4.add (local.get $idx) (v128.const i32x4 4 4 4 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (local.set $bv (f32x4.extract_lane 0 (local.get $best)))
    (local.set $bi (i32x4.extract_lane 0 (local.get $bestIdx)))
    (local.set $cv (f32x4.extract_lane 1 (local.get $best)))
    (local.set $ci (i32x4.extract_lane 1 (local.get $bestIdx)))
    (if (i32.or (f32.gt (local.get $cv) (local.get $bv)) (i32.and (f32.eq (local.get $cv) (local.get $bv)) (i32.lt_s (local.get $ci) (local.get $bi))))
      (then (local.set $bv (local.get $cv)) (local.set $bi (local.get $ci))))
    (local.set $cv (f32x4.extract_lane 2 (local.get $best)))
    (local.set $ci (i32x4.extract_lane 2 (local.get $bestIdx)))
    (if (i32.or (f32.gt (local.get $cv) (local.get $bv)) (i32.and (f32.eq (local.get $cv) (local.get $bv)) (i32.lt_s (local.get $ci) (local.get $bi))))
      (then (local.set $bv (local.get $cv)) (local.set $bi (local.get $ci))))
    (local.set $cv (f32x4.extract_lane 3 (local.get $best)))
    (local.set $ci (i32x4.extract_lane 3 (local.get $bestIdx)))
    (if (i32.or (f32.gt (local.get $cv) (local.get $bv)) (i32.and (f32.eq (local.get $cv) (local.get $bv)) (i32.lt_s (local.get $ci) (local.get $bi))))
      (then (local.set $bv (local.get $cv)) (local.set $bi (local.get $ci))))
    (local.get $bi))

;; Sum of exp(x - max) over all scores, accumulated in double precision. $exp4 is written out
  ;; twice inline, as two independent chains over 8 scores, since this loop runs over the whole
  ;; vocabulary for every sequence at every step. `n` must be a multiple of 8 here.
  (func (export "sumExp") (param $ptr i32) (param $n i32) (param $max f32) (result f64)
    (local $i i32) (local $end i32) (local $lo v128) (local $hi v128) (local $m v128)
    (local $za v128) (local $ka v128) (local $fa v128) (local $pa v128) (local $ea v128)
    (local $zb v128) (local $kb v128) (local $fb v128) (local $pb v128) (local $eb v128)
    (local.set $m (f32x4.splat (local.get $max)))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $i (local.get $ptr))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $za (f32x4.mul (f32x4.sub (v128.load offset=0 (local.get $i)) (local.get $m)) (v128.const f32x4 1.4426950409 1.4426950409 1.4426950409 1.4426950409)))
        (local.set $za (f32x4.max (local.get $za) (v128.const f32x4 -126 -126 -126 -126)))
        (local.set $ka (f32x4.nearest (local.get $za)))
        (local.set $fa (f32x4.sub (local.get $za) (local.get $ka)))
        (local.set $zb (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (v128.const f32x4 1.4426950409 1.4426950409 1.4426950409 1.4426950409)))
        (local.set $zb (f32x4.max (local.get $zb) (v128.const f32x4 -126 -126 -126 -126)))
        (local.set $kb (f32x4.nearest (local.get $zb)))
        (local.set $fb (f32x4.sub (local.get $zb) (local.get $kb)))
        (local.set $pa (f32x4.add (f32x4.mul (v128.const f32x4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4) (local.get $fa)) (v128.const f32x4 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $fa)) (v128.const f32x4 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $fa)) (v128.const f32x4 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $fa)) (v128.const f32x4 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $fa)) (v128.const f32x4 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1)))
        (local.set $pa (f32x4.add (f32x4.mul (local.get $pa) (local.get $fa)) (v128.const f32x4 1 1 1 1)))
        (local.set $pb (f32x4.add (f32x4.mul (v128.const f32x4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4 1.535336188319500e-4) (local.get $fb)) (v128.const f32x4 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3 1.339887440266574e-3)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $fb)) (v128.const f32x4 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3 9.618437357674640e-3)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $fb)) (v128.const f32x4 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2 5.550332471162809e-2)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $fb)) (v128.const f32x4 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1 2.402264791363012e-1)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $fb)) (v128.const f32x4 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1 6.931472028550421e-1)))
        (local.set $pb (f32x4.add (f32x4.mul (local.get $pb) (local.get $fb)) (v128.const f32x4 1 1 1 1)))
        (local.set $ea
          (v128.and
            (f32x4.mul (local.get $pa)
              (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $ka)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
            (f32x4.gt (local.get $za) (v128.const f32x4 -126 -126 -126 -126))))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $ea))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $ea) (local.get $ea)))))
        (local.set $eb
          (v128.and
            (f32x4.mul (local.get $pb)
              (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $kb)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
            (f32x4.gt (local.get $zb) (v128.const f32x4 -126 -126 -126 -126))))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $eb))))
        (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $eb) (local.get $eb)))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $next)))
    (local.set $lo (f64x2.add (local.get $lo) (local.get $hi)))
    (f64.add (f64x2.extract_lane 0 (local.get $lo)) (f64x2.extract_lane 1 (local.get $lo))))

  ;; The first index where the running sum of exp(x - max) exceeds `target`; the last index with a
  ;; non-zero weight when rounding leaves the target unreached.
  (func (export "draw") (param $ptr i32) (param $n i32) (param $max f32) (param $target f64) (result i32)
    (local $i i32) (local $k i32) (local $e v128) (local $w f64) (local $last i32)
    (local.set $last (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $e (call $exp4 (v128.load (i32.add (local.get $ptr) (i32.shl (local.get $k) (i32.const 2)))) (f32x4.splat (local.get $max))))
        (local.set $i (i32.const 0))
        (block $lanesDone
          (loop $lane
            (br_if $lanesDone (i32.ge_u (local.get $i) (i32.const 4)))
            (local.set $w (f64.promote_f32
              (if (result f32) (i32.eq (local.get $i) (i32.const 0)) (then (f32x4.extract_lane 0 (local.get $e)))
                (else (if (result f32) (i32.eq (local.get $i) (i32.const 1)) (then (f32x4.extract_lane 1 (local.get $e)))
                  (else (if (result f32) (i32.eq (local.get $i) (i32.const 2)) (then (f32x4.extract_lane 2 (local.get $e)))
                    (else (f32x4.extract_lane 3 (local.get $e))))))))))
            (if (f64.gt (local.get $w) (f64.const 0))
              (then
                (local.set $last (i32.add (local.get $k) (local.get $i)))
                (local.set $target (f64.sub (local.get $target) (local.get $w)))
                (if (f64.lt (local.get $target) (f64.const 0)) (then (return (local.get $last))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $lane)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $next)))
    (local.get $last))
)
