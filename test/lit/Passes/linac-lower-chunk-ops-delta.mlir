// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops=factored-band=true -cse | FileCheck %s --check-prefix=FACTORED
// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops=column-solve=true -cse | FileCheck %s --check-prefix=COLUMNS

// linac-lower-chunk-ops for the ops of the delta rules and of vector decays:
// strict / strided scores, sub-chunked vector-gate scores, decayed rows,
// the UT transform, chunk matmuls, L2 norms and sigmoids.

// Strict (j < pos(i)) scores of queries at stride 3 over keys of three
// sub-steps per token: pos(i) = 3 i + 2, the window sums indexed by tokens
// (position / 3).
// CHECK-LABEL: func.func @scores_strict_strided(
// CHECK-SAME:    %{{[^:]+}}: memref<?x8xf32>, %{{[^:]+}}: memref<?x8xf32>, %{{[^:]+}}: memref<?xf32>, %[[W:[^:]+]]: memref<?x?xf32>, %{{[^:]+}}: memref<?x?xf32>)
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:       scf.for
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK:         %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT:    %[[J:.*]] = linalg.index 1 : index
// CHECK:         %[[SCALED:.*]] = arith.muli %[[I]], %c3 : index
// CHECK-NEXT:    %[[POS:.*]] = arith.addi %[[SCALED]], %c2 : index
// CHECK-NEXT:    %[[VISIBLE:.*]] = arith.cmpi ult, %[[J]], %[[POS]] : index
// CHECK-NEXT:    %[[TQ:.*]] = arith.divui %[[POS]], %c3 : index
// CHECK-NEXT:    %[[TK:.*]] = arith.divui %[[J]], %c3 : index
// Hidden entries read the sums too, unclamped (a clamp would make the
// vector loop gather), and are discarded by the select.
// CHECK-NEXT:    %[[SUM:.*]] = memref.load %[[W]][%[[TQ]], %[[TK]]]
// CHECK-NEXT:    math.exp %[[SUM]]
// CHECK:         arith.select %[[VISIBLE]]
func.func @scores_strict_strided(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %g: memref<?xf32>, %W: memref<?x?xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) gates(%g : memref<?xf32>) workspace(%W : memref<?x?xf32>) outs(%P : memref<?x?xf32>) {strict, query_stride = 3 : i64, interleave = 3 : i64}
  return
}

// -----

