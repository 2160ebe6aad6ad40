// RUN: linac-opt %s -split-input-file -linac-tile-chunk-loop=block-v=16 -cse | FileCheck %s

// linac-tile-chunk-loop with grouped heads, aux inputs and a readout region.

// Each aux layout gives its own view of the chunk, from the head of the
// buffer that grid head h reads (h / (H / H'), H' the buffer's heads):
// token [B, T, H'] the chunk's [C], token [B, T, H', D] its [C, D],
// token_value [B, T, H', V] its [C, BV] at the value tile, head [H'] a [1],
// head [H', D] a [D], head_value [H', V] a [BV] at the value tile. q and k
// have 2 heads, v 4 (grouped heads).
!gq = memref<2x?x2x16xf32>
!gv = memref<2x?x4x32xf32>
!kview = memref<?x16xf32, strided<[?, ?], offset: ?>>
!vview = memref<?x16xf32, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<16x16xf32, strided<[?, ?], offset: ?>>
// CHECK-LABEL: func.func @aux_layouts(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<2x?x2x16xf32>, %[[K:[^:]+]]: memref<2x?x2x16xf32>, %[[V:[^:]+]]: memref<2x?x4x32xf32>, %[[O:[^:]+]]: memref<2x?x4x32xf32>,
// CHECK-SAME:    %[[TOK:[^:]+]]: memref<2x?x4xf32>, %[[TOKD:[^:]+]]: memref<2x?x2x16xf32>, %[[TOKV:[^:]+]]: memref<2x?x4x32xf32>, %[[HD:[^:]+]]: memref<4xf32>, %[[HDD:[^:]+]]: memref<4x16xf32>, %[[HDV:[^:]+]]: memref<4x32xf32>, %{{[^:]+}}: f32)
// CHECK-DAG:   %[[H:.*]] = memref.dim %[[V]], %c2
// CHECK-DAG:   %[[HQ:.*]] = memref.dim %[[Q]], %c2
// CHECK-DAG:   %[[HQ1:.*]] = arith.maxui %[[HQ]], %c1
// CHECK-DAG:   %[[GROUP:.*]] = arith.divui %[[H]], %[[HQ1]]
// CHECK:       scf.parallel (%[[VT:[^,]+]], %[[HEAD:[^,]+]], %[[SEQ:[^)]+]]) = (%c0, %c0, %c0) to (%c2, %[[H]], %{{[^)]+}})
// CHECK:         %[[V0:.*]] = arith.muli %[[VT]], %c16
// CHECK:         %[[QHEAD:.*]] = arith.divui %[[HEAD]], %[[GROUP]]
// CHECK:         scf.for %[[CHUNK:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:           %[[T0:.*]] = arith.addi %c0, %{{.*}}
// CHECK:           %[[TC:.*]] = arith.minsi %c16, %{{.*}}
// The grouped k reads head h / (H / Hq), v head h at the value tile.
// CHECK-NEXT:      %[[KC:.*]] = memref.subview %[[K]][%[[SEQ]], %[[T0]], %[[QHEAD]], 0] [1, %[[TC]], 1, 16]
// CHECK-NEXT:      %[[VC:.*]] = memref.subview %[[V]][%[[SEQ]], %[[T0]], %[[HEAD]], %[[V0]]] [1, %[[TC]], 1, 16]
// CHECK:           %[[TOKH:.*]] = memref.dim %[[TOK]], %c2
// CHECK-NEXT:      %[[TOKG:.*]] = arith.divui %[[H]], %[[TOKH]]
// CHECK-NEXT:      %[[TOKHEAD:.*]] = arith.divui %[[HEAD]], %[[TOKG]]
// CHECK-NEXT:      %[[A0:.*]] = memref.subview %[[TOK]][%[[SEQ]], %[[T0]], %[[TOKHEAD]]] [1, %[[TC]], 1] [1, 1, 1] : memref<2x?x4xf32> to memref<?xf32, strided<[4], offset: ?>>
// CHECK-NEXT:      %[[TOKDH:.*]] = memref.dim %[[TOKD]], %c2
// CHECK-NEXT:      %[[TOKDG:.*]] = arith.divui %[[H]], %[[TOKDH]]
// CHECK-NEXT:      %[[TOKDHEAD:.*]] = arith.divui %[[HEAD]], %[[TOKDG]]
// CHECK-NEXT:      %[[A1:.*]] = memref.subview %[[TOKD]][%[[SEQ]], %[[T0]], %[[TOKDHEAD]], 0] [1, %[[TC]], 1, 16] [1, 1, 1, 1] : memref<2x?x2x16xf32> to memref<?x16xf32, strided<[32, 1], offset: ?>>
// CHECK:           %[[A2:.*]] = memref.subview %[[TOKV]][%[[SEQ]], %[[T0]], %{{[^,]+}}, %[[V0]]] [1, %[[TC]], 1, 16] [1, 1, 1, 1] : memref<2x?x4x32xf32> to memref<?x16xf32, strided<[128, 1], offset: ?>>
// CHECK:           %[[A3:.*]] = memref.subview %[[HD]][%{{[^]]+}}] [1] [1] : memref<4xf32> to memref<1xf32, strided<[1], offset: ?>>
// CHECK:           %[[A4:.*]] = memref.subview %[[HDD]][%{{[^,]+}}, 0] [1, 16] [1, 1] : memref<4x16xf32> to memref<16xf32, strided<[1], offset: ?>>
// CHECK:           %[[A5:.*]] = memref.subview %[[HDV]][%{{[^,]+}}, %[[V0]]] [1, 16] [1, 1] : memref<4x32xf32> to memref<16xf32, strided<[1], offset: ?>>
// CHECK:           linac.ssm_inputs ins(%[[A2]], %[[A0]], %[[A4]] : {{.*}})
// CHECK-NEXT:      linac.ssm_output ins(%[[A1]] : {{.*}}) skip(%[[A3]] : {{.*}})
// CHECK-NEXT:      linac.ssm_output ins(%[[A2]] : {{.*}}) skip(%[[A5]] : {{.*}})
// CHECK-NEXT:      linac.chunk_state_update ins(%[[KC]], %[[VC]] : {{.*}})
// CHECK:         } {linac.grid = ["value_tile", "head", "sequence"]}
func.func @aux_layouts(%q: !gq, %k: !gq, %v: !gv, %o: !gv, %tok: memref<2x?x4xf32>, %tokd: memref<2x?x2x16xf32>,
                       %tokv: !gv, %hd: memref<4xf32>, %hdd: memref<4x16xf32>, %hdv: memref<4x32xf32>, %scale: f32) {
  linac.chunk_loop q(%q : !gq) k(%k : !gq) v(%v : !gv) output(%o : !gv)
      aux(%tok, %tokd, %tokv, %hd, %hdd, %hdv : memref<2x?x4xf32>, memref<2x?x2x16xf32>, !gv, memref<4xf32>, memref<4x16xf32>, memref<4x32xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>,
                  aux_layouts = ["token", "token", "token_value", "head", "head", "head_value"]} {
  ^bb0(%qc: !kview, %kc: !kview, %vc: !vview, %S: !state, %oc: !vview, %a0: !vec, %a1: !kview, %a2: !vview,
       %a3: memref<1xf32, strided<[?], offset: ?>>, %a4: memref<16xf32, strided<[?], offset: ?>>, %a5: memref<16xf32, strided<[?], offset: ?>>):
    %G = memref.alloca() : memref<16x16xf32>
    %X = memref.alloca() : memref<16x16xf32>
    linac.ssm_inputs ins(%a2, %a0, %a4 : !vview, !vec, memref<16xf32, strided<[?], offset: ?>>)
        outs(%G, %X : memref<16x16xf32>, memref<16x16xf32>)
    linac.ssm_output ins(%a1 : !kview) skip(%a3 : memref<1xf32, strided<[?], offset: ?>>) outs(%oc : !vview)
    linac.ssm_output ins(%a2 : !vview) skip(%a5 : memref<16xf32, strided<[?], offset: ?>>) outs(%oc : !vview)
    linac.chunk_state_update ins(%kc, %vc : !kview, !vview) outs(%S : !state)
  }
  return
}

