// RUN: linac-opt %s -pass-pipeline='builtin.module(func.func(linac-tile-chunk-loop{state-checkpoints=4}, canonicalize, cse, linac-erase-unobserved-writes, canonicalize))' | FileCheck %s

// A state pass: simple GLA's chunk body without its outputs, and the state
// stored after every 4 chunks (64 tokens) of each sequence to the row of
// final_state that numbers the segment among all the batch's segments.

!rows = memref<?x16xf32, strided<[?, ?], offset: ?>>
!tokens = memref<?x?x?x16xf32, strided<[?, ?, ?, ?], offset: ?>>
!gates = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x16x16xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<16x16xf32, strided<[?, ?], offset: ?>>

// CHECK-LABEL: func.func @simple_gla_states(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x16xf32, {{.*}}>, %[[K:[^:]+]]: memref<?x?x?x16xf32, {{.*}}>, %[[V:[^:]+]]: memref<?x?x?x16xf32, {{.*}}>, %[[G:[^:]+]]: memref<?x?x?xf32, {{.*}}>, %[[S0:[^:]+]]: memref<?x?x16x16xf32, {{.*}}>, %[[O:[^:]+]]: memref<?x?x?x16xf32, {{.*}}>, %[[ST:[^:]+]]: memref<?x?x16x16xf32, {{.*}}>, %[[CU:[^:]+]]: memref<?xi64, {{.*}}>,
// CHECK-SAME:    attributes {linac.segment_tokens = 64 : i64}
// CHECK:       %[[T:.*]] = memref.dim %[[Q]], %c1
// CHECK:       scf.parallel (%[[H:.*]], %[[N:.*]]) =
// Sequence n's first segment: n * segments(T) for a batch of equal rows, the
// sum of segments(length) over the sequences before it with cu_seqlens; a
// sequence of L tokens has max(1, ceil(L / 64)) segments.
// CHECK:         %[[ROWSEGS:.*]] = arith.ceildivsi %[[T]], %c64
// CHECK:         %[[ROWSEGS1:.*]] = arith.maxsi %[[ROWSEGS]], %c1
// CHECK:         %[[UNIFORM:.*]] = arith.muli %[[N]], %[[ROWSEGS1]]
// CHECK:         %[[FIRST:.*]] = scf.if %{{.*}} -> (index) {
// CHECK:           %[[SUM:.*]] = scf.for %[[M:.*]] = %c0 to %[[N]] step %c1 iter_args(%[[ACC:.*]] = %c0)
// CHECK:             memref.load %[[CU]][%[[M]]]
// CHECK:             %[[LEN:.*]] = arith.subi
// CHECK:             %[[SEGS:.*]] = arith.ceildivsi %[[LEN]], %c64
// CHECK:             %[[SEGS1:.*]] = arith.maxsi %[[SEGS]], %c1
// CHECK:             arith.addi %[[ACC]], %[[SEGS1]]
// CHECK:           scf.yield %[[SUM]]
// CHECK:         } else {
// CHECK:           scf.yield %[[UNIFORM]]
// CHECK:         %[[OWN:.*]] = arith.ceildivsi %[[LENGTH:.*]], %c64
// CHECK:         %[[OWN1:.*]] = arith.maxsi %[[OWN]], %c1
// CHECK:         %[[END:.*]] = arith.addi %[[FIRST]], %[[OWN1]]
// CHECK:         %[[LAST:.*]] = arith.subi %[[END]], %c1
// CHECK:         %[[CHUNKS:.*]] = arith.ceildivsi %[[LENGTH]], %c16
// CHECK:         scf.for %[[C:.*]] = %c0 to %[[CHUNKS]] step %c1 {
// Only k, v and g are staged: q feeds outputs alone.
// CHECK-NOT:       memref.subview %[[Q]]
// CHECK-NOT:       linac.decayed_scores
// CHECK-NOT:       linac.chunk_output
// CHECK:           linac.chunk_cumsum
// CHECK:           linac.chunk_cumsum {{.*}} {reverse}
// CHECK-NEXT:      %[[KROWS:.*]] = memref.subview
// CHECK-NEXT:      linac.decayed_rows
// CHECK-NEXT:      linac.chunk_state_update
// After chunks 4, 8, ... (not after the last: the final store writes it), the
// state goes to row first + c / 4.
// CHECK:           %[[NEXT:.*]] = arith.addi %[[C]], %c1
// CHECK-DAG:       %[[NOTLAST:.*]] = arith.cmpi ult, %[[NEXT]], %[[CHUNKS]]
// CHECK-DAG:       %[[REM:.*]] = arith.remui %[[NEXT]], %c4
// CHECK-DAG:       %[[AT:.*]] = arith.cmpi eq, %[[REM]], %c0
// CHECK:           %[[BOUNDARY:.*]] = arith.andi %[[AT]], %[[NOTLAST]]
// CHECK:           scf.if %[[BOUNDARY]] {
// CHECK:             %[[SEG:.*]] = arith.divui %[[C]], %c4
// CHECK:             scf.if
// CHECK:               %[[ROW:.*]] = arith.addi %[[FIRST]], %[[SEG]]
// CHECK:               memref.subview %[[ST]][%[[ROW]], %[[H]], 0, 0] [1, 1, 16, 16]
// CHECK:               linalg.generic
// No output is stored.
// CHECK-NOT:       %[[O]]
// CHECK:         }
// The final state: the sequence's last segment.
// CHECK:         scf.if
// CHECK:           memref.subview %[[ST]][%[[LAST]], %[[H]], 0, 0] [1, 1, 16, 16]
func.func @simple_gla_states(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                             %s0: !states, %o: !tokens, %st: !states,
                             %cu: !offsets, %scale: f32) {
  linac.chunk_loop q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      initial_state(%s0 : !states) output(%o : !tokens) final_state(%st : !states)
      cu_seqlens(%cu : !offsets) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>} {
  ^bb0(%qc: !rows, %kc: !rows, %vc: !rows, %gc: !vec, %S: !state, %oc: !rows):
    %c0 = arith.constant 0 : index
    %nq = memref.dim %qc, %c0 : !rows
    %nk = memref.dim %kc, %c0 : !rows
    %fwd = memref.alloca() : memref<16xf32>
    %fwdv = memref.subview %fwd[0] [%nq] [1] : memref<16xf32> to memref<?xf32, strided<[1]>>
    linac.chunk_cumsum ins(%gc : !vec) outs(%fwdv : memref<?xf32, strided<[1]>>)
    %rev = memref.alloca() : memref<16xf32>
    %revv = memref.subview %rev[0] [%nk] [1] : memref<16xf32> to memref<?xf32, strided<[1]>>
    linac.chunk_cumsum ins(%gc : !vec) outs(%revv : memref<?xf32, strided<[1]>>) {reverse}
    %work = memref.alloca() : memref<16x16xf32>
    %workv = memref.subview %work[0, 0] [%nq, %nq] [1, 1] : memref<16x16xf32> to memref<?x?xf32, strided<[16, 1]>>
    %scores = memref.alloca() : memref<16x16xf32>
    %scoresv = memref.subview %scores[0, 0] [%nq, %nk] [1, 1] : memref<16x16xf32> to memref<?x?xf32, strided<[16, 1]>>
    linac.decayed_scores ins(%qc, %kc : !rows, !rows) gates(%gc : !vec) workspace(%workv : memref<?x?xf32, strided<[16, 1]>>) outs(%scoresv : memref<?x?xf32, strided<[16, 1]>>)
    // One scratch buffer for the decayed queries, then the decayed keys.
    %decayed = memref.alloca() : memref<16x16xf32>
    %dq = memref.subview %decayed[0, 0] [%nq, 16] [1, 1] : memref<16x16xf32> to memref<?x16xf32, strided<[16, 1]>>
    linac.decayed_rows ins(%qc, %fwdv : !rows, memref<?xf32, strided<[1]>>) outs(%dq : memref<?x16xf32, strided<[16, 1]>>)
    linac.chunk_output ins(%dq, %S, %scoresv, %vc : memref<?x16xf32, strided<[16, 1]>>, !state, memref<?x?xf32, strided<[16, 1]>>, !rows) scale(%scale) outs(%oc : !rows) {causal_stride = 1 : i64}
    %dk = memref.subview %decayed[0, 0] [%nk, 16] [1, 1] : memref<16x16xf32> to memref<?x16xf32, strided<[16, 1]>>
    linac.decayed_rows ins(%kc, %revv : !rows, memref<?xf32, strided<[1]>>) outs(%dk : memref<?x16xf32, strided<[16, 1]>>)
    linac.chunk_state_update ins(%dk, %vc : memref<?x16xf32, strided<[16, 1]>>, !rows) decay(%fwdv : memref<?xf32, strided<[1]>>) outs(%S : !state)
  }
  return
}