// Vector gates, 16 queries at a time: the keys before the sub-chunk are
// rescaled to its start on both sides (running sums of the gates in the
// workspace, rows [0, 16) for the queries, from row 32 for the keys), then
// one matmul; the keys inside it are a band of diagonals, each a
// linalg.generic on a strided diagonal view of the scores.
// CHECK-LABEL: func.func @scores_vector(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x8xf32>, %[[K:[^:]+]]: memref<?x8xf32>, %[[G:[^:]+]]: memref<?x8xf32>, %[[W:[^:]+]]: memref<48x8xf32>, %[[P:[^:]+]]: memref<?x?xf32>)
// CHECK:       linalg.fill
// CHECK:       %[[NQ:.*]] = memref.dim %[[Q]], %c0
// CHECK:       %[[BLOCKS:.*]] = arith.ceildivsi %[[NQ]], %c16 : index
// CHECK:       scf.for %{{.*}} = %c0 to %[[BLOCKS]] step %c1 {
// CHECK:         %[[FIRST:.*]] = arith.muli %{{.*}}, %c16 : index
// CHECK:         %[[HAS_BEFORE:.*]] = arith.cmpi sgt, %[[FIRST]], %c0 : index
// CHECK:         scf.if %[[HAS_BEFORE]] {
// CHECK:           %[[SQ:.*]] = memref.subview %[[W]][0, 0]
// CHECK:           math.exp
// CHECK:           %[[SK:.*]] = memref.subview %[[W]][32, 0]
// CHECK:           math.exp
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SQ]], %[[SK]] :
// CHECK:         }
// CHECK:         memref.subview %[[W]][16, 0]
// CHECK:         scf.for %[[DIAG:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:           memref.extract_strided_metadata %[[P]]
// CHECK:           %[[BAND:.*]] = memref.reinterpret_cast
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} {{.*}} outs(%[[BAND]] :
// CHECK:             math.exp
// With factored-band (CPUs), the band is one product of rescaled rows when
// the sub-chunk's reverse gate sums R (workspace rows [16, 32)) all lie
// within +-20: the largest |R| per channel into workspace row 0, the largest
// of those into W[1, 0]; then q * exp(-R) and k * exp(R), their product
// (tiles above the diagonal skipped) and the causal mask; else the diagonals.
// FACTORED-LABEL: func.func @scores_vector(
// FACTORED-SAME:    %[[Q:[^:]+]]: memref<?x8xf32>, %[[K:[^:]+]]: memref<?x8xf32>, %[[G:[^:]+]]: memref<?x8xf32>, %[[W:[^:]+]]: memref<48x8xf32>, %[[P:[^:]+]]: memref<?x?xf32>)
// FACTORED:         scf.if
// FACTORED:         %[[R:.*]] = memref.subview %[[W]][16, 0]
// FACTORED:         linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[R]] : {{.*}}) outs(%[[PER_CHANNEL:[^ ]+]] :
// FACTORED-NEXT:    ^bb0
// FACTORED-NEXT:      math.absf
// FACTORED-NEXT:      arith.maximumf
// FACTORED:         %[[LARGEST:.*]] = memref.subview %[[W]][1, 0] [1, 1] [1, 1] : memref<48x8xf32> to memref<f32
// FACTORED:         linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[PER_CHANNEL]] : {{.*}}) outs(%[[LARGEST]] :
// FACTORED:         %[[BIGGEST:.*]] = memref.load %[[LARGEST]][]
// FACTORED-NEXT:    %[[RANGE:.*]] = arith.constant 2.000000e+01 : f32
// FACTORED-NEXT:    %[[SMALL:.*]] = arith.cmpf ole, %[[BIGGEST]], %[[RANGE]] : f32
// FACTORED-NEXT:    scf.if %[[SMALL]] {
// FACTORED:           %[[BAND:.*]] = memref.subview %[[P]]
// FACTORED:           %[[SQ:.*]] = memref.subview %[[W]][0, 0]
// FACTORED:           linalg.generic {{.*}} outs(%[[SQ]] :
// FACTORED:             arith.negf
// FACTORED-NEXT:        math.exp
// FACTORED:           linalg.generic {{.*}} outs(%[[R]] :
// FACTORED-NEXT:      ^bb0
// FACTORED-NEXT:        math.exp
// FACTORED:           linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SQ]], %[[R]] : {{.*}}) outs(%[[BAND]] : {{.*}}) attrs =  {linac.causal_output = 1 : i64}
// FACTORED:           linalg.generic {{.*}} outs(%[[BAND]] :
// FACTORED:             arith.cmpi ule
// FACTORED-NEXT:        arith.select
// FACTORED:         } else {
// FACTORED:           scf.for
// FACTORED:             memref.reinterpret_cast
// FACTORED:             math.exp
func.func @scores_vector(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %g: memref<?x8xf32>, %W: memref<48x8xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) gates(%g : memref<?x8xf32>) workspace(%W : memref<48x8xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// Strict vector scores skip the main diagonal.
// CHECK-LABEL: func.func @scores_vector_strict(
// CHECK-SAME:    %[[W:[^:]+]]: memref<48x8xf32>
// CHECK:         memref.subview %[[W]][16, 0]
// CHECK:         scf.for %[[DIAG:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:           %[[IS_MAIN:.*]] = arith.cmpi eq, %[[DIAG]], %c0 : index
// CHECK:           %[[OFF_MAIN:.*]] = arith.xori %[[IS_MAIN]], %true : i1
// CHECK:           scf.if %[[OFF_MAIN]] {
// FACTORED-LABEL: func.func @scores_vector_strict(
// FACTORED:           linalg.generic {{.*}} attrs =  {linac.causal_output = 1 : i64}
// FACTORED:             arith.cmpi ult
// FACTORED-NEXT:        arith.select
func.func @scores_vector_strict(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %g: memref<?x8xf32>, %W: memref<48x8xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) gates(%g : memref<?x8xf32>) workspace(%W : memref<48x8xf32>) outs(%P : memref<?x?xf32>) {strict}
  return
}

// -----

// x * exp(D): whole rows for a scalar decay, channel by channel for a
// vector one.
// CHECK-DAG:   #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG:   #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @decayed_rows(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xf16>, %[[G:[^:]+]]: memref<?xf32>, %[[GV:[^:]+]]: memref<?x8xf32>, %[[Y:[^:]+]]: memref<?x8xf32>)
// CHECK:       linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], {{.*}} ins(%[[X]], %[[G]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK-NEXT:  ^bb0(%[[XI:.*]]: f16, %[[GI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[XF:.*]] = arith.extf %[[XI]] : f16 to f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[GI]] : f32
// CHECK-NEXT:    arith.mulf %[[XF]], %[[E]] : f32
// CHECK:       linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]], #[[$ID]]], {{.*}} ins(%[[X]], %[[GV]] : {{.*}}) outs(%[[Y]] : {{.*}})
func.func @decayed_rows(%x: memref<?x8xf16>, %G: memref<?xf32>, %Gv: memref<?x8xf32>, %y: memref<?x8xf32>) {
  linac.decayed_rows ins(%x, %G : memref<?x8xf16>, memref<?xf32>) outs(%y : memref<?x8xf32>)
  linac.decayed_rows ins(%x, %Gv : memref<?x8xf16>, memref<?x8xf32>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// T = (I + diag(beta) A)^-1 diag(beta) by forward substitution, row by row:
// T[i, :] = beta_i (e_i - A[i, :i] T[:i, :]).
// CHECK-LABEL: func.func @ut_transform(
// CHECK-SAME:    %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?xf32>, %[[T:[^:]+]]: memref<?x?xf32>)
// CHECK:       %[[N:.*]] = memref.dim %[[A]], %c0
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[T]] : memref<?x?xf32>)
// CHECK:       scf.for %[[I:.*]] = %c0 to %[[N]] step %c1 {
// CHECK-NEXT:    %[[ROW:.*]] = memref.subview %[[T]][%[[I]], 0] [1, %[[N]]] [1, 1]
// CHECK-NEXT:    %[[AI:.*]] = memref.subview %[[A]][%[[I]], 0] [1, %[[I]]] [1, 1]
// CHECK-NEXT:    %[[SOLVED:.*]] = memref.subview %[[T]][0, 0] [%[[I]], %[[N]]] [1, 1]
// CHECK-NEXT:    linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[AI]], %[[SOLVED]] : {{.*}}) outs(%[[ROW]] : {{.*}})
// CHECK:         %[[BI:.*]] = memref.load %[[B]][%[[I]]]
// CHECK:         linalg.generic {{.*}} outs(%[[ROW]] : {{.*}})
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f32):
// CHECK-NEXT:      %[[C:.*]] = linalg.index 1 : index
// CHECK-NEXT:      %[[DIAG:.*]] = arith.cmpi eq, %[[C]], %[[I]] : index
// CHECK:           %[[UNIT:.*]] = arith.select %[[DIAG]]
// CHECK-NEXT:      %[[DIFF:.*]] = arith.subf %[[UNIT]], %[[X]] : f32
// CHECK-NEXT:      arith.mulf %[[BI]], %[[DIFF]] : f32
// column-solve: one sequential solve per column c of T, the loop over the
// columns marked for the GPU's threads; row i sums A[i, j] T[j, c] over
// c <= j < i (T[j, c] = 0 above the diagonal), starting from [i == c].
// COLUMNS-LABEL: func.func @ut_transform(
// COLUMNS-SAME:      %[[A:[^:]*]]: memref<?x?xf32>, %[[B:[^:]*]]: memref<?xf32>, %[[T:[^:]*]]: memref<?x?xf32>
// COLUMNS-DAG:     %[[N:.*]] = memref.dim %[[A]], %c0
// COLUMNS-DAG:     %[[COLS:.*]] = memref.dim %[[T]], %c1
// COLUMNS:         scf.for %[[C:.*]] = %c0 to %[[COLS]] step %c1 {
// COLUMNS:           scf.for %[[I:.*]] = %c0 to %[[N]] step %c1 {
// COLUMNS:             %[[DIAG:.*]] = arith.cmpi eq, %[[I]], %[[C]]
// COLUMNS:             %[[UNIT:.*]] = arith.select %[[DIAG]]
// COLUMNS:             %[[SUM:.*]] = scf.for %[[J:.*]] = %[[C]] to %[[I]] step %c1 iter_args(%[[ACC:.*]] = %[[UNIT]]) -> (f32) {
// COLUMNS:               %[[AIJ:.*]] = memref.load %[[A]][%[[I]], %[[J]]]
// COLUMNS:               %[[TJC:.*]] = memref.load %[[T]][%[[J]], %[[C]]]
// COLUMNS:               %[[P:.*]] = arith.mulf %[[AIJ]], %[[TJC]]
// COLUMNS:               arith.subf %[[ACC]], %[[P]]
// COLUMNS:             %[[BI:.*]] = memref.load %[[B]][%[[I]]]
// COLUMNS:             %[[E:.*]] = arith.mulf %[[BI]], %[[SUM]]
// COLUMNS:             memref.store %[[E]], %[[T]][%[[I]], %[[C]]]
// COLUMNS:         } {linac.thread_parallel}
// COLUMNS-NOT:     linalg.generic
// COLUMNS:         return
func.func @ut_transform(%A: memref<?x?xf32>, %b: memref<?xf32>, %T: memref<?x?xf32>) {
  linac.ut_transform ins(%A, %b : memref<?x?xf32>, memref<?xf32>) outs(%T : memref<?x?xf32>)
  return
}

