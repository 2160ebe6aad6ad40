// RUN: linac-opt %s -split-input-file -linac-chunk-recurrence | FileCheck %s

// linac-chunk-recurrence: a canonical linac.recurrence becomes a
// linac.chunk_loop whose body is the chunked algorithm of one chunk.

// Scalar decay: the forward cumulative sums decay the queries (from the
// chunk start) and the state, the reverse ones the keys (to the chunk end);
// the scores take the gates themselves and a [C, C] workspace for the
// window sums.
// CHECK-LABEL: func.func @scalar_decay
// CHECK-NOT:   linac.recurrence
// CHECK:       linac.chunk_loop q(%{{[^ ]+}} : memref<2x16x4x64xf16>) k(%{{[^ ]+}} : memref<2x16x4x64xf16>) v(%{{[^ ]+}} : memref<2x16x4x32xf16>) g(%{{[^ ]+}} : memref<2x16x4xf32>)
// CHECK-SAME:    initial_state(%{{[^ ]+}} : memref<2x4x64x32xf32>) output(%{{[^ ]+}} : memref<2x16x4x32xf16>) final_state(%{{[^ ]+}} : memref<2x4x64x32xf32>)
// CHECK-SAME:    cu_seqlens(%{{[^ ]+}} : memref<3xi64>) scale(%[[SCALE:[^ ]+]])
// CHECK-SAME:    attributes {chunk_size = 64 : i64, form = #linac.form<decay = scalar, update = plain>} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: memref<?x64xf16, strided<[?, ?], offset: ?>>, %[[K:[^:]+]]: memref<?x64xf16, strided<[?, ?], offset: ?>>, %[[V:[^:]+]]: memref<?x32xf16, strided<[?, ?], offset: ?>>, %[[G:[^:]+]]: memref<?xf32, strided<[?], offset: ?>>, %[[S:[^:]+]]: memref<64x32xf32, strided<[?, ?], offset: ?>>, %[[O:[^:]+]]: memref<?x32xf32, strided<[?, ?], offset: ?>>):
// CHECK:         %[[QROWS:.*]] = memref.dim %[[Q]], %c0
// CHECK:         %[[KROWS:.*]] = memref.dim %[[K]], %c0
// CHECK:         %[[FBUF:.*]] = memref.alloca() : memref<64xf32>
// CHECK:         %[[GF:.*]] = memref.subview %[[FBUF]][0] [%[[QROWS]]] [1]
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GF]] : {{.*}})
// CHECK-NOT:     reverse
// CHECK:         %[[RBUF:.*]] = memref.alloca() : memref<64xf32>
// CHECK:         %[[GR:.*]] = memref.subview %[[RBUF]][0] [%[[KROWS]]] [1]
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GR]] : {{.*}}) {reverse}
// CHECK:         %[[WBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:         %[[WS:.*]] = memref.subview %[[WBUF]][0, 0] [%[[QROWS]], %[[QROWS]]] [1, 1]
// CHECK:         %[[PBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:         %[[P:.*]] = memref.subview %[[PBUF]][0, 0] [%[[QROWS]], %[[KROWS]]] [1, 1]
// CHECK:         linac.decayed_scores ins(%[[Q]], %[[K]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS]] : {{.*}}) outs(%[[P]] : {{.*}})
// One scratch buffer for the rows rescaled by their decays.
// CHECK:         %[[ROWBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:         %[[QD:.*]] = memref.subview %[[ROWBUF]][0, 0] [%[[QROWS]], 64] [1, 1]
// CHECK:         linac.decayed_rows ins(%[[Q]], %[[GF]] : {{.*}}) outs(%[[QD]] : {{.*}})
// The scores are zero above the diagonal: the output op is told so.
// CHECK:         linac.chunk_output ins(%[[QD]], %[[S]], %[[P]], %[[V]] : {{.*}}) scale(%[[SCALE]]) outs(%[[O]] : {{.*}}) {causal_stride = 1 : i64}
// CHECK:         %[[KD:.*]] = memref.subview %[[ROWBUF]][0, 0] [%[[KROWS]], 64] [1, 1]
// CHECK:         linac.decayed_rows ins(%[[K]], %[[GR]] : {{.*}}) outs(%[[KD]] : {{.*}})
// CHECK:         linac.chunk_state_update ins(%[[KD]], %[[V]] : {{.*}}) decay(%[[GF]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK-NEXT:  }
// CHECK-NEXT:  return
func.func @scalar_decay(%q: memref<2x16x4x64xf16>, %k: memref<2x16x4x64xf16>,
                        %v: memref<2x16x4x32xf16>, %g: memref<2x16x4xf32>,
                        %s0: memref<2x4x64x32xf32>, %o: memref<2x16x4x32xf16>,
                        %sT: memref<2x4x64x32xf32>, %cu: memref<3xi64>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x64xf16>) k(%k : memref<2x16x4x64xf16>)
      v(%v : memref<2x16x4x32xf16>) g(%g : memref<2x16x4xf32>)
      initial_state(%s0 : memref<2x4x64x32xf32>) output(%o : memref<2x16x4x32xf16>)
      final_state(%sT : memref<2x4x64x32xf32>) cu_seqlens(%cu : memref<3xi64>)
      scale(%scale) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

