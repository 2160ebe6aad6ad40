// RUN: linac-opt %s -split-input-file -linac-tile-chunk-loop -cse | FileCheck %s

// linac-tile-chunk-loop: the grid over (head, sequence) as an scf.parallel
// with linac.grid roles, the chunk loop as an scf.for over views of the
// inputs, local buffers hoisted out of the chunk loop.

!view = memref<?x64xf16, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<64x64xf32, strided<[?, ?], offset: ?>>
!out = memref<?x64xf32, strided<[?, ?], offset: ?>>

// Every optional buffer present; one value tile (BV = V = 64).
// CHECK-LABEL: func.func @scalar_decay_varlen(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x64xf16>, %[[K:[^:]+]]: memref<?x?x?x64xf16>, %[[V:[^:]+]]: memref<?x?x?x64xf16>, %[[G:[^:]+]]: memref<?x?x?xf32>,
// CHECK-SAME:    %[[S0:[^:]+]]: memref<?x?x64x64xf32>, %[[O:[^:]+]]: memref<?x?x?x64xf16>, %[[ST:[^:]+]]: memref<?x?x64x64xf32>, %[[CU:[^:]+]]: memref<?xi64>, %[[SCALE:[^:]+]]: f32)
// CHECK-NOT:   linac.chunk_loop
// CHECK-DAG:   %[[B:.*]] = memref.dim %[[Q]], %c0
// CHECK-DAG:   %[[T:.*]] = memref.dim %[[Q]], %c1
// Heads come from v; q and k may have fewer (grouped heads): head h reads
// their head h / (H / Hq).
// CHECK-DAG:   %[[H:.*]] = memref.dim %[[V]], %c2
// CHECK-DAG:   %[[HQ:.*]] = memref.dim %[[Q]], %c2
// CHECK-DAG:   %[[HQ1:.*]] = arith.maxui %[[HQ]], %c1
// CHECK-DAG:   %[[GROUP:.*]] = arith.divui %[[H]], %[[HQ1]]
// An empty cu_seqlens means N = B sequences of length T.
// CHECK:       %[[NCU:.*]] = memref.dim %[[CU]], %c0
// CHECK:       %[[VARLEN:.*]] = arith.cmpi sgt, %[[NCU]], %c0
// CHECK:       %[[NCU1:.*]] = arith.subi %[[NCU]], %c1
// CHECK:       %[[N:.*]] = arith.select %[[VARLEN]], %[[NCU1]], %[[B]] : index
// CHECK:       %[[NS0:.*]] = memref.dim %[[S0]], %c0
// CHECK:       %[[HAS_S0:.*]] = arith.cmpi sgt, %[[NS0]], %c0
// CHECK:       %[[NST:.*]] = memref.dim %[[ST]], %c0
// CHECK:       %[[HAS_ST:.*]] = arith.cmpi sgt, %[[NST]], %c0
// CHECK:       scf.parallel (%[[HEAD:.*]], %[[SEQ:.*]]) = (%c0, %c0) to (%[[H]], %[[N]]) step (%c1, %c1) {
// CHECK-NEXT:    memref.alloca_scope {
// Sequence bounds from cu_seqlens when it is not empty.
// CHECK-NEXT:      %[[BOUNDS:.*]]:3 = scf.if %[[VARLEN]] -> (index, index, index) {
// CHECK:             memref.load %[[CU]][%[[SEQ]]]
// CHECK:             memref.load %[[CU]][
// CHECK:             scf.yield %c0, %{{.*}}, %{{.*}} : index, index, index
// CHECK-NEXT:      } else {
// CHECK-NEXT:        scf.yield %[[SEQ]], %c0, %[[T]] : index, index, index
// CHECK-NEXT:      }
// The state: copied from initial_state when it is not empty, else zeros.
// CHECK:           %[[SBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:           %[[S:.*]] = memref.subview %[[SBUF]][0, 0] [64, 64] [1, 1]
// CHECK:           scf.if %[[HAS_S0]] {
// CHECK-NEXT:        %[[S0V:.*]] = memref.subview %[[S0]][%[[SEQ]], %[[HEAD]], 0, %[[V0:[0-9]+]]] [1, 1, 64, 64] [1, 1, 1, 1] : memref<?x?x64x64xf32> to memref<64x64xf32, strided<[64, 1], offset: ?>>
// CHECK-NEXT:        linalg.generic {{.*}} ins(%[[S0V]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK:           } else {
// CHECK-NEXT:        linalg.fill ins(%{{.*}} : f32) outs(%[[S]] : {{.*}})
// CHECK-NEXT:      }
// CHECK:           %[[OBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:           %[[QHEAD:.*]] = arith.divui %[[HEAD]], %[[GROUP]]
// CHECK:           %[[NCHUNKS:.*]] = arith.ceildivsi %[[BOUNDS]]#2, %c64
// The body's scratch buffers are hoisted out of the chunk loop.
// CHECK:           %[[GBUF:.*]] = memref.alloca() : memref<64xf32>
// CHECK:           %[[WBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:           %[[PBUF:.*]] = memref.alloca() : memref<64x64xf32>
// CHECK:           scf.for %[[CHUNK:.*]] = %c0 to %[[NCHUNKS]] step %c1 {
// CHECK-NOT:         memref.alloca
// CHECK:             %[[OFF:.*]] = arith.muli %[[CHUNK]], %c64
// CHECK:             %[[T0:.*]] = arith.addi %[[BOUNDS]]#1, %[[OFF]]
// CHECK:             %[[REST:.*]] = arith.subi %[[BOUNDS]]#2, %[[OFF]]
// CHECK:             %[[TC:.*]] = arith.minsi %c64{{.*}}, %[[REST]]
// CHECK:             %[[QC:.*]] = memref.subview %[[Q]][%[[BOUNDS]]#0, %[[T0]], %[[QHEAD]], 0] [1, %[[TC]], 1, 64] [1, 1, 1, 1] : memref<?x?x?x64xf16> to memref<?x64xf16, strided<[?, 1], offset: ?>>
// CHECK:             %[[KC:.*]] = memref.subview %[[K]][%[[BOUNDS]]#0, %[[T0]], %[[QHEAD]], 0] [1, %[[TC]], 1, 64]
// CHECK:             %[[VC:.*]] = memref.subview %[[V]][%[[BOUNDS]]#0, %[[T0]], %[[HEAD]], %[[V0]]] [1, %[[TC]], 1, 64]
// CHECK:             %[[GC:.*]] = memref.subview %[[G]][%[[BOUNDS]]#0, %[[T0]], %[[HEAD]]] [1, %[[TC]], 1] [1, 1, 1] : memref<?x?x?xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK:             %[[OC:.*]] = memref.subview %[[OBUF]][0, 0] [%[[TC]], 64] [1, 1]
// CHECK:             memref.subview %[[GBUF]]
// CHECK:             linac.chunk_cumsum ins(%[[GC]] : {{.*}})
// CHECK:             memref.subview %[[WBUF]]
// CHECK:             memref.subview %[[PBUF]]
// CHECK:             linac.decayed_scores ins(%[[QC]], %[[KC]] : {{.*}}) gates(%[[GC]] :
// CHECK:             linac.chunk_output ins(%[[QC]], %[[S]], %{{.*}}, %[[VC]] : {{.*}}) scale(%[[SCALE]]) outs(%[[OC]] : {{.*}})
// CHECK:             linac.chunk_state_update ins(%[[KC]], %[[VC]] : {{.*}}) decay({{.*}}) outs(%[[S]] : {{.*}})
// The output tile is converted to f16 and stored.
// CHECK:             %[[OV:.*]] = memref.subview %[[O]][%[[BOUNDS]]#0, %[[T0]], %[[HEAD]], %[[V0]]] [1, %[[TC]], 1, 64]
// CHECK:             linalg.generic {{.*}} ins(%[[OC]] : {{.*}}) outs(%[[OV]] : {{.*}})
// CHECK:               arith.truncf %{{.*}} : f32 to f16
// The final state after the chunk loop, when final_state is not empty.
// CHECK:             linalg.yield
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:      scf.if %[[HAS_ST]] {
// CHECK-NEXT:        %[[STV:.*]] = memref.subview %[[ST]][%[[SEQ]], %[[HEAD]], 0, %[[V0]]] [1, 1, 64, 64]
// CHECK-NEXT:        linalg.generic {{.*}} ins(%[[S]] : {{.*}}) outs(%[[STV]] : {{.*}})
// CHECK-NEXT:        ^bb0
// CHECK-NEXT:          linalg.yield
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.reduce
// CHECK-NEXT:  } {linac.grid = ["head", "sequence"]}
func.func @scalar_decay_varlen(%q: memref<?x?x?x64xf16>, %k: memref<?x?x?x64xf16>,
                               %v: memref<?x?x?x64xf16>, %g: memref<?x?x?xf32>,
                               %s0: memref<?x?x64x64xf32>, %o: memref<?x?x?x64xf16>,
                               %sT: memref<?x?x64x64xf32>, %cu: memref<?xi64>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x64xf16>) k(%k : memref<?x?x?x64xf16>)
      v(%v : memref<?x?x?x64xf16>) g(%g : memref<?x?x?xf32>)
      initial_state(%s0 : memref<?x?x64x64xf32>) output(%o : memref<?x?x?x64xf16>)
      final_state(%sT : memref<?x?x64x64xf32>) cu_seqlens(%cu : memref<?xi64>) scale(%scale)
      attributes {chunk_size = 64 : i64, form = #linac.form<decay = scalar, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %gc: !vec, %S: !state, %oc: !out):
    %c0 = arith.constant 0 : index
    %len = memref.dim %qc, %c0 : !view
    %gbuf = memref.alloca() : memref<64xf32>
    %G = memref.subview %gbuf[0] [%len] [1] : memref<64xf32> to memref<?xf32, strided<[1]>>
    linac.chunk_cumsum ins(%gc : !vec) outs(%G : memref<?xf32, strided<[1]>>)
    %wbuf = memref.alloca() : memref<64x64xf32>
    %W = memref.subview %wbuf[0, 0] [%len, %len] [1, 1] : memref<64x64xf32> to memref<?x?xf32, strided<[64, 1]>>
    %pbuf = memref.alloca() : memref<64x64xf32>
    %P = memref.subview %pbuf[0, 0] [%len, %len] [1, 1] : memref<64x64xf32> to memref<?x?xf32, strided<[64, 1]>>
    linac.decayed_scores ins(%qc, %kc : !view, !view) gates(%gc : !vec) workspace(%W : memref<?x?xf32, strided<[64, 1]>>) outs(%P : memref<?x?xf32, strided<[64, 1]>>)
    linac.chunk_output ins(%qc, %S, %P, %vc : !view, !state, memref<?x?xf32, strided<[64, 1]>>, !view) scale(%scale) outs(%oc : !out)
    linac.chunk_state_update ins(%kc, %vc : !view, !view) decay(%G : memref<?xf32, strided<[1]>>) outs(%S : !state)
  }
  return
}

