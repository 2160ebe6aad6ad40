// RUN: linac-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=32 dtype=f16 chunk-size=16}))' | FileCheck %s
// RUN: linac-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(linac-specialize))' | FileCheck %s --check-prefix=KEEP

// linac-specialize fixes K, V, the element type of q, k, v and output, and
// the chunk size; g, beta and cu_seqlens keep f32/i64, the states become
// [N, H, K, V] f32, and the step's types are re-inferred.

!tokens = memref<?x?x?x?xf32>
!gates = memref<?x?x?xf32>
!states = memref<?x?x?x?xf32>

// CHECK-LABEL: func.func @scalar_decay(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x64xf16>, %[[K:[^:]+]]: memref<?x?x?x64xf16>, %[[V:[^:]+]]: memref<?x?x?x32xf16>,
// CHECK-SAME:    %[[G:[^:]+]]: memref<?x?x?xf32>, %[[S0:[^:]+]]: memref<?x?x64x32xf32>, %[[O:[^:]+]]: memref<?x?x?x32xf16>,
// CHECK-SAME:    %[[ST:[^:]+]]: memref<?x?x64x32xf32>, %[[CU:[^:]+]]: memref<?xi64>, %{{[^:]+}}: f32)
// CHECK:       linac.recurrence q(%[[Q]] : memref<?x?x?x64xf16>) k(%[[K]] : memref<?x?x?x64xf16>) v(%[[V]] : memref<?x?x?x32xf16>)
// CHECK-SAME:    g(%[[G]] : memref<?x?x?xf32>) initial_state(%[[S0]] : memref<?x?x64x32xf32>) output(%[[O]] : memref<?x?x?x32xf16>)
// CHECK-SAME:    final_state(%[[ST]] : memref<?x?x64x32xf32>) cu_seqlens(%[[CU]] : memref<?xi64>)
// CHECK-SAME:    attributes {chunk_size = 16 : i64}
// CHECK-NEXT:  ^bb0(%{{[^:]+}}: tensor<64xf32>, %{{[^:]+}}: tensor<64xf32>, %{{[^:]+}}: tensor<32xf32>, %{{[^:]+}}: f32, %{{[^:]+}}: tensor<64x32xf32>):
// CHECK:         linac.scale %{{.*}}, %{{.*}} : tensor<64x32xf32>
// CHECK:         linac.outer {{.*}} : tensor<64xf32>, tensor<32xf32> -> tensor<64x32xf32>
// CHECK:         arith.addf {{.*}} : tensor<64x32xf32>
// CHECK:         linac.transpose {{.*}} : tensor<64x32xf32> -> tensor<32x64xf32>
// CHECK:         linac.matvec {{.*}} : tensor<32x64xf32>, tensor<64xf32> -> tensor<32xf32>
// CHECK:         linac.scale {{.*}} : tensor<32xf32>
// CHECK:         linac.yield {{.*}} : tensor<64x32xf32>, tensor<32xf32>

// Without options nothing changes.
// KEEP-LABEL: func.func @scalar_decay(
// KEEP-SAME:    memref<?x?x?x?xf32>
// KEEP:       linac.recurrence
// KEEP-NOT:     chunk_size
// KEEP-NEXT:  ^bb0(%{{[^:]+}}: tensor<?xf32>, %{{[^:]+}}: tensor<?xf32>, %{{[^:]+}}: tensor<?xf32>, %{{[^:]+}}: f32, %{{[^:]+}}: tensor<?x?xf32>):
func.func @scalar_decay(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                        %s0: !states, %o: !tokens, %sT: !states,
                        %cu: memref<?xi64>, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      initial_state(%s0 : !states) output(%o : !tokens) final_state(%sT : !states)
      cu_seqlens(%cu : memref<?xi64>) scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %gt: f32,
       %S: tensor<?x?xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<?x?xf32>
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %Sn = arith.addf %Sd, %kv : tensor<?x?xf32>
    %St = linac.transpose %Sn : tensor<?x?xf32> -> tensor<?x?xf32>
    %r = linac.matvec %St, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %ot = linac.scale %r, %scale : tensor<?xf32>
    linac.yield %Sn, %ot : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}

// -----

// A vector decay [B, T, H, K] gets K (and keeps f32); beta keeps its type.
// CHECK-LABEL: func.func @vector_decay_delta(
// CHECK-SAME:    memref<?x?x?x64xf16>, %{{[^:]+}}: memref<?x?x?x64xf16>, %{{[^:]+}}: memref<?x?x?x32xf16>,
// CHECK-SAME:    %{{[^:]+}}: memref<?x?x?x64xf32>, %{{[^:]+}}: memref<?x?x?xf32>, %{{[^:]+}}: memref<?x?x?x32xf16>, %{{[^:]+}}: f32)
// CHECK:       linac.recurrence
// CHECK-SAME:    g(%{{[^ ]+}} : memref<?x?x?x64xf32>) beta(%{{[^ ]+}} : memref<?x?x?xf32>)
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = vector, update = delta>}
func.func @vector_decay_delta(%q: memref<?x?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                              %v: memref<?x?x?x?xf32>, %g: memref<?x?x?x?xf32>,
                              %beta: memref<?x?x?xf32>, %o: memref<?x?x?x?xf32>,
                              %scale: f32) {
  linac.recurrence q(%q : memref<?x?x?x?xf32>) k(%k : memref<?x?x?x?xf32>)
      v(%v : memref<?x?x?x?xf32>) g(%g : memref<?x?x?x?xf32>)
      beta(%beta : memref<?x?x?xf32>) output(%o : memref<?x?x?x?xf32>)
      scale(%scale) attributes {form = #linac.form<decay = vector, update = delta>}
  return
}

// -----

// The strided layouts of the op library are kept.
// CHECK-LABEL: func.func @strided(
// CHECK-SAME:    memref<?x?x?x64xf16, strided<[?, ?, ?, ?], offset: ?>>
// CHECK:       linac.recurrence q(%{{[^ ]+}} : memref<?x?x?x64xf16, strided<[?, ?, ?, ?], offset: ?>>)
!strided = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
func.func @strided(%q: !strided, %k: !strided, %v: !strided, %o: !strided, %scale: f32) {
  linac.recurrence q(%q : !strided) k(%k : !strided) v(%v : !strided)
      output(%o : !strided) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}

