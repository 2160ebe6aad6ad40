// A non-causal recurrence whose step is not chunkable is rejected: running it
// one token at a time would write each output from the state of the tokens
// before it, while non-causal attention needs every query to read the whole
// sequence's state.
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-sequential-recurrence

!qk = memref<2x16x4x8xf32>
func.func @noncausal_step(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error-re @+1 {{'linac.recurrence' op {{.*(non-causal|noncausal).*}}}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale)
      attributes {mode = #linac<mode noncausal>} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %t = math.tanh %S : tensor<8x8xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %n = arith.addf %t, %kv : tensor<8x8xf32>
    %nT = linac.transpose %n : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %nT, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %n, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