// -----

// No optional buffers: N = B, zeros for the initial state, nothing stored
// after the loop, no scf.if at all; the normalizer's key sum is zeroed once.
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
// CHECK-LABEL: func.func @plain_normalized(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<2x?x4x8xf32>
// CHECK-DAG:   %[[B:.*]] = memref.dim %[[Q]], %c0
// CHECK-DAG:   %[[H:.*]] = memref.dim %[[Q]], %c2
// CHECK-NOT:   scf.if
// CHECK:       scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%[[H]], %[[B]]) step (%c1, %c1) {
// CHECK:         %[[SBUF:.*]] = memref.alloca() : memref<8x8xf32>
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<8x8xf32, strided<[8, 1]>>)
// CHECK:         %[[ZBUF:.*]] = memref.alloca() : memref<8xf32>
// CHECK:         %[[Z:.*]] = memref.subview %[[ZBUF]][0] [8] [1]
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[Z]] : {{.*}})
// CHECK:         scf.for
// CHECK:           linac.chunk_normalize ins({{.*}}) scale(%{{.*}}) outs(%[[Z]], %{{.*}} : {{.*}})
// CHECK:           linalg.generic
// CHECK:         }
// CHECK-NOT:     scf.if
// CHECK:       } {linac.grid = ["head", "sequence"]}
func.func @plain_normalized(%q: memref<2x?x4x8xf32>, %o: memref<2x?x4x8xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<2x?x4x8xf32>) k(%q : memref<2x?x4x8xf32>)
      v(%q : memref<2x?x4x8xf32>) output(%o : memref<2x?x4x8xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, normalize, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %z: memref<8xf32, strided<[?], offset: ?>>):
    linac.chunk_state_update ins(%kc, %vc : !view, !view) outs(%S : !state)
    linac.chunk_normalize ins(%qc, %kc : !view, !view) scale(%scale) outs(%z, %oc : memref<8xf32, strided<[?], offset: ?>>, !view)
  }
  return
}

