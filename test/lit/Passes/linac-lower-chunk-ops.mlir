// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops -cse | FileCheck %s

// linac-lower-chunk-ops: each tile-level op as linalg.generic ops (or short
// scf.for loops) on its views.

// The cumulative sum is a sequential scf.for carrying the running sum,
// stored in the `repeat` rows of each input row.
// CHECK-LABEL: func.func @cumsum(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>, %[[OUT:[^:]+]]: memref<?xf32>)
// CHECK-NOT:   linac.
// CHECK:       %[[N:.*]] = memref.dim %[[G]], %c0
// CHECK:       scf.for %[[I:.*]] = %c0 to %[[N]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:    %[[GI:.*]] = memref.load %[[G]][%[[I]]]
// CHECK-NEXT:    %[[SUM:.*]] = arith.addf %[[ACC]], %[[GI]] : f32
// CHECK-NEXT:    %[[FIRST:.*]] = arith.muli %[[I]], %c1 : index
// CHECK-NEXT:    scf.for %[[J:.*]] = %c0 to %c1 step %c1 {
// CHECK-NEXT:      %[[ROW:.*]] = arith.addi %[[FIRST]], %[[J]] : index
// CHECK-NEXT:      memref.store %[[SUM]], %[[OUT]][%[[ROW]]]
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.yield %[[SUM]] : f32
func.func @cumsum(%g: memref<?xf32>, %G: memref<?xf32>) {
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>)
  return
}

// -----

// With repeat = 2, each sum is stored twice (rows 2 i and 2 i + 1).
// CHECK-LABEL: func.func @cumsum_repeat(
// CHECK:       scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 iter_args
// CHECK:         %[[FIRST:.*]] = arith.muli %[[I]], %c2 : index
// CHECK-NEXT:    scf.for %{{.*}} = %c0 to %c2 step %c1 {
func.func @cumsum_repeat(%g: memref<?xf32>, %G: memref<?xf32>) {
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>) {repeat = 2 : i64}
  return
}

// -----

// reverse: G[i] = g[i + 1] + ... + g[n - 1], walking the rows backwards and
// storing the sum before adding the row's own gate (the last row gets 0).
// CHECK-LABEL: func.func @cumsum_reverse(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>, %[[OUT:[^:]+]]: memref<?xf32>)
// CHECK:       %[[N:.*]] = memref.dim %[[G]], %c0
// CHECK:       scf.for %[[I:.*]] = %c0 to %[[N]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:    %[[LAST:.*]] = arith.subi %[[N]], %c1 : index
// CHECK-NEXT:    %[[ROW:.*]] = arith.subi %[[LAST]], %[[I]] : index
// CHECK-NEXT:    %[[GI:.*]] = memref.load %[[G]][%[[ROW]]]
// CHECK-NEXT:    %[[SUM:.*]] = arith.addf %[[ACC]], %[[GI]] : f32
// CHECK:           memref.store %[[ACC]], %[[OUT]][
// CHECK:         scf.yield %[[SUM]] : f32
func.func @cumsum_reverse(%g: memref<?xf32>, %G: memref<?xf32>) {
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>) {reverse}
  return
}

// -----

// Per key channel: row i is row i - 1 plus g[i] (row 0 is g[0]), one
// linalg.generic per row.
// CHECK-LABEL: func.func @cumsum_vector(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?x8xf32>, %[[OUT:[^:]+]]: memref<?x8xf32>)
// CHECK:       scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         %[[ROWS:.*]] = memref.subview %[[OUT]][%{{.*}}, 0] [1, %{{.*}}] [1, 1]
// CHECK:         %[[IS_FIRST:.*]] = arith.cmpi eq, %[[I]], %c0 : index
// CHECK:         scf.if %[[IS_FIRST]] {
// CHECK-NEXT:      %[[GI:.*]] = memref.subview %[[G]][%[[I]], 0] [1, 8] [1, 1]
// CHECK-NEXT:      linalg.generic {{.*}} ins(%[[GI]] : {{.*}}) outs(%[[ROWS]] : {{.*}})
// CHECK:         } else {
// CHECK:           %[[PREV:.*]] = memref.subview %[[OUT]]
// CHECK:           %[[GI:.*]] = memref.subview %[[G]][%[[I]], 0] [1, 8] [1, 1]
// CHECK:           linalg.generic {{.*}} ins(%[[PREV]], %[[GI]] : {{.*}}) outs(%[[ROWS]] : {{.*}})
// CHECK:             arith.addf
func.func @cumsum_vector(%g: memref<?x8xf32>, %G: memref<?x8xf32>) {
  linac.chunk_cumsum ins(%g : memref<?x8xf32>) outs(%G : memref<?x8xf32>)
  return
}

// -----

