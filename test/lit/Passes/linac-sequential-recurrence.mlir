// RUN: linac-opt %s -split-input-file -linac-sequential-recurrence -cse | FileCheck %s

// linac-sequential-recurrence: a step that is not chunkable runs one token at
// a time: the grid over (head, sequence), the state in a local buffer, an
// scf.for over the tokens, the step's ops as linalg.generic ops on static
// local buffers.

!tokens = memref<?x?x?x8xbf16>
!values = memref<?x?x?x4xbf16>
!states = memref<?x?x8x4xf32>

// S' = tanh(S) + k v^T, o = scale * S'^T q; bf16 inputs and outputs.
// CHECK-LABEL: func.func @tanh_state(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x8xbf16>, %[[K:[^:]+]]: memref<?x?x?x8xbf16>, %[[V:[^:]+]]: memref<?x?x?x4xbf16>, %[[S0:[^:]+]]: memref<?x?x8x4xf32>, %[[O:[^:]+]]: memref<?x?x?x4xbf16>, %[[ST:[^:]+]]: memref<?x?x8x4xf32>, %[[SCALE:[^:]+]]: f32)
// CHECK-NOT:   linac.recurrence
// CHECK-DAG:   %[[B:.*]] = memref.dim %[[Q]], %c0
// CHECK-DAG:   %[[T:.*]] = memref.dim %[[Q]], %c1
// CHECK-DAG:   %[[H:.*]] = memref.dim %[[V]], %c2
// CHECK:       scf.parallel (%[[HEAD:.*]], %[[SEQ:.*]]) = (%c0, %c0) to (%[[H]], %[[B]]) step (%c1, %c1) {
// CHECK-NEXT:    memref.alloca_scope {
// Grouped q/k heads: q and k are read at head HEAD / (H / H_qk).
// CHECK-NEXT:      arith.divui %[[HEAD]], %{{.*}} : index
// The state: the initial state when it is not empty, else zeros.
// CHECK-NEXT:      %[[S:.*]] = memref.alloca() : memref<8x4xf32>
// CHECK:           scf.if
// CHECK:             linalg.generic {{.*}} ins(%{{.*}} : memref<8x4xf32, strided<[4, 1], offset: ?>>) outs(%[[S]] : memref<8x4xf32>)
// CHECK:           } else {
// CHECK-NEXT:        linalg.fill ins(%{{.*}} : f32) outs(%[[S]] : memref<8x4xf32>)
// The token's vectors and the step's one scratch matrix live outside the loop
// (the readout reuses v_t's buffer once v_t is dead).
// CHECK:           %[[QT:.*]] = memref.alloca() : memref<8xf32>
// CHECK-NEXT:      %[[KT:.*]] = memref.alloca() : memref<8xf32>
// CHECK-NEXT:      %[[VT:.*]] = memref.alloca() : memref<4xf32>
// CHECK-NEXT:      %[[KV:.*]] = memref.alloca() : memref<8x4xf32>
// CHECK-NEXT:      scf.for %[[I:.*]] = %c0 to %[[T]] step %c1 {
// CHECK-NOT:         memref.alloca
// CHECK:             %[[VROW:.*]] = memref.subview %[[V]][%[[SEQ]], %[[I]], %[[HEAD]], 0] [1, 1, 1, 4] [1, 1, 1, 1] : memref<?x?x?x4xbf16> to memref<4xbf16, strided<[1], offset: ?>>
// CHECK:             linalg.generic {{.*}} ins(%[[VROW]] : {{.*}}) outs(%[[VT]] : memref<4xf32>)
// CHECK:               arith.extf
// tanh(S) in place: S dies with it.
// CHECK:             linalg.generic {{.*}} ins(%[[S]] : memref<8x4xf32>) outs(%[[S]] : memref<8x4xf32>)
// CHECK:               math.tanh %{{.*}} : f32
// CHECK:             linalg.generic {{.*}} ins(%[[KT]], %[[VT]] : memref<8xf32>, memref<4xf32>) outs(%[[KV]] : memref<8x4xf32>)
// CHECK:             linalg.generic {{.*}} ins(%[[S]], %[[KV]] : memref<8x4xf32>, memref<8x4xf32>) outs(%[[S]] : memref<8x4xf32>)
// CHECK:               arith.addf
// The readout reads the transpose through its indexing map: no copy.
// CHECK:             linalg.fill ins(%{{.*}} : f32) outs(%[[VT]] : memref<4xf32>)
// CHECK:             linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "reduction"]} ins(%[[S]], %[[QT]] : memref<8x4xf32>, memref<8xf32>) outs(%[[VT]] : memref<4xf32>)
// CHECK:             linalg.generic {{.*}} ins(%[[VT]] : memref<4xf32>) outs(%[[VT]] : memref<4xf32>)
// CHECK:               arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:             %[[OROW:.*]] = memref.subview %[[O]][%[[SEQ]], %[[I]], %[[HEAD]], 0] [1, 1, 1, 4]
// CHECK:             linalg.generic {{.*}} ins(%[[VT]] : memref<4xf32>) outs(%[[OROW]] : {{.*}})
// CHECK:               arith.truncf %{{.*}} : f32 to bf16
// The new state is already in the state buffer: nothing to copy.
// CHECK-NEXT:          linalg.yield
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.if
// CHECK:             linalg.generic {{.*}} ins(%[[S]] : memref<8x4xf32>) outs(%{{.*}} : memref<8x4xf32, strided<[4, 1], offset: ?>>)
// CHECK:       } {linac.grid = ["head", "sequence"]}
func.func @tanh_state(%q: !tokens, %k: !tokens, %v: !values, %s0: !states,
                      %o: !values, %st: !states, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !values)
      initial_state(%s0 : !states) output(%o : !values)
      final_state(%st : !states) scale(%scale) attributes {linac.sequential = "why"} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<4xf32>, %S: tensor<8x4xf32>):
    %t = math.tanh %S : tensor<8x4xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<4xf32> -> tensor<8x4xf32>
    %next = arith.addf %t, %kv : tensor<8x4xf32>
    %nextT = linac.transpose %next : tensor<8x4xf32> -> tensor<4x8xf32>
    %read = linac.matvec %nextT, %qt : tensor<4x8xf32>, tensor<8xf32> -> tensor<4xf32>
    %out = linac.scale %read, %scale : tensor<4xf32>
    linac.yield %next, %out : tensor<8x4xf32>, tensor<4xf32>
  }
  return
}

