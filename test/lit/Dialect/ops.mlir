// RUN: linac-opt %s | linac-opt | FileCheck %s
// RUN: linac-opt %s -mlir-print-op-generic | linac-opt | FileCheck %s
// RUN: linac-opt %s -mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trips of every linac op in its custom form, and through the generic
// form.

!qk = memref<2x16x4x64xf32>
!g = memref<2x16x4xf32>

// CHECK-LABEL: func.func @step_region
// CHECK:       linac.recurrence q(%{{[^ ]+}} : memref<2x16x4x64xf32>) k(%{{[^ ]+}} : memref<2x16x4x64xf32>) v(%{{[^ ]+}} : memref<2x16x4x64xf32>) g(%{{[^ ]+}} : memref<2x16x4xf32>) output(%{{[^ ]+}} : memref<2x16x4x64xf32>) scale(%{{[^ ]+}}) {
// CHECK-NEXT:  ^bb0(%[[QT:.*]]: tensor<64xf32>, %[[KT:.*]]: tensor<64xf32>, %[[VT:.*]]: tensor<64xf32>, %[[GT:.*]]: f32, %[[S:.*]]: tensor<64x64xf32>):
// CHECK-NEXT:    %[[D:.*]] = math.exp %[[GT]] : f32
// CHECK-NEXT:    %[[SD:.*]] = linac.scale %[[S]], %[[D]] : tensor<64x64xf32>
// CHECK-NEXT:    %[[KV:.*]] = linac.outer %[[KT]], %[[VT]] : tensor<64xf32>, tensor<64xf32> -> tensor<64x64xf32>
// CHECK-NEXT:    %[[SN:.*]] = arith.addf %[[SD]], %[[KV]] : tensor<64x64xf32>
// CHECK-NEXT:    %[[ST:.*]] = linac.transpose %[[SN]] : tensor<64x64xf32> -> tensor<64x64xf32>
// CHECK-NEXT:    %[[R:.*]] = linac.matvec %[[ST]], %[[QT]] : tensor<64x64xf32>, tensor<64xf32> -> tensor<64xf32>
// CHECK-NEXT:    %[[OT:.*]] = linac.scale %[[R]], %{{[^ ]+}} : tensor<64xf32>
// CHECK-NEXT:    linac.yield %[[SN]], %[[OT]] : tensor<64x64xf32>, tensor<64xf32>
// CHECK-NEXT:  }
func.func @step_region(%q: !qk, %k: !qk, %v: !qk, %g: !g, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !g)
      output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<64xf32>, %kt: tensor<64xf32>, %vt: tensor<64xf32>,
       %gt: f32, %S: tensor<64x64xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<64x64xf32>
    %kv = linac.outer %kt, %vt : tensor<64xf32>, tensor<64xf32> -> tensor<64x64xf32>
    %Sn = arith.addf %Sd, %kv : tensor<64x64xf32>
    %St = linac.transpose %Sn : tensor<64x64xf32> -> tensor<64x64xf32>
    %r = linac.matvec %St, %qt : tensor<64x64xf32>, tensor<64xf32> -> tensor<64xf32>
    %ot = linac.scale %r, %scale : tensor<64xf32>
    linac.yield %Sn, %ot : tensor<64x64xf32>, tensor<64xf32>
  }
  return
}

// GENERIC-LABEL: sym_name = "step_region"
// GENERIC:       "linac.recurrence"({{.*}}) <{chunk_size = 64 : i64, householder = 1 : i64, mode = #linac<mode chunk>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 1, 0, 0, 1>}> ({
// GENERIC:         "linac.yield"({{.*}}) : (tensor<64x64xf32>, tensor<64xf32>) -> ()