// No decay: no cumulative sum, no decayed rows, no decay operands.
// CHECK-LABEL: func.func @no_decay
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 32 : i64, form = #linac.form<decay = none, update = plain>} {
// CHECK-NEXT:  ^bb0(%{{[^:]+}}: memref<?x8xf32, strided<[?, ?], offset: ?>>, %{{[^:]+}}: memref<?x8xf32, strided<[?, ?], offset: ?>>, %{{[^:]+}}: memref<?x8xf32, strided<[?, ?], offset: ?>>, %{{[^:]+}}: memref<8x8xf32, strided<[?, ?], offset: ?>>, %{{[^:]+}}: memref<?x8xf32, strided<[?, ?], offset: ?>>):
// CHECK-NOT:     linac.chunk_cumsum
// CHECK-NOT:     linac.decayed_rows
// CHECK:         memref.alloca() : memref<32x32xf32>
// CHECK:         linac.decayed_scores ins({{[^)]*}}) outs(
// CHECK-NEXT:    linac.chunk_output ins({{[^)]*}}) scale(%{{[^ ]+}}) outs(
// CHECK-NEXT:    linac.chunk_state_update ins({{[^)]*}}) outs(
// CHECK-NEXT:  }
func.func @no_decay(%q: memref<2x16x4x8xf32>, %o: memref<2x16x4x8xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%q : memref<2x16x4x8xf32>)
      v(%q : memref<2x16x4x8xf32>) output(%o : memref<2x16x4x8xf32>) scale(%scale)
      attributes {chunk_size = 32 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// The normalizer: a key-sum argument [K] and linac.chunk_normalize after the
// output and the state update.
// CHECK-LABEL: func.func @normalized
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 64 : i64, form = #linac.form<decay = none, update = plain>, normalize} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: memref<?x8xf32, {{.*}}>, %[[K:[^:]+]]: memref<?x8xf32, {{.*}}>, %{{[^:]+}}: memref<?x4xf32, {{.*}}>, %{{[^:]+}}: memref<8x4xf32, {{.*}}>, %[[O:[^:]+]]: memref<?x4xf32, {{.*}}>, %[[Z:[^:]+]]: memref<8xf32, strided<[?], offset: ?>>):
// CHECK:         linac.chunk_output
// CHECK:         linac.chunk_state_update
// CHECK-NEXT:    linac.chunk_normalize ins(%[[Q]], %[[K]] : {{.*}}) scale(%{{[^ ]+}}) outs(%[[Z]], %[[O]] : {{.*}})
// CHECK-NEXT:  }
func.func @normalized(%q: memref<2x16x4x8xf32>, %v: memref<2x16x4x4xf32>, %o: memref<2x16x4x4xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%q : memref<2x16x4x8xf32>)
      v(%v : memref<2x16x4x4xf32>) output(%o : memref<2x16x4x4xf32>) scale(%scale)
      attributes {normalize, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// A recurrent (decode) recurrence is a chunk loop with chunks of one token,
// whatever its chunk_size says.
// CHECK-LABEL: func.func @recurrent
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 1 : i64, form = #linac.form<decay = scalar, update = plain>} {
// CHECK:         memref.alloca() : memref<1xf32>
// CHECK:         linac.chunk_cumsum
// CHECK:         memref.alloca() : memref<1x1xf32>
// CHECK:         linac.decayed_scores
func.func @recurrent(%q: memref<2x16x4x8xf32>, %g: memref<2x16x4xf32>, %o: memref<2x16x4x8xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%q : memref<2x16x4x8xf32>)
      v(%q : memref<2x16x4x8xf32>) g(%g : memref<2x16x4xf32>) output(%o : memref<2x16x4x8xf32>) scale(%scale)
      attributes {chunk_size = 128 : i64, mode = #linac<mode recurrent>,
                  form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

// A vector decay: cumulative sums per key channel [C, K], forward and
// reverse; the scores need a workspace of 32 + C rows.
// CHECK-LABEL: func.func @vector_decay
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = vector, update = plain>} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: {{.*}}, %[[K:[^:]+]]: {{.*}}, %{{[^:]+}}: {{.*}}, %[[G:[^:]+]]: memref<?x8xf32, strided<[?, ?], offset: ?>>, %{{[^:]+}}: {{.*}}, %{{[^:]+}}: {{.*}}):
// CHECK:         memref.alloca() : memref<16x8xf32>
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GF:[^ ]+]] : memref<?x8xf32, strided<[8, 1]>>)
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GR:[^ ]+]] : memref<?x8xf32, strided<[8, 1]>>) {reverse}
// CHECK:         memref.alloca() : memref<48x8xf32>
// CHECK:         linac.decayed_scores ins(%[[Q]], %[[K]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%{{[^ ]+}} : memref<48x8xf32{{.*}}>) outs(
// CHECK:         linac.decayed_rows ins(%[[Q]], %[[GF]] : {{.*}})
// CHECK:         linac.chunk_output
// CHECK:         linac.decayed_rows ins(%[[K]], %[[GR]] : {{.*}})
// CHECK:         linac.chunk_state_update ins({{.*}}) decay(%[[GF]] : memref<?x8xf32, strided<[8, 1]>>)
func.func @vector_decay(%q: memref<2x16x4x8xf32>, %g: memref<2x16x4x8xf32>, %o: memref<2x16x4x8xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%q : memref<2x16x4x8xf32>)
      v(%q : memref<2x16x4x8xf32>) g(%g : memref<2x16x4x8xf32>) output(%o : memref<2x16x4x8xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = vector, update = plain>}
  return
}