// Scores: a zero fill, a contraction over K (loops i, j, d) with f16 inputs
// extended to f32; then the window sums W[t, s] = g[s+1] + ... + g[t], row
// by row from the previous one (never a difference of two cumulative sums);
// then exp(W[i, min(j, i)]) and the causal mask (j <= i).
// CHECK-DAG:   #[[$QD:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[$KD:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[$IJ3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[$IJ:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @decayed_scores(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x64xf16>, %[[K:[^:]+]]: memref<?x64xf16>, %[[G:[^:]+]]: memref<?xf32>, %[[W:[^:]+]]: memref<?x?xf32>, %[[P:[^:]+]]: memref<?x?xf32>)
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[P]] : memref<?x?xf32>)
// The mask below discards the products above the diagonal: marked so the CPU
// micro-kernel skips them.
// CHECK:       linalg.generic {indexing_maps = [#[[$QD]], #[[$KD]], #[[$IJ3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : memref<?x64xf16>, memref<?x64xf16>) outs(%[[P]] : memref<?x?xf32>) attrs = {linac.causal_output = 1 : i64}
// CHECK:         arith.extf %{{.*}} : f16 to f32
// CHECK:         arith.extf %{{.*}} : f16 to f32
// CHECK:         arith.mulf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK:         arith.addf %{{.*}}, %{{.*}} fastmath<reassoc,contract> : f32
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[W]] : memref<?x?xf32>)
// CHECK:       %[[T:.*]] = memref.dim %[[G]], %c0
// CHECK:       scf.for %[[ROW:.*]] = %c1 to %[[T]] step %c1 {
// CHECK-NEXT:    %[[PREV:.*]] = arith.subi %[[ROW]], %c1 : index
// CHECK-NEXT:    %[[FROM:.*]] = memref.subview %[[W]][%[[PREV]], 0] [1, %[[ROW]]] [1, 1]
// CHECK-NEXT:    %[[TO:.*]] = memref.subview %[[W]][%[[ROW]], 0] [1, %[[ROW]]] [1, 1]
// CHECK-NEXT:    %[[GT:.*]] = memref.load %[[G]][%[[ROW]]]
// CHECK-NEXT:    linalg.generic {{.*}} ins(%[[FROM]] : {{.*}}) outs(%[[TO]] : {{.*}})
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      arith.addf %[[X]], %[[GT]] : f32
// CHECK:       linalg.generic {indexing_maps = [#[[$IJ]]], iterator_types = ["parallel", "parallel"]} outs(%[[P]] : memref<?x?xf32>)
// CHECK-NEXT:  ^bb0(%[[PIJ:.*]]: f32):
// CHECK-NEXT:    %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT:    %[[J:.*]] = linalg.index 1 : index
// Query i sits at key position i * 1 + 0.
// CHECK:         %[[SCALED:.*]] = arith.muli %[[I]], %c1{{.*}} : index
// CHECK-NEXT:    %[[POS:.*]] = arith.addi %[[SCALED]], %c0{{.*}} : index
// CHECK-NEXT:    %[[CAUSAL:.*]] = arith.cmpi ule, %[[J]], %[[POS]] : index
// CHECK-NEXT:    %[[TQ:.*]] = arith.divui %[[POS]], %c1 : index
// CHECK-NEXT:    %[[TK:.*]] = arith.divui %[[J]], %c1 : index
// Hidden entries read the sums too, unclamped (a clamp would make the
// vector loop gather), and are discarded by the select.
// CHECK-NEXT:    %[[SUM:.*]] = memref.load %[[W]][%[[TQ]], %[[TK]]]
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[SUM]] : f32
// CHECK-NEXT:    %[[DECAYED:.*]] = arith.mulf %[[PIJ]], %[[E]] : f32
// CHECK-NEXT:    %[[R:.*]] = arith.select %[[CAUSAL]], %[[DECAYED]], %{{.*}} : f32
// CHECK-NEXT:    linalg.yield %[[R]] : f32
func.func @decayed_scores(%q: memref<?x64xf16>, %k: memref<?x64xf16>, %g: memref<?xf32>, %W: memref<?x?xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x64xf16>, memref<?x64xf16>) gates(%g : memref<?xf32>) workspace(%W : memref<?x?xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// Without a decay only the causal mask remains: no exp.
// CHECK-LABEL: func.func @scores_no_decay(
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : memref<?x?xf32>)
// CHECK-NEXT:  ^bb0(%[[PIJ:.*]]: f32):
// CHECK:         %[[CAUSAL:.*]] = arith.cmpi ule
// CHECK-NOT:     math.exp
// CHECK:         arith.select %[[CAUSAL]], %[[PIJ]], %{{.*}} : f32
func.func @scores_no_decay(%q: memref<?x64xf32>, %k: memref<?x64xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x64xf32>, memref<?x64xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// O = scale * (Q S + P V), the queries already decayed: zero, Q S over
// (i, d, e) reducing d, plus P V over (i, j, e) reducing j, times scale.
// CHECK-DAG:   #[[$ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[$R3:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG:   #[[$O3:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[$ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @chunk_output(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x64xbf16>, %[[S:[^:]+]]: memref<64x32xf32>, %[[P:[^:]+]]: memref<?x?xf32>, %[[V:[^:]+]]: memref<?x32xbf16>, %[[SCALE:[^:]+]]: f32, %[[O:[^:]+]]: memref<?x32xf32>)
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[O]] : memref<?x32xf32>)
// CHECK-NEXT:  linalg.generic {indexing_maps = [#[[$ID3]], #[[$R3]], #[[$O3]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[Q]], %[[S]] : memref<?x64xbf16>, memref<64x32xf32>) outs(%[[O]] : memref<?x32xf32>)
// CHECK:         arith.extf %{{.*}} : bf16 to f32
// CHECK-NOT:   math.exp
// CHECK:       linalg.generic {indexing_maps = [#[[$ID3]], #[[$R3]], #[[$O3]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[P]], %[[V]] : memref<?x?xf32>, memref<?x32xbf16>) outs(%[[O]] : memref<?x32xf32>)
// CHECK:       linalg.generic {indexing_maps = [#[[$ID2]]], iterator_types = ["parallel", "parallel"]} outs(%[[O]] : memref<?x32xf32>)
// CHECK-NEXT:  ^bb0(%[[X:.*]]: f32):
// CHECK-NEXT:    %[[Y:.*]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK-NEXT:    linalg.yield %[[Y]] : f32
func.func @chunk_output(%q: memref<?x64xbf16>, %S: memref<64x32xf32>, %P: memref<?x?xf32>, %v: memref<?x32xbf16>, %scale: f32, %o: memref<?x32xf32>) {
  linac.chunk_output ins(%q, %S, %P, %v : memref<?x64xbf16>, memref<64x32xf32>, memref<?x?xf32>, memref<?x32xbf16>) scale(%scale) outs(%o : memref<?x32xf32>)
  return
}

