// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops -cse | FileCheck %s

// linac-lower-chunk-ops for the ops of the delta rules and of vector decays:
// strict / strided scores, sub-chunked vector-decay scores, decayed rows,
// the UT transform, chunk matmuls, L2 norms and sigmoids.

// Strict (j < pos(i)) scores of queries at stride 3: pos(i) = 3 i + 2.
// CHECK-LABEL: func.func @scores_strict_strided(
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]}
// CHECK:         %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT:    %[[J:.*]] = linalg.index 1 : index
// CHECK:         %[[SCALED:.*]] = arith.muli %[[I]], %c3 : index
// CHECK-NEXT:    %[[POS:.*]] = arith.addi %[[SCALED]], %c2 : index
// CHECK-NEXT:    %[[VISIBLE:.*]] = arith.cmpi ult, %[[J]], %[[POS]] : index
// CHECK:         math.exp
// CHECK:         arith.select %[[VISIBLE]]
func.func @scores_strict_strided(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %Gq: memref<?xf32>, %Gk: memref<?xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) decay(%Gq, %Gk : memref<?xf32>, memref<?xf32>) outs(%P : memref<?x?xf32>) {strict, query_stride = 3 : i64}
  return
}

// -----

// Vector decays, 16 queries at a time: inside the sub-chunk, the exponent is
// masked (-inf) before exp; the keys before it are rescaled to the last of
// them, r, on both sides (exponents <= 0) into the workspace, then one
// matmul.
// CHECK-LABEL: func.func @scores_vector(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x8xf32>, %[[K:[^:]+]]: memref<?x8xf32>, %[[G:[^:]+]]: memref<?x8xf32>, %[[W:[^:]+]]: memref<48x8xf32>, %[[P:[^:]+]]: memref<?x?xf32>)
// CHECK:       linalg.fill
// CHECK:       %[[NQ:.*]] = memref.dim %[[Q]], %c0
// CHECK:       %[[BLOCKS:.*]] = arith.ceildivsi %[[NQ]], %c16 : index
// CHECK:       scf.for %{{.*}} = %c0 to %[[BLOCKS]] step %c1 {
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:           %[[VISIBLE:.*]] = arith.cmpi ule
// CHECK:           %[[DIFF:.*]] = arith.subf
// CHECK:           %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:           %[[MASKED:.*]] = arith.select %[[VISIBLE]], %[[DIFF]], %[[NEG_INF]] : f32
// CHECK:           math.exp %[[MASKED]] : f32
// CHECK:         %[[HAS_BEFORE:.*]] = arith.cmpi sgt, %[[BEFORE:.*]], %c0 : index
// CHECK:         scf.if %[[HAS_BEFORE]] {
// CHECK:           %[[R:.*]] = arith.subi %[[BEFORE]], %c1 : index
// CHECK:           %[[REF:.*]] = memref.subview %[[G]][%[[R]], 0] [1, 8] [1, 1]
// CHECK:           %[[SQ:.*]] = memref.subview %[[W]][0, 0]
// CHECK:           linalg.generic {{.*}} outs(%[[SQ]] :
// CHECK:           %[[SK:.*]] = memref.subview %[[W]][16, 0]
// CHECK:           linalg.generic {{.*}} outs(%[[SK]] :
// CHECK:           linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[SQ]], %[[SK]] :
func.func @scores_vector(%q: memref<?x8xf32>, %k: memref<?x8xf32>, %G: memref<?x8xf32>, %W: memref<48x8xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x8xf32>, memref<?x8xf32>) decay(%G, %G : memref<?x8xf32>, memref<?x8xf32>) workspace(%W : memref<48x8xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// x * exp(G_i) from the chunk start; x * exp(G_last - G_i) to its end,
// G_last a scalar load or, per channel, the last row.
// CHECK-LABEL: func.func @decayed_rows(
// CHECK-SAME:    %[[X:[^:]+]]: memref<?x8xf16>, %[[G:[^:]+]]: memref<?xf32>, %[[GV:[^:]+]]: memref<?x8xf32>, %[[Y:[^:]+]]: memref<?x8xf32>)
// CHECK:       linalg.generic {{.*}} ins(%[[X]], %[[G]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK-NEXT:  ^bb0(%[[XI:.*]]: f16, %[[GI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    %[[XF:.*]] = arith.extf %[[XI]] : f16 to f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[GI]] : f32
// CHECK-NEXT:    arith.mulf %[[XF]], %[[E]] : f32
// CHECK:       %[[LAST:.*]] = memref.load %[[G]][
// CHECK:       linalg.generic {{.*}} ins(%[[X]], %[[G]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK-NEXT:  ^bb0(%{{.*}}: f16, %[[GI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    arith.subf %[[LAST]], %[[GI]] : f32
// CHECK:       %[[LASTROW:.*]] = memref.subview %[[GV]][%{{.*}}, 0] [1, 8] [1, 1]
// CHECK:       linalg.generic {{.*}} ins(%[[X]], %[[GV]], %[[LASTROW]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK-NEXT:  ^bb0(%{{.*}}: f16, %[[GID:.*]]: f32, %[[GLD:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:    arith.subf %[[GLD]], %[[GID]] : f32
func.func @decayed_rows(%x: memref<?x8xf16>, %G: memref<?xf32>, %Gv: memref<?x8xf32>, %y: memref<?x8xf32>) {
  linac.decayed_rows ins(%x, %G : memref<?x8xf16>, memref<?xf32>) outs(%y : memref<?x8xf32>)
  linac.decayed_rows ins(%x, %G : memref<?x8xf16>, memref<?xf32>) outs(%y : memref<?x8xf32>) {to_end}
  linac.decayed_rows ins(%x, %Gv : memref<?x8xf16>, memref<?x8xf32>) outs(%y : memref<?x8xf32>) {to_end}
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
// CHECK-NEXT:    %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT:    %[[F:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:    arith.divf %[[F]], %[[DEN]] : f32
func.func @sigmoid(%x: memref<?xf32>, %y: memref<?xf32>) {
  linac.chunk_sigmoid ins(%x : memref<?xf32>) outs(%y : memref<?xf32>) {factor = 2.0 : f32}
  return
}