// -----

// The delta rule: the UT transform of the strictly lower key products, then
// W = T K, U = T V - W S; U takes the values' place. The scratch buffers that
// hold V are marked for the tiling pass.
// CHECK-LABEL: func.func @delta_rule
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = delta>} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: {{.*}}, %[[K:[^:]+]]: {{.*}}, %[[V:[^:]+]]: {{.*}}, %[[B:[^:]+]]: memref<?xf32, strided<[?], offset: ?>>, %[[S:[^:]+]]: {{.*}}, %[[O:[^:]+]]: {{.*}}):
// CHECK:         linac.decayed_scores ins(%[[Q]], %[[K]] : {{[^)]*}}) outs(%[[P:[^ ]+]] :
// CHECK-NOT:     linac.chunk_sigmoid
// CHECK:         linac.decayed_scores ins(%[[K]], %[[K]] : {{[^)]*}}) outs(%[[A:[^ ]+]] : {{.*}}) {strict}
// CHECK:         linac.ut_transform ins(%[[A]], %[[B]] : {{.*}}) outs(%[[T:[^ ]+]] :
// T is lower triangular: its products are marked causal.
// CHECK:         linac.chunk_matmul ins(%[[T]], %[[K]] : {{.*}}) outs(%[[W:[^ ]+]] : {{.*}}) {causal_stride = 1 : i64}
// CHECK:         memref.alloca() {linac.value_dims = array<i64: 1>} : memref<16x4xf32>
// CHECK:         linac.chunk_matmul ins(%[[T]], %[[V]] : {{.*}}) outs(%[[U:[^ ]+]] : {{.*}}) {causal_stride = 1 : i64}
// CHECK-NEXT:    linac.chunk_matmul ins(%[[W]], %[[S]] : {{.*}}) outs(%[[U]] : {{.*}}) {accumulate = #linac<accumulate subtract>}
// CHECK-NEXT:    linac.chunk_output ins(%[[Q]], %[[S]], %[[P]], %[[U]] : {{.*}}) scale(%{{[^ ]+}}) outs(%[[O]] :
// CHECK-NEXT:    linac.chunk_state_update ins(%[[K]], %[[U]] : {{[^)]*}}) outs(%[[S]] :
// CHECK-NEXT:  }
func.func @delta_rule(%q: memref<2x16x4x8xf32>, %v: memref<2x16x4x4xf32>, %b: memref<2x16x4xf32>, %o: memref<2x16x4x4xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%q : memref<2x16x4x8xf32>)
      v(%v : memref<2x16x4x4xf32>) beta(%b : memref<2x16x4xf32>) output(%o : memref<2x16x4x4xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

// The gated delta rule with the in-kernel L2 norm of q and k and sigmoid
// step sizes: the normalized q and k replace q and k everywhere, the
// sigmoid of beta feeds the UT transform, the keys are decayed in W.
// CHECK-LABEL: func.func @gated_delta_rule
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = delta>} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: {{.*}}, %[[K:[^:]+]]: {{.*}}, %[[V:[^:]+]]: {{.*}}, %[[G:[^:]+]]: {{.*}}, %[[B:[^:]+]]: {{.*}}, %[[S:[^:]+]]: {{.*}}, %[[O:[^:]+]]: {{.*}}):
// CHECK:         linac.chunk_l2_normalize ins(%[[Q]] : {{.*}}) outs(%[[QN:[^ ]+]] :
// CHECK:         linac.chunk_l2_normalize ins(%[[K]] : {{.*}}) outs(%[[KN:[^ ]+]] :
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GF:[^ ]+]] :
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GR:[^ ]+]] : {{.*}}) {reverse}
// CHECK:         linac.decayed_scores ins(%[[QN]], %[[KN]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS:[^ ]+]] : {{.*}}) outs(%[[P:[^ ]+]] :
// CHECK:         linac.chunk_sigmoid ins(%[[B]] : {{.*}}) outs(%[[BS:[^ ]+]] : {{.*}}) {factor = 2.000000e+00 : f32}
// CHECK:         linac.decayed_scores ins(%[[KN]], %[[KN]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS]] : {{.*}}) outs(%[[A:[^ ]+]] : {{.*}}) {strict}
// CHECK:         linac.ut_transform ins(%[[A]], %[[BS]] : {{.*}}) outs(%[[T:[^ ]+]] :
// CHECK:         linac.decayed_rows ins(%[[KN]], %[[GF]] : {{.*}}) outs(%[[KD:[^ ]+]] :
// CHECK:         linac.chunk_matmul ins(%[[T]], %[[KD]] : {{.*}}) outs(%[[W:[^ ]+]] :
// CHECK:         linac.chunk_matmul ins(%[[T]], %[[V]] : {{.*}}) outs(%[[U:[^ ]+]] :
// CHECK-NEXT:    linac.chunk_matmul ins(%[[W]], %[[S]] : {{.*}}) outs(%[[U]] : {{.*}}) {accumulate = #linac<accumulate subtract>}
// CHECK:         linac.decayed_rows ins(%[[QN]], %[[GF]] : {{.*}}) outs(%[[QD:[^ ]+]] :
// CHECK-NEXT:    linac.chunk_output ins(%[[QD]], %[[S]], %[[P]], %[[U]] : {{.*}})
// CHECK:         linac.decayed_rows ins(%[[KN]], %[[GR]] : {{.*}}) outs(%[[KE:[^ ]+]] :
// CHECK-NEXT:    linac.chunk_state_update ins(%[[KE]], %[[U]] : {{.*}}) decay(%[[GF]] : {{.*}}) outs(%[[S]] :
func.func @gated_delta_rule(%q: memref<2x16x4x8xf16>, %g: memref<2x16x4xf32>, %b: memref<2x16x4xf32>, %v: memref<2x16x4x4xf16>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x8xf16>) k(%q : memref<2x16x4x8xf16>)
      v(%v : memref<2x16x4x4xf16>) g(%g : memref<2x16x4xf32>) beta(%b : memref<2x16x4xf32>) output(%v : memref<2x16x4x4xf16>) scale(%scale)
      attributes {chunk_size = 16 : i64, qk_l2norm, beta_sigmoid = 2.0 : f32, form = #linac.form<decay = scalar, update = delta>}
  return
}