// -----

// S = exp(G_last) S + K^T V, the keys already decayed to the chunk's end:
// the total decay G[n - 1] of the forward cumulative sums scales S, then one
// contraction over the rows (loops i, d, e).
// CHECK-DAG:   #[[$KI:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG:   #[[$VI:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[$SDE:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @state_update(
// CHECK-SAME:    %[[K:[^:]+]]: memref<?x64xf16>, %[[V:[^:]+]]: memref<?x32xf16>, %[[G:[^:]+]]: memref<?xf32>, %[[S:[^:]+]]: memref<64x32xf32>)
// CHECK:       %[[N:.*]] = memref.dim %[[G]], %c0
// CHECK:       %[[LAST:.*]] = arith.subi %[[N]], %c1
// CHECK:       %[[TOTAL:.*]] = memref.load %[[G]][%[[LAST]]]
// CHECK:       %[[FACTOR:.*]] = math.exp %[[TOTAL]] : f32
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} outs(%[[S]] : memref<64x32xf32>)
// CHECK:         arith.mulf %{{.*}}, %[[FACTOR]] : f32
// CHECK:       linalg.generic {indexing_maps = [#[[$KI]], #[[$VI]], #[[$SDE]]], iterator_types = ["reduction", "parallel", "parallel"]} ins(%[[K]], %[[V]] : memref<?x64xf16>, memref<?x32xf16>) outs(%[[S]] : memref<64x32xf32>)
// CHECK-NOT:     math.exp
// CHECK:       return
func.func @state_update(%k: memref<?x64xf16>, %v: memref<?x32xf16>, %G: memref<?xf32>, %S: memref<64x32xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<?x64xf16>, memref<?x32xf16>) decay(%G : memref<?xf32>) outs(%S : memref<64x32xf32>)
  return
}

// -----

// A vector decay scales each row d of S by exp(G_last[d]).
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @state_update_vector(
// CHECK-SAME:    %{{[^:]+}}: memref<?x64xf32>, %{{[^:]+}}: memref<?x32xf32>, %[[G:[^:]+]]: memref<?x64xf32>, %[[S:[^:]+]]: memref<64x32xf32>)
// CHECK:       %[[LASTROW:.*]] = memref.subview %[[G]][%{{.*}}, 0] [1, 64] [1, 1] : memref<?x64xf32> to memref<64xf32, strided<[1], offset: ?>>
// CHECK:       linalg.generic {indexing_maps = [#[[$ROW]], {{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[LASTROW]] : {{.*}}) outs(%[[S]] : memref<64x32xf32>)
// CHECK-NEXT:  ^bb0(%[[GD:.*]]: f32, %[[SDE:.*]]: f32):
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[GD]] : f32
// CHECK-NEXT:    arith.mulf %[[SDE]], %[[E]] : f32
func.func @state_update_vector(%k: memref<?x64xf32>, %v: memref<?x32xf32>, %G: memref<?x64xf32>, %S: memref<64x32xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<?x64xf32>, memref<?x32xf32>) decay(%G : memref<?x64xf32>) outs(%S : memref<64x32xf32>)
  return
}