// -----

// Two phases (non-causal attention): a first loop over every chunk runs the
// body, which accumulates the state and the key sum, and stores nothing; a
// second loop over the same chunks runs the readout on the same state and
// key sum and stores each output tile. The final state is stored after both.
!qk = memref<2x?x2x8xf32>
!vo = memref<2x?x4x16xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!vview = memref<?x16xf32, strided<[?, ?], offset: ?>>
!state = memref<8x16xf32, strided<[?, ?], offset: ?>>
!z = memref<8xf32, strided<[?], offset: ?>>
// CHECK-LABEL: func.func @two_phases(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<2x?x2x8xf32>, %[[K:[^:]+]]: memref<2x?x2x8xf32>, %[[V:[^:]+]]: memref<2x?x4x16xf32>, %[[S0:[^:]+]]: memref<?x4x8x16xf32>, %[[O:[^:]+]]: memref<2x?x4x16xf32>, %[[ST:[^:]+]]: memref<?x4x8x16xf32>, %[[SCALE:[^:]+]]: f32)
// CHECK:       scf.parallel (%[[HEAD:[^,]+]], %[[SEQ:[^)]+]]) =
// CHECK:         %[[SBUF:.*]] = memref.alloca() : memref<8x16xf32>
// CHECK:         %[[S:.*]] = memref.subview %[[SBUF]]
// CHECK:         scf.if %{{.*}} {
// CHECK:           memref.subview %[[S0]][%[[SEQ]], %[[HEAD]], 0, %{{.*}}]
// CHECK:         %[[ZBUF:.*]] = memref.alloca() : memref<8xf32>
// CHECK:         %[[Z:.*]] = memref.subview %[[ZBUF]]
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%[[Z]] :
// CHECK:         %[[OBUF:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK:         %[[QHEAD:.*]] = arith.divui %[[HEAD]], %{{.*}}
// CHECK:         %[[NCHUNKS:.*]] = arith.ceildivsi
// CHECK:         scf.for %{{.*}} = %c0 to %[[NCHUNKS]] step %c1 {
// CHECK:           %[[KC:.*]] = memref.subview %[[K]][%[[SEQ]], %{{.*}}, %[[QHEAD]], 0]
// CHECK:           %[[VC:.*]] = memref.subview %[[V]][%[[SEQ]], %{{.*}}, %[[HEAD]], %{{.*}}]
// CHECK-NEXT:      linac.chunk_state_update ins(%[[KC]], %[[VC]] : {{.*}}) outs(%[[S]] : {{.*}})
// CHECK-NEXT:      linac.chunk_key_sum ins(%[[KC]] : {{.*}}) outs(%[[Z]] : {{.*}})
// CHECK-NOT:       linalg.generic
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.for %{{.*}} = %c0 to %[[NCHUNKS]] step %c1 {
// CHECK:           %[[QC:.*]] = memref.subview %[[Q]][%[[SEQ]], %{{.*}}, %[[QHEAD]], 0]
// CHECK:           %[[RK:.*]] = memref.subview %[[K]][%[[SEQ]], %{{.*}}, %[[QHEAD]], 0]
// CHECK:           %[[OC:.*]] = memref.subview %[[OBUF]]
// CHECK-NEXT:      linac.chunk_readout ins(%[[QC]], %[[S]] : {{.*}}) scale(%[[SCALE]]) outs(%[[OC]] : {{.*}})
// CHECK-NEXT:      linac.chunk_normalize ins(%[[QC]], %[[RK]] : {{.*}}) scale(%[[SCALE]]) outs(%[[Z]], %[[OC]] : {{.*}}) {fixed}
// CHECK-NEXT:      %[[OV:.*]] = memref.subview %[[O]][%[[SEQ]], %{{.*}}, %[[HEAD]], %{{.*}}]
// CHECK-NEXT:      linalg.generic {{.*}} ins(%[[OC]] : {{.*}}) outs(%[[OV]] : {{.*}})
// CHECK:           }
// CHECK-NEXT:    }
// CHECK-NEXT:    scf.if %{{.*}} {
// CHECK-NEXT:      memref.subview %[[ST]][%[[SEQ]], %[[HEAD]], 0, %{{.*}}]
// CHECK:       } {linac.grid = ["head", "sequence"]}
func.func @two_phases(%q: !qk, %k: !qk, %v: !vo, %s0: memref<?x4x8x16xf32>, %o: !vo, %sT: memref<?x4x8x16xf32>, %scale: f32) {
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !vo) initial_state(%s0 : memref<?x4x8x16xf32>) output(%o : !vo)
      final_state(%sT : memref<?x4x8x16xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, normalize} {
  ^bb0(%qc: !view, %kc: !view, %vc: !vview, %S: !state, %oc: !vview, %z: !z):
    linac.chunk_state_update ins(%kc, %vc : !view, !vview) outs(%S : !state)
    linac.chunk_key_sum ins(%kc : !view) outs(%z : !z)
  } {
  ^bb0(%qc: !view, %kc: !view, %vc: !vview, %S: !state, %oc: !vview, %z: !z):
    linac.chunk_readout ins(%qc, %S : !view, !state) scale(%scale) outs(%oc : !vview)
    linac.chunk_normalize ins(%qc, %kc : !view, !view) scale(%scale) outs(%z, %oc : !z, !vview) {fixed}
  }
  return
}