// -----

// Non-causal attention: a body that only accumulates the state S += K^T V
// (and the key sum z += sum of the keys with the normalizer) over every chunk,
// and a readout region, with the same arguments, that writes O = scale Q S
// (divided by scale q . z + 1e-10 with the fixed, whole-sequence z). Grouped
// heads keep q and k at their 2 heads.
// CHECK-LABEL: func.func @noncausal_normalized
// CHECK:       linac.chunk_loop q(%{{[^ ]+}} : memref<2x16x2x8xf32>) k(%{{[^ ]+}} : memref<2x16x2x8xf32>) v(%{{[^ ]+}} : memref<2x16x4x16xf32>)
// CHECK-SAME:    initial_state(%{{[^ ]+}} : memref<2x4x8x16xf32>) output(%{{[^ ]+}} : memref<2x16x4x16xf32>) scale(%[[SCALE:[^ ]+]])
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, normalize} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: memref<?x8xf32, {{[^>]*}}>>, %[[K:[^:]+]]: memref<?x8xf32, {{[^>]*}}>>, %[[V:[^:]+]]: memref<?x16xf32, {{[^>]*}}>>, %[[S:[^:]+]]: memref<8x16xf32, {{[^>]*}}>>, %[[O:[^:]+]]: memref<?x16xf32, {{[^>]*}}>>, %[[Z:[^:]+]]: memref<8xf32, {{[^>]*}}>>):
// CHECK-NEXT:    linac.chunk_state_update ins(%[[K]], %[[V]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK-NEXT:    linac.chunk_key_sum ins(%[[K]] : {{.*}}) outs(%[[Z]] : {{.*}})
// CHECK-NEXT:  } {
// CHECK-NEXT:  ^bb0(%[[RQ:[^:]+]]: memref<?x8xf32, {{[^>]*}}>>, %[[RK:[^:]+]]: memref<?x8xf32, {{[^>]*}}>>, %{{[^:]+}}: memref<?x16xf32, {{[^>]*}}>>, %[[RS:[^:]+]]: memref<8x16xf32, {{[^>]*}}>>, %[[RO:[^:]+]]: memref<?x16xf32, {{[^>]*}}>>, %[[RZ:[^:]+]]: memref<8xf32, {{[^>]*}}>>):
// CHECK-NEXT:    linac.chunk_readout ins(%[[RQ]], %[[RS]] : {{.*}}) scale(%[[SCALE]]) outs(%[[RO]] : {{.*}})
// CHECK-NEXT:    linac.chunk_normalize ins(%[[RQ]], %[[RK]] : {{.*}}) scale(%[[SCALE]]) outs(%[[RZ]], %[[RO]] : {{.*}}) {fixed}
// CHECK-NEXT:  }
// CHECK-NEXT:  return
!qk = memref<2x16x2x8xf32>
!vo = memref<2x16x4x16xf32>
func.func @noncausal_normalized(%q: !qk, %k: !qk, %v: !vo, %s0: memref<2x4x8x16xf32>, %o: !vo, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo) initial_state(%s0 : memref<2x4x8x16xf32>) output(%o : !vo) scale(%scale)
      attributes {chunk_size = 16 : i64, mode = #linac<mode noncausal>, normalize, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Without the normalizer: no key sum in either region.
// CHECK-LABEL: func.func @noncausal
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 64 : i64, form = #linac.form<decay = none, update = plain>} {
// CHECK-NEXT:  ^bb0({{.*}}):
// CHECK-NEXT:    linac.chunk_state_update
// CHECK-NEXT:  } {
// CHECK-NEXT:  ^bb0({{.*}}):
// CHECK-NEXT:    linac.chunk_readout
// CHECK-NEXT:  }
// CHECK-NOT:   linac.chunk_key_sum
// CHECK-NOT:   linac.chunk_normalize
!qk = memref<2x16x4x8xf32>
func.func @noncausal(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale)
      attributes {mode = #linac<mode noncausal>, form = #linac.form<decay = none, update = plain>}
  return
}