// -----

// C = A B (zeroed first), C += A B, C -= A B: loops (i, r, j).
// CHECK-LABEL: func.func @chunk_matmul(
// CHECK-SAME:    %[[A:[^:]+]]: memref<?x?xf32>, %[[B:[^:]+]]: memref<?x8xf16>, %[[C:[^:]+]]: memref<?x8xf32>)
// CHECK:       linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<?x8xf32>)
// CHECK-NEXT:  linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[A]], %[[B]] : {{.*}}) outs(%[[C]] : {{.*}})
// CHECK:         arith.extf %{{.*}} : f16 to f32
// CHECK:         arith.addf
// CHECK-NOT:   linalg.fill
// CHECK:       linalg.generic {{.*}} ins(%[[A]], %[[B]] : {{.*}}) outs(%[[C]] : {{.*}})
// CHECK:         arith.addf
// CHECK-NOT:   linalg.fill
// CHECK:       linalg.generic {{.*}} ins(%[[A]], %[[B]] : {{.*}}) outs(%[[C]] : {{.*}})
// CHECK:         %[[PROD:.*]] = arith.mulf
// CHECK-NEXT:    arith.subf %{{.*}}, %[[PROD]] fastmath<reassoc,contract> : f32
func.func @chunk_matmul(%a: memref<?x?xf32>, %b: memref<?x8xf16>, %c: memref<?x8xf32>) {
  linac.chunk_matmul ins(%a, %b : memref<?x?xf32>, memref<?x8xf16>) outs(%c : memref<?x8xf32>)
  linac.chunk_matmul ins(%a, %b : memref<?x?xf32>, memref<?x8xf16>) outs(%c : memref<?x8xf32>) {accumulate = #linac<accumulate add>}
  linac.chunk_matmul ins(%a, %b : memref<?x?xf32>, memref<?x8xf16>) outs(%c : memref<?x8xf32>) {accumulate = #linac<accumulate subtract>}
  return
}

// -----

// Row by row: y = x * rsqrt(x . x + 1e-6).
// CHECK-LABEL: func.func @l2_normalize(
// CHECK:       scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         %[[SUM:.*]] = scf.for {{.*}} iter_args
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:         %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK-NEXT:    %[[BIASED:.*]] = arith.addf %[[SUM]], %[[EPS]] : f32
// CHECK-NEXT:    %[[INV:.*]] = math.rsqrt %[[BIASED]] : f32
// CHECK:         linalg.generic
// CHECK:           arith.mulf %{{.*}}, %[[INV]] : f32
func.func @l2_normalize(%x: memref<?x8xbf16>, %y: memref<?x8xf32>) {
  linac.chunk_l2_normalize ins(%x : memref<?x8xbf16>) outs(%y : memref<?x8xf32>)
  return
}

// -----

// y = factor / (1 + exp(-x)).
// CHECK-LABEL: func.func @sigmoid(
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel"]}
// CHECK-NEXT:  ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[F:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:    %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT:    arith.divf %[[F]], %[[DEN]] : f32
func.func @sigmoid(%x: memref<?xf32>, %y: memref<?xf32>) {
  linac.chunk_sigmoid ins(%x : memref<?xf32>) outs(%y : memref<?xf32>) {factor = 2.0 : f32}
  return
}