// -----

// Scalar gates and step sizes are loaded once per token; a vector gate is
// copied into a local buffer; varlen bounds come from cu_seqlens; splat
// constants are filled once, before the token loop; a state read by a later
// op is not overwritten in place.
// CHECK-LABEL: func.func @gates_and_constants(
// CHECK:       scf.parallel
// CHECK:         %[[BOUNDS:.*]]:3 = scf.if %{{.*}} -> (index, index, index)
// CHECK:         linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<4xf32>)
// CHECK:         scf.for %[[I:.*]] = %c0 to %[[BOUNDS]]#2 step %c1 {
// CHECK:           %[[TOKEN:.*]] = arith.addi %[[BOUNDS]]#1, %[[I]]
// CHECK:           %[[GT:.*]] = memref.load %{{.*}}[%[[BOUNDS]]#0, %[[TOKEN]], %{{.*}}] : memref<?x?x?xf32>
// CHECK:           %[[BT:.*]] = memref.load %{{.*}}[%[[BOUNDS]]#0, %[[TOKEN]], %{{.*}}] : memref<?x?x?xf32>
// CHECK:           %[[D:.*]] = math.exp %[[GT]] : f32
// CHECK:           %[[SD:.*]] = arith.mulf %[[D]], %[[BT]] : f32
// CHECK:           linalg.generic {{.*}} ins(%[[S:.*]] : memref<8x4xf32>) outs(%[[X:.*]] : memref<8x4xf32>)
// CHECK:             arith.mulf %{{.*}}, %[[SD]] : f32
// CHECK:           linalg.generic {{.*}} ins(%[[X]], %[[S]] : memref<8x4xf32>, memref<8x4xf32>) outs(%[[X]] : memref<8x4xf32>)
// CHECK:             arith.subf
// CHECK:           linalg.generic {{.*}} ins(%[[X]] : memref<8x4xf32>) outs(%[[S]] : memref<8x4xf32>)
// CHECK:       } {linac.grid = ["head", "sequence"]}
!tokens = memref<?x?x?x8xf32>
!scalars = memref<?x?x?xf32>
func.func @gates_and_constants(%q: !tokens, %k: !tokens, %v: memref<?x?x?x4xf32>,
                               %g: !scalars, %beta: !scalars,
                               %o: memref<?x?x?x4xf32>, %cu: memref<?xi64>, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : memref<?x?x?x4xf32>)
      g(%g : !scalars) beta(%beta : !scalars) output(%o : memref<?x?x?x4xf32>)
      cu_seqlens(%cu : memref<?xi64>) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<4xf32>, %gt: f32, %bt: f32, %S: tensor<8x4xf32>):
    %d = math.exp %gt : f32
    %sd = arith.mulf %d, %bt : f32
    %x = linac.scale %S, %sd : tensor<8x4xf32>
    %y = arith.subf %x, %S : tensor<8x4xf32>
    %ones = arith.constant dense<1.0> : tensor<4xf32>
    %yT = linac.transpose %y : tensor<8x4xf32> -> tensor<4x8xf32>
    %r = linac.matvec %yT, %qt : tensor<4x8xf32>, tensor<8xf32> -> tensor<4xf32>
    %out = arith.addf %r, %ones : tensor<4xf32>
    linac.yield %y, %out : tensor<8x4xf32>, tensor<4xf32>
  }
  return
}