// Every optional operand, in its place, with a canonical form and every
// modifier: two Householder steps per token (k, v and beta carry 2 x T rows),
// in-kernel L2 norm of q and k, sigmoid step sizes.
// GENERIC-LABEL: sym_name = "every_operand"
// GENERIC:       "linac.recurrence"({{.*}}) <{beta_sigmoid = 2.000000e+00 : f32, chunk_size = 32 : i64, form = #linac.form<decay = scalar, update = delta>, householder = 2 : i64, mode = #linac<mode recurrent>, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 1, 1>, qk_l2norm}> ({
// GENERIC-NEXT:  }) :
// CHECK-LABEL: func.func @every_operand
// CHECK:       linac.recurrence q(%{{[^ ]+}} : memref<1x8x4x64xbf16>) k(%{{[^ ]+}} : memref<1x16x4x64xbf16>) v(%{{[^ ]+}} : memref<1x16x4x32xbf16>)
// CHECK-SAME:    g(%{{[^ ]+}} : memref<1x8x4xf32>) beta(%{{[^ ]+}} : memref<1x16x4xf32>)
// CHECK-SAME:    initial_state(%{{[^ ]+}} : memref<?x4x64x32xf32>) output(%{{[^ ]+}} : memref<1x8x4x32xbf16>)
// CHECK-SAME:    final_state(%{{[^ ]+}} : memref<?x4x64x32xf32>) cu_seqlens(%{{[^ ]+}} : memref<?xi64>) scale(%{{[^ ]+}})
// CHECK-SAME:    attributes {beta_sigmoid = 2.000000e+00 : f32, chunk_size = 32 : i64, form = #linac.form<decay = scalar, update = delta>, householder = 2 : i64, mode = #linac<mode recurrent>, qk_l2norm}
// CHECK-NOT:   ^bb0
func.func @every_operand(%q: memref<1x8x4x64xbf16>, %k: memref<1x16x4x64xbf16>,
                         %v: memref<1x16x4x32xbf16>, %g: memref<1x8x4xf32>,
                         %beta: memref<1x16x4xf32>, %s0: memref<?x4x64x32xf32>,
                         %o: memref<1x8x4x32xbf16>, %sT: memref<?x4x64x32xf32>,
                         %cu: memref<?xi64>, %scale: f32) {
  linac.recurrence q(%q : memref<1x8x4x64xbf16>) k(%k : memref<1x16x4x64xbf16>)
      v(%v : memref<1x16x4x32xbf16>) g(%g : memref<1x8x4xf32>)
      beta(%beta : memref<1x16x4xf32>) initial_state(%s0 : memref<?x4x64x32xf32>)
      output(%o : memref<1x8x4x32xbf16>) final_state(%sT : memref<?x4x64x32xf32>)
      cu_seqlens(%cu : memref<?xi64>) scale(%scale)
      attributes {chunk_size = 32 : i64, mode = #linac<mode recurrent>, householder = 2 : i64,
                  qk_l2norm, beta_sigmoid = 2.0 : f32,
                  form = #linac.form<decay = scalar, update = delta>}
  return
}

// The normalizer.
// CHECK-LABEL: func.func @normalized
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {form = #linac.form<decay = vector, update = plain>, normalize}
func.func @normalized(%q: memref<2x16x4x64xf32>, %g: memref<2x16x4x64xf32>, %o: memref<2x16x4x64xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<2x16x4x64xf32>) k(%q : memref<2x16x4x64xf32>)
      v(%q : memref<2x16x4x64xf32>) g(%g : memref<2x16x4x64xf32>)
      output(%o : memref<2x16x4x64xf32>) scale(%scale)
      attributes {normalize, form = #linac.form<decay = vector, update = plain>}
  return
}

// The default chunk size (64), mode (chunk) and householder (1) are not
// printed.
// CHECK-LABEL: func.func @defaults
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {form = #linac.form<decay = none, update = plain>}
func.func @defaults(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk)
      scale(%scale) attributes {chunk_size = 64 : i64, mode = #linac<mode chunk>,
                                householder = 1 : i64,
                                form = #linac.form<decay = none, update = plain>}
  return
}

// CHECK-LABEL: func.func @step_ops
// CHECK:         linac.outer %{{.*}}, %{{[^ ]+}} : tensor<8xf32>, tensor<4xf32> -> tensor<8x4xf32>
// CHECK:         linac.transpose %{{[^ ]+}} : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK:         linac.matvec %{{.*}}, %{{[^ ]+}} : tensor<4x8xf32>, tensor<8xf32> -> tensor<4xf32>
// CHECK:         linac.scale %{{.*}}, %{{[^ ]+}} : tensor<4xf32>
func.func @step_ops(%a: tensor<8xf32>, %b: tensor<4xf32>, %f: f32) -> tensor<4xf32> {
  %o = linac.outer %a, %b : tensor<8xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %t = linac.transpose %o : tensor<8x4xf32> -> tensor<4x8xf32>
  %r = linac.matvec %t, %a : tensor<4x8xf32>, tensor<8xf32> -> tensor<4xf32>
  %s = linac.scale %r, %f : tensor<4xf32>
  %rows = linac.scale_rows %o, %a : tensor<8x4xf32>, tensor<8xf32>
  return %s : tensor<4xf32>
}

!view = memref<?x64xf32, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<64x64xf32, strided<[?, ?], offset: ?>>

// A chunk loop of a delta rule with two sub-steps per token, and every
// tile-level op in its body.
// CHECK-LABEL: func.func @chunk_loop
// CHECK:       linac.chunk_loop q(%{{[^ ]+}} : memref<2x16x4x64xf32>) k(%{{[^ ]+}} : memref<2x32x4x64xf32>) v(%{{[^ ]+}} : memref<2x32x4x64xf32>) g(%{{[^ ]+}} : memref<2x16x4xf32>) beta(%{{[^ ]+}} : memref<2x32x4xf32>) output(%{{[^ ]+}} : memref<2x16x4x64xf32>) scale(%[[SCALE:[^ ]+]]) attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = delta>, interleave = 2 : i64} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: memref<?x64xf32, strided<[?, ?], offset: ?>>, %[[K:[^:]+]]: memref<?x64xf32, strided<[?, ?], offset: ?>>, %[[V:[^:]+]]: memref<?x64xf32, strided<[?, ?], offset: ?>>, %[[G:[^:]+]]: memref<?xf32, strided<[?], offset: ?>>, %[[B:[^:]+]]: memref<?xf32, strided<[?], offset: ?>>, %[[S:[^:]+]]: memref<64x64xf32, strided<[?, ?], offset: ?>>, %[[O:[^:]+]]: memref<?x64xf32, strided<[?, ?], offset: ?>>):
// CHECK:         linac.chunk_cumsum ins(%[[G]] : memref<?xf32, strided<[?], offset: ?>>) outs(%[[GQ:[^ ]+]] : memref<16xf32>)
// CHECK-NEXT:    linac.chunk_cumsum ins(%[[G]] : memref<?xf32, strided<[?], offset: ?>>) outs(%[[GK:[^ ]+]] : memref<32xf32>) {repeat = 2 : i64, reverse}
// CHECK-NEXT:    linac.chunk_cumsum ins(%[[GV:[^ ]+]] : memref<16x64xf32>) outs(%{{[^ ]+}} : memref<16x64xf32>)
// CHECK-NEXT:    linac.chunk_l2_normalize ins(%[[Q]] : {{.*}}) outs(%[[QN:[^ ]+]] : memref<16x64xf32>)
// CHECK-NEXT:    linac.chunk_sigmoid ins(%[[B]] : {{.*}}) outs(%[[BS:[^ ]+]] : memref<32xf32>) {factor = 2.000000e+00 : f32}
// CHECK-NEXT:    linac.decayed_scores ins(%[[QN]], %[[K]] : {{.*}}) gates(%[[G]] : memref<?xf32, strided<[?], offset: ?>>) workspace(%[[WS:[^ ]+]] : memref<16x16xf32>) outs(%[[P:[^ ]+]] : memref<16x32xf32>) {interleave = 2 : i64, query_stride = 2 : i64}
// CHECK-NEXT:    linac.decayed_scores ins(%[[K]], %[[K]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS]] : memref<16x16xf32>) outs(%[[A:[^ ]+]] : memref<32x32xf32>) {interleave = 2 : i64, strict}
// CHECK-NEXT:    linac.decayed_scores ins(%[[QN]], %[[QN]] : {{.*}}) gates(%[[GV]] : memref<16x64xf32>) workspace(%{{[^ ]+}} : memref<48x64xf32>) outs(%{{[^ ]+}} : memref<16x16xf32>)
// CHECK-NEXT:    linac.decayed_scores ins(%[[QN]], %[[QN]] : {{.*}}) outs(%{{[^ ]+}} : memref<16x16xf32>)
// CHECK-NEXT:    linac.ut_transform ins(%[[A]], %[[BS]] : memref<32x32xf32>, memref<32xf32>) outs(%[[T:[^ ]+]] : memref<32x32xf32>)
// CHECK-NEXT:    linac.decayed_rows ins(%[[K]], %[[GK]] : {{.*}}, memref<32xf32>) outs(%[[KD:[^ ]+]] : memref<32x64xf32>)
// CHECK-NEXT:    linac.chunk_matmul ins(%[[T]], %[[KD]] : memref<32x32xf32>, memref<32x64xf32>) outs(%[[W:[^ ]+]] : memref<32x64xf32>)
// CHECK-NEXT:    linac.chunk_matmul ins(%[[T]], %[[V]] : memref<32x32xf32>, {{.*}}) outs(%[[U:[^ ]+]] : memref<32x64xf32>) {accumulate = #linac<accumulate add>}
// CHECK-NEXT:    linac.chunk_matmul ins(%[[W]], %[[S]] : memref<32x64xf32>, {{.*}}) outs(%[[U]] : memref<32x64xf32>) {accumulate = #linac<accumulate subtract>}
// CHECK-NEXT:    linac.chunk_output ins(%[[QN]], %[[S]], %[[P]], %[[U]] : {{.*}}) scale(%[[SCALE]]) outs(%[[O]] : {{.*}})
// CHECK-NEXT:    linac.chunk_state_update ins(%[[KD]], %[[U]] : {{.*}}) decay(%[[GK]] : memref<32xf32>) outs(%[[S]] : {{.*}})
// CHECK-NEXT:    linac.chunk_state_update ins(%[[KD]], %[[U]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK-NEXT:  }
!k2 = memref<2x32x4x64xf32>
func.func @chunk_loop(%q: !qk, %k: !k2, %v: !k2, %g: !g, %beta: memref<2x32x4xf32>, %o: !qk, %scale: f32) {
  linac.chunk_loop q(%q : !qk) k(%k : !k2) v(%v : !k2) g(%g : !g) beta(%beta : memref<2x32x4xf32>) output(%o : !qk)
      scale(%scale) attributes {chunk_size = 16 : i64, interleave = 2 : i64,
                                form = #linac.form<decay = scalar, update = delta>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %gc: !vec, %bc: !vec, %S: !state, %oc: !view):
    %GQ = memref.alloca() : memref<16xf32>
    %GK = memref.alloca() : memref<32xf32>
    %GV = memref.alloca() : memref<16x64xf32>
    %QN = memref.alloca() : memref<16x64xf32>
    %BS = memref.alloca() : memref<32xf32>
    %P = memref.alloca() : memref<16x32xf32>
    %A = memref.alloca() : memref<32x32xf32>
    %PV = memref.alloca() : memref<16x16xf32>
    %WS = memref.alloca() : memref<16x16xf32>
    %WV = memref.alloca() : memref<48x64xf32>
    %T = memref.alloca() : memref<32x32xf32>
    %KD = memref.alloca() : memref<32x64xf32>
    %W = memref.alloca() : memref<32x64xf32>
    %U = memref.alloca() : memref<32x64xf32>
    linac.chunk_cumsum ins(%gc : !vec) outs(%GQ : memref<16xf32>)
    linac.chunk_cumsum ins(%gc : !vec) outs(%GK : memref<32xf32>) {repeat = 2 : i64, reverse}
    linac.chunk_cumsum ins(%GV : memref<16x64xf32>) outs(%GV : memref<16x64xf32>) {repeat = 1 : i64}
    linac.chunk_l2_normalize ins(%qc : !view) outs(%QN : memref<16x64xf32>)
    linac.chunk_sigmoid ins(%bc : !vec) outs(%BS : memref<32xf32>) {factor = 2.0 : f32}
    linac.decayed_scores ins(%QN, %kc : memref<16x64xf32>, !view) gates(%gc : !vec)
        workspace(%WS : memref<16x16xf32>) outs(%P : memref<16x32xf32>)
        {query_stride = 2 : i64, interleave = 2 : i64}
    linac.decayed_scores ins(%kc, %kc : !view, !view) gates(%gc : !vec)
        workspace(%WS : memref<16x16xf32>) outs(%A : memref<32x32xf32>)
        {strict, query_stride = 1 : i64, interleave = 2 : i64}
    linac.decayed_scores ins(%QN, %QN : memref<16x64xf32>, memref<16x64xf32>) gates(%GV : memref<16x64xf32>)
        workspace(%WV : memref<48x64xf32>) outs(%PV : memref<16x16xf32>)
    linac.decayed_scores ins(%QN, %QN : memref<16x64xf32>, memref<16x64xf32>) outs(%PV : memref<16x16xf32>)
    linac.ut_transform ins(%A, %BS : memref<32x32xf32>, memref<32xf32>) outs(%T : memref<32x32xf32>)
    linac.decayed_rows ins(%kc, %GK : !view, memref<32xf32>) outs(%KD : memref<32x64xf32>)
    linac.chunk_matmul ins(%T, %KD : memref<32x32xf32>, memref<32x64xf32>) outs(%W : memref<32x64xf32>) {accumulate = #linac<accumulate overwrite>}
    linac.chunk_matmul ins(%T, %vc : memref<32x32xf32>, !view) outs(%U : memref<32x64xf32>) {accumulate = #linac<accumulate add>}
    linac.chunk_matmul ins(%W, %S : memref<32x64xf32>, !state) outs(%U : memref<32x64xf32>) {accumulate = #linac<accumulate subtract>}
    linac.chunk_output ins(%QN, %S, %P, %U : memref<16x64xf32>, !state, memref<16x32xf32>, memref<32x64xf32>)
        scale(%scale) outs(%oc : !view)
    linac.chunk_state_update ins(%KD, %U : memref<32x64xf32>, memref<32x64xf32>) decay(%GK : memref<32xf32>)
        outs(%S : !state)
    linac.chunk_state_update ins(%KD, %U : memref<32x64xf32>, memref<32x64xf32>) outs(%S : !state)
    linac.yield
  }
  return
}

// The normalizer's tile op, with the key sum of a normalized chunk loop.
// CHECK-LABEL: func.func @chunk_normalize
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, normalize} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: {{.*}}, %[[K:[^:]+]]: {{.*}}, %{{[^:]+}}: {{.*}}, %{{[^:]+}}: {{.*}}, %[[O:[^:]+]]: {{.*}}, %[[Z:[^:]+]]: memref<64xf32>):
// CHECK-NEXT:    linac.chunk_normalize ins(%[[Q]], %[[K]] : {{.*}}) scale(%{{[^ ]+}}) outs(%[[Z]], %[[O]] : memref<64xf32>, {{.*}})
func.func @chunk_normalize(%q: !qk, %o: !qk, %scale: f32) {
  linac.chunk_loop q(%q : !qk) k(%q : !qk) v(%q : !qk) output(%o : !qk)
      scale(%scale) attributes {chunk_size = 16 : i64, normalize,
                                form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %z: memref<64xf32>):
    linac.chunk_normalize ins(%qc, %kc : !view, !view) scale(%scale)
        outs(%z, %oc : memref<64xf32>, !view)
  }
  return
}

// Grouped heads: q and k have 2 heads, v, output, g and the states 4.
// CHECK-LABEL: func.func @grouped_heads
// CHECK:       linac.recurrence q(%{{[^ ]+}} : memref<2x16x2x64xf32>) k(%{{[^ ]+}} : memref<2x16x2x64xf32>) v(%{{[^ ]+}} : memref<2x16x4x32xf32>) g(%{{[^ ]+}} : memref<2x16x4xf32>)
// CHECK-SAME:    initial_state(%{{[^ ]+}} : memref<?x4x64x32xf32>) output(%{{[^ ]+}} : memref<2x16x4x32xf32>)
!gq = memref<2x16x2x64xf32>
!gv = memref<2x16x4x32xf32>
func.func @grouped_heads(%q: !gq, %k: !gq, %v: !gv, %g: !g, %s0: memref<?x4x64x32xf32>, %o: !gv, %scale: f32) {
  linac.recurrence q(%q : !gq) k(%k : !gq) v(%v : !gv) g(%g : !g)
      initial_state(%s0 : memref<?x4x64x32xf32>) output(%o : !gv) scale(%scale)
      attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// Non-causal attention.
// CHECK-LABEL: func.func @noncausal
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {form = #linac.form<decay = none, update = plain>, mode = #linac<mode noncausal>, normalize}
// GENERIC-LABEL: sym_name = "noncausal"
// GENERIC:       "linac.recurrence"({{.*}}) <{chunk_size = 64 : i64, form = #linac.form<decay = none, update = plain>, householder = 1 : i64, mode = #linac<mode noncausal>, normalize
func.func @noncausal(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale)
      attributes {mode = #linac<mode noncausal>, normalize,
                  form = #linac.form<decay = none, update = plain>}
  return
}

// A chunk loop with an aux input of each layout (after the other body
// arguments, in order) and a readout region, and the state-space and
// non-causal tile ops.
// CHECK-LABEL: func.func @chunk_loop_aux_readout
// CHECK:       linac.chunk_loop q(%{{[^ ]+}} : memref<2x16x2x64xf32>) k(%{{[^ ]+}} : memref<2x16x2x64xf32>) v(%{{[^ ]+}} : memref<2x16x4x32xf32>) g(%{{[^ ]+}} : memref<2x16x4xf32>) output(%{{[^ ]+}} : memref<2x16x4x32xf32>)
// CHECK-SAME:    aux(%{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} : memref<2x16x4xf32>, memref<2x16x4x32xf32>, memref<4xf32>, memref<4x64xf32>, memref<4x32xf32>) scale(%[[SCALE:[^ ]+]])
// CHECK-SAME:    attributes {aux_layouts = ["token", "token_value", "head", "head", "head_value"], chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>, normalize} {
// CHECK-NEXT:  ^bb0(%[[Q:arg[0-9]+]]: memref<?x64xf32, {{[^>]*}}>>, %[[K:arg[0-9]+]]: memref<?x64xf32, {{[^>]*}}>>, %{{arg[0-9]+}}: memref<?x32xf32, {{[^>]*}}>>, %{{arg[0-9]+}}: memref<?xf32, {{[^>]*}}>>, %[[S:arg[0-9]+]]: memref<64x32xf32, {{[^>]*}}>>, %[[O:arg[0-9]+]]: memref<?x32xf32, {{[^>]*}}>>, %[[Z:arg[0-9]+]]: memref<64xf32>,
// CHECK-SAME:    %[[DT:arg[0-9]+]]: memref<?xf32, {{[^>]*}}>>, %[[X:arg[0-9]+]]: memref<?x32xf32, {{[^>]*}}>>, %[[A:arg[0-9]+]]: memref<1xf32>, %[[AN:arg[0-9]+]]: memref<64xf32>, %[[D:arg[0-9]+]]: memref<32xf32>):
// CHECK:         linac.ssm_inputs ins(%[[X]], %[[DT]], %[[A]] : {{.*}}) bias(%[[A]] : memref<1xf32>) outs(%[[GS:[^,]+]], %[[XS:[^ ]+]] : memref<16xf32>, memref<16x32xf32>) {dt_softplus}
// CHECK-NEXT:    linac.ssm_inputs ins(%[[X]], %[[DT]], %[[AN]] : {{.*}}) outs(%[[GN:[^,]+]], %[[XS]] : memref<16x64xf32>, memref<16x32xf32>)
// CHECK-NEXT:    linac.chunk_scan ins(%[[Q]], %[[K]], %[[XS]], %[[GN]] : {{.*}}) outs(%[[S]], %[[O]] : {{.*}})
// CHECK-NEXT:    linac.chunk_scan ins(%[[Q]], %[[K]], %[[XS]], %[[GS]] : {{.*}}) outs(%[[S]], %[[O]] : {{.*}})
// CHECK-NEXT:    linac.ssm_output ins(%[[X]] : {{.*}}) skip(%[[D]] : memref<32xf32>) gate(%[[X]] : {{.*}}) outs(%[[O]] : {{.*}})
// CHECK-NEXT:    linac.ssm_output ins(%[[X]] : {{.*}}) outs(%[[O]] : {{.*}})
// CHECK-NEXT:    linac.chunk_key_sum ins(%[[K]] : {{.*}}) outs(%[[Z]] : memref<64xf32>)
// CHECK-NEXT:  } {
// CHECK-NEXT:  ^bb0(%[[RQ:arg[0-9]+]]: memref<?x64xf32, {{[^>]*}}>>, %[[RK:arg[0-9]+]]: {{.*}}, %[[RS:arg[0-9]+]]: memref<64x32xf32, {{[^>]*}}>>, %[[RO:arg[0-9]+]]: memref<?x32xf32, {{[^>]*}}>>, %[[RZ:arg[0-9]+]]: memref<64xf32>, {{.*}}):
// CHECK-NEXT:    linac.chunk_readout ins(%[[RQ]], %[[RS]] : {{.*}}) scale(%[[SCALE]]) outs(%[[RO]] : {{.*}})
// CHECK-NEXT:    linac.chunk_normalize ins(%[[RQ]], %[[RK]] : {{.*}}) scale(%[[SCALE]]) outs(%[[RZ]], %[[RO]] : {{.*}}) {fixed}
// CHECK-NEXT:  }
// GENERIC-LABEL: sym_name = "chunk_loop_aux_readout"
// GENERIC:       "linac.chunk_loop"({{.*}}) <{aux_layouts = ["token", "token_value", "head", "head", "head_value"], chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>, interleave = 1 : i64, normalize, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 1, 0, 0, 5, 1>}> ({
!gview = memref<?x64xf32, strided<[?, ?], offset: ?>>
!vview = memref<?x32xf32, strided<[?, ?], offset: ?>>
!vstate = memref<64x32xf32, strided<[?, ?], offset: ?>>
func.func @chunk_loop_aux_readout(%q: !gq, %k: !gq, %v: !gv, %g: !g, %o: !gv, %dt: !g, %x: !gv,
                                  %a: memref<4xf32>, %an: memref<4x64xf32>, %d: memref<4x32xf32>, %scale: f32) {
  linac.chunk_loop q(%q : !gq) k(%k : !gq) v(%v : !gv) g(%g : !g) output(%o : !gv)
      aux(%dt, %x, %a, %an, %d : !g, !gv, memref<4xf32>, memref<4x64xf32>, memref<4x32xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, normalize, form = #linac.form<decay = scalar, update = plain>,
                  aux_layouts = ["token", "token_value", "head", "head", "head_value"]} {
  ^bb0(%qc: !gview, %kc: !gview, %vc: !vview, %gc: !vec, %S: !vstate, %oc: !vview, %z: memref<64xf32>,
       %dtc: !vec, %xc: !vview, %ac: memref<1xf32>, %anc: memref<64xf32>, %dc: memref<32xf32>):
    %GS = memref.alloca() : memref<16xf32>
    %GN = memref.alloca() : memref<16x64xf32>
    %XS = memref.alloca() : memref<16x32xf32>
    linac.ssm_inputs ins(%xc, %dtc, %ac : !vview, !vec, memref<1xf32>) bias(%ac : memref<1xf32>)
        outs(%GS, %XS : memref<16xf32>, memref<16x32xf32>) {dt_softplus}
    linac.ssm_inputs ins(%xc, %dtc, %anc : !vview, !vec, memref<64xf32>)
        outs(%GN, %XS : memref<16x64xf32>, memref<16x32xf32>)
    linac.chunk_scan ins(%qc, %kc, %XS, %GN : !gview, !gview, memref<16x32xf32>, memref<16x64xf32>)
        outs(%S, %oc : !vstate, !vview)
    linac.chunk_scan ins(%qc, %kc, %XS, %GS : !gview, !gview, memref<16x32xf32>, memref<16xf32>)
        outs(%S, %oc : !vstate, !vview)
    linac.ssm_output ins(%xc : !vview) skip(%dc : memref<32xf32>) gate(%xc : !vview) outs(%oc : !vview)
    linac.ssm_output ins(%xc : !vview) outs(%oc : !vview)
    linac.chunk_key_sum ins(%kc : !gview) outs(%z : memref<64xf32>)
  } {
  ^bb0(%qc: !gview, %kc: !gview, %vc: !vview, %gc: !vec, %S: !vstate, %oc: !vview, %z: memref<64xf32>,
       %dtc: !vec, %xc: !vview, %ac: memref<1xf32>, %anc: memref<64xf32>, %dc: memref<32xf32>):
    linac.chunk_readout ins(%qc, %S : !gview, !vstate) scale(%scale) outs(%oc : !vview)
    linac.chunk_normalize ins(%qc, %kc : !gview, !gview) scale(%scale) outs(%z, %oc : memref<64xf32>, !vview) {fixed}
  }
  return
}
