// RUN: linac-opt %s -split-input-file -verify-diagnostics

// The step region of linac.recurrence: its arguments (q_t, k_t, v_t, [g_t],
// [beta_t], S) and its terminator (new state, output).

!qk = memref<2x16x4x8xf32>
func.func @too_few_arguments(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step region takes 5 arguments (q_t, k_t, v_t, g_t, S), got 4}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %r = linac.matvec %S, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %S, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @delta_arguments(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step region takes 5 arguments (q_t, k_t, v_t, beta_t, S), got 6}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %bt: f32, %S: tensor<8x8xf32>):
    %r = linac.matvec %S, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %S, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// Step values are f32 whatever the input element type.
!qk = memref<2x16x4x8xf16>
func.func @query_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument q_t must be 'tensor<8xf32>', got 'tensor<8xf16>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf16>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    linac.yield %S, %kt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @value_size(%q: !qk, %k: !qk, %v: memref<2x16x4x4xf32>, %o: memref<2x16x4x4xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument v_t must be 'tensor<4xf32>', got 'tensor<8xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<2x16x4x4xf32>) output(%o : memref<2x16x4x4xf32>) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x4xf32>):
    linac.yield %S, %vt : tensor<8x4xf32>, tensor<8xf32>
  }
  return
}

// -----

// A scalar decay arrives as an f32, a vector decay as tensor<K>.
!qk = memref<2x16x4x8xf32>
func.func @scalar_gate_type(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument g_t must be 'f32', got 'tensor<8xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: tensor<8xf32>, %S: tensor<8x8xf32>):
    linac.yield %S, %vt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @vector_gate_type(%q: !qk, %k: !qk, %v: !qk, %g: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument g_t must be 'tensor<8xf32>', got 'f32'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    linac.yield %S, %vt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @beta_type(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument beta_t must be 'f32', got 'f16'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %bt: f16, %S: tensor<8x8xf32>):
    linac.yield %S, %vt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @state_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step argument S must be 'tensor<8x8xf32>', got 'tensor<8x4xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x4xf32>):
    linac.yield %S, %vt : tensor<8x4xf32>, tensor<8xf32>
  }
  return
}

// -----

// Dynamic step types are compatible with static head sizes (the op library
// relies on this before linac-specialize).
!qk = memref<2x16x4x8xf32>
func.func @dynamic_step_ok(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %S: tensor<?x?xf32>):
    linac.yield %S, %vt : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @yield_arity(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step region must end with linac.yield of (new state, output)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    linac.yield %S : tensor<8x8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @yield_state_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step yields a state of type 'tensor<8xf32>', but the state is 'tensor<8x8xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    linac.yield %qt, %vt : tensor<8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @yield_output_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step yields an output of type 'tensor<8x8xf32>', expected 'tensor<8xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    linac.yield %S, %S : tensor<8x8xf32>, tensor<8x8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @yield_output_size(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step yields an output of type 'tensor<4xf32>', expected 'tensor<8xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %c = arith.constant dense<0.0> : tensor<4xf32>
    linac.yield %S, %c : tensor<8x8xf32>, tensor<4xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @yield_outside(%x: tensor<8xf32>) {
  // expected-error @+1 {{'linac.yield' op expects parent op to be one of 'linac.recurrence, linac.chunk_loop'}}
  linac.yield %x : tensor<8xf32>
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @two_blocks(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op step region must have exactly one block}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    cf.br ^bb1
  ^bb1:
    linac.yield %S, %vt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