// -----

// Two sub-steps per token: queries, decays and outputs are views of the
// chunk's tc tokens from t0, keys, values and step sizes of its 2 tc
// sub-steps from 2 t0.
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
// CHECK-LABEL: func.func @interleaved(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<1x16x2x8xf32>, %[[K:[^:]+]]: memref<1x32x2x8xf32>, %[[G:[^:]+]]: memref<1x16x2xf32>, %[[B:[^:]+]]: memref<1x32x2xf32>
// CHECK:         scf.for %[[CHUNK:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:           %[[OFF:.*]] = arith.muli %[[CHUNK]], %c8
// CHECK:           %[[T0:.*]] = arith.addi %{{.*}}, %[[OFF]]
// CHECK:           %[[TC:.*]] = arith.minsi
// CHECK:           %[[S0:.*]] = arith.muli %[[T0]], %c2
// CHECK:           %[[SC:.*]] = arith.muli %[[TC]], %c2
// CHECK-DAG:       %[[QC:.*]] = memref.subview %[[Q]][%{{.*}}, %[[T0]], %{{.*}}, 0] [1, %[[TC]], 1, 8]
// CHECK-DAG:       %[[KC:.*]] = memref.subview %[[K]][%{{.*}}, %[[S0]], %{{.*}}, 0] [1, %[[SC]], 1, 8]
// CHECK-DAG:       %[[VC:.*]] = memref.subview %[[K]][%{{.*}}, %[[S0]], %{{.*}}, %{{.*}}] [1, %[[SC]], 1, 8]
// CHECK-DAG:       %[[GC:.*]] = memref.subview %[[G]][%{{.*}}, %[[T0]], %{{.*}}] [1, %[[TC]], 1]
// CHECK-DAG:       %[[BC:.*]] = memref.subview %[[B]][%{{.*}}, %[[S0]], %{{.*}}] [1, %[[SC]], 1]
// CHECK:           linac.chunk_cumsum ins(%[[GC]] :
// CHECK:           linac.chunk_sigmoid ins(%[[BC]] :
// CHECK:           linac.decayed_scores ins(%[[QC]], %[[KC]] :
// CHECK:           linac.chunk_state_update ins(%[[KC]], %[[VC]] :
func.func @interleaved(%q: memref<1x16x2x8xf32>, %k: memref<1x32x2x8xf32>, %g: memref<1x16x2xf32>, %b: memref<1x32x2xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<1x16x2x8xf32>) k(%k : memref<1x32x2x8xf32>) v(%k : memref<1x32x2x8xf32>)
      g(%g : memref<1x16x2xf32>) beta(%b : memref<1x32x2xf32>) output(%q : memref<1x16x2x8xf32>) scale(%scale)
      attributes {chunk_size = 8 : i64, interleave = 2 : i64, form = #linac.form<decay = scalar, update = delta>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %gc: !vec, %bc: !vec, %S: !state, %oc: !view):
    %GK = memref.alloca() : memref<16xf32>
    %BS = memref.alloca() : memref<16xf32>
    %P = memref.alloca() : memref<8x16xf32>
    linac.chunk_cumsum ins(%gc : !vec) outs(%GK : memref<16xf32>) {repeat = 2 : i64}
    linac.chunk_sigmoid ins(%bc : !vec) outs(%BS : memref<16xf32>) {factor = 1.0 : f32}
    linac.decayed_scores ins(%qc, %kc : !view, !view) outs(%P : memref<8x16xf32>) {query_stride = 2 : i64}
    linac.chunk_state_update ins(%kc, %vc : !view, !view) outs(%S : !state)
  }
  return
}