// -----

// Without a decay: a single contraction, no exp.
// CHECK-LABEL: func.func @state_update_no_decay(
// CHECK-NOT:   math.exp
// CHECK:       linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : memref<?x64xf32>, memref<?x32xf32>) outs(%{{.*}} : memref<64x32xf32>)
// CHECK-NOT:   math.exp
// CHECK:       return
func.func @state_update_no_decay(%k: memref<?x64xf32>, %v: memref<?x32xf32>, %S: memref<64x32xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<?x64xf32>, memref<?x32xf32>) outs(%S : memref<64x32xf32>)
  return
}

// -----

// Row by row: z += k_i while q_i . z accumulates, then O[i, :] /= scale *
// (q_i . z) + 1e-10.
// CHECK-LABEL: func.func @normalize(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x64xf32>, %[[K:[^:]+]]: memref<?x64xf32>, %[[SCALE:[^:]+]]: f32, %[[Z:[^:]+]]: memref<64xf32>, %[[O:[^:]+]]: memref<?x32xf32>)
// CHECK:       %[[EPS:.*]] = arith.constant 1.000000e-10 : f32
// CHECK:       scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT:    %[[DOT:.*]] = scf.for %[[D:.*]] = %c0 to %{{.*}} step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:      %[[ZD:.*]] = memref.load %[[Z]][%[[D]]]
// CHECK-NEXT:      %[[KID:.*]] = memref.load %[[K]][%[[I]], %[[D]]]
// CHECK-NEXT:      %[[ZN:.*]] = arith.addf %[[ZD]], %[[KID]] : f32
// CHECK-NEXT:      memref.store %[[ZN]], %[[Z]][%[[D]]]
// CHECK-NEXT:      %[[QID:.*]] = memref.load %[[Q]][%[[I]], %[[D]]]
// CHECK-NEXT:      %[[PROD:.*]] = arith.mulf %[[QID]], %[[ZN]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %[[ACC]], %[[PROD]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:      scf.yield %[[SUM]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[SCALED:.*]] = arith.mulf %[[DOT]], %[[SCALE]] : f32
// CHECK-NEXT:    %[[DENOM:.*]] = arith.addf %[[SCALED]], %[[EPS]] : f32
// CHECK-NEXT:    scf.for %[[E:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NEXT:      %[[OIE:.*]] = memref.load %[[O]][%[[I]], %[[E]]]
// CHECK-NEXT:      %[[DIV:.*]] = arith.divf %[[OIE]], %[[DENOM]] : f32
// CHECK-NEXT:      memref.store %[[DIV]], %[[O]][%[[I]], %[[E]]]
func.func @normalize(%q: memref<?x64xf32>, %k: memref<?x64xf32>, %scale: f32, %z: memref<64xf32>, %o: memref<?x32xf32>) {
  linac.chunk_normalize ins(%q, %k : memref<?x64xf32>, memref<?x64xf32>) scale(%scale) outs(%z, %o : memref<64xf32>, memref<?x32xf32>)
  return
}

// -----

// With causal_stride, the P V product is marked for the CPU micro-kernel
// (row i sums only the values it sees); so is a causal chunk_matmul.
// CHECK-LABEL: func.func @causal_products(
// CHECK:       linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : memref<?x64xf32>, memref<64x32xf32>) outs(%{{.*}} : memref<?x32xf32>) {
// CHECK:       linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : memref<?x?xf32>, memref<?x32xf32>) outs(%{{.*}} : memref<?x32xf32>) attrs = {linac.causal_lhs = 2 : i64}
// CHECK:       linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : memref<?x?xf32>, memref<?x32xf32>) outs(%{{.*}} : memref<?x32xf32>) attrs = {linac.causal_lhs = 1 : i64}
func.func @causal_products(%q: memref<?x64xf32>, %S: memref<64x32xf32>, %P: memref<?x?xf32>, %v: memref<?x32xf32>, %scale: f32, %o: memref<?x32xf32>) {
  linac.chunk_output ins(%q, %S, %P, %v : memref<?x64xf32>, memref<64x32xf32>, memref<?x?xf32>, memref<?x32xf32>) scale(%scale) outs(%o : memref<?x32xf32>) {causal_stride = 2 : i64}
  linac.chunk_matmul ins(%P, %v : memref<?x?xf32>, memref<?x32xf32>) outs(%o : memref<?x32xf32>) {causal_stride = 1 : i64}
  return
}
