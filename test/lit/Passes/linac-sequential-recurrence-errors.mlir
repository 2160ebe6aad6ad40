// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-sequential-recurrence

// Steps linac-sequential-recurrence cannot lower, each with its reason.

!qk = memref<?x?x?x?xf32>
func.func @dynamic_head_dims(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op head dimensions K and V must be static to run a step sequentially (run linac-specialize first)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %S: tensor<?x?xf32>):
    %t = math.tanh %S : tensor<?x?xf32>
    %r = linac.matvec %t, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    linac.yield %t, %r : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}

// -----

!qk = memref<?x?x?x8xf32>
func.func @modifiers(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op a sequential step takes no modifiers (householder, normalize, qk_l2norm, beta_sigmoid): write them in the step}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) attributes {normalize} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %t = math.tanh %S : tensor<8x8xf32>
    %r = linac.matvec %t, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %t, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<?x?x?x8xf32>
func.func @unsupported_op(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-error @+1 {{'tensor.empty' op is not supported in a sequential step (step ops: linac.outer, linac.matvec, linac.transpose, linac.scale, linac.scale_rows, elementwise arith and math ops, splat constants, tensor.extract)}}
    %e = tensor.empty() : tensor<8x8xf32>
    %m = arith.addf %S, %e : tensor<8x8xf32>
    %r = linac.matvec %m, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %m, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<?x?x?x8xf32>
func.func @non_splat_constant(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-error @+1 {{'arith.constant' op a sequential step takes only splat tensor constants}}
    %c = arith.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
    %x = arith.addf %vt, %c : tensor<8xf32>
    %kv = linac.outer %kt, %x : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %kv, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %kv, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
