// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Shape checks of the step ops: linac.outer, linac.matvec, linac.transpose,
// linac.scale.

func.func @outer_rows(%a: tensor<8xf32>, %b: tensor<4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'linac.outer' op result 'tensor<4x4xf32>' does not match the outer product of 'tensor<8xf32>' and 'tensor<4xf32>'}}
  %r = linac.outer %a, %b : tensor<8xf32>, tensor<4xf32> -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

func.func @outer_columns(%a: tensor<8xf32>, %b: tensor<4xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'linac.outer' op result 'tensor<8x8xf32>' does not match the outer product of 'tensor<8xf32>' and 'tensor<4xf32>'}}
  %r = linac.outer %a, %b : tensor<8xf32>, tensor<4xf32> -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}

// -----

func.func @outer_element_type(%a: tensor<8xf16>, %b: tensor<8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'linac.outer' op operand #0 must be 1D tensor of 32-bit float values, but got 'tensor<8xf16>'}}
  %r = linac.outer %a, %b : tensor<8xf16>, tensor<8xf32> -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}

// -----

func.func @matvec_inner(%m: tensor<8x4xf32>, %x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'linac.matvec' op cannot multiply a matrix 'tensor<8x4xf32>' by a vector 'tensor<8xf32>'}}
  %r = linac.matvec %m, %x : tensor<8x4xf32>, tensor<8xf32> -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @matvec_result(%m: tensor<8x4xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'linac.matvec' op result 'tensor<4xf32>' does not match the rows of 'tensor<8x4xf32>'}}
  %r = linac.matvec %m, %x : tensor<8x4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @matvec_rank(%m: tensor<8xf32>, %x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'linac.matvec' op operand #0 must be 2D tensor of 32-bit float values, but got 'tensor<8xf32>'}}
  %r = linac.matvec %m, %x : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @transpose_shape(%m: tensor<8x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'linac.transpose' op result 'tensor<8x4xf32>' is not the transpose of 'tensor<8x4xf32>'}}
  %r = linac.transpose %m : tensor<8x4xf32> -> tensor<8x4xf32>
  return %r : tensor<8x4xf32>
}

// -----

func.func @scale_factor_type(%x: tensor<8xf32>, %f: f16) -> tensor<8xf32> {
  // expected-error @+1 {{'linac.scale' op operand #1 must be 32-bit float, but got 'f16'}}
  %r = "linac.scale"(%x, %f) : (tensor<8xf32>, f16) -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @scale_result_type(%x: tensor<8xf32>, %f: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'linac.scale' op failed to verify that all of {input, result} have same type}}
  %r = "linac.scale"(%x, %f) : (tensor<8xf32>, f32) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Dynamic sizes are compatible with static ones.
func.func @dynamic_ok(%a: tensor<?xf32>, %b: tensor<4xf32>, %m: tensor<?x?xf32>) -> tensor<?xf32> {
  %o = linac.outer %a, %b : tensor<?xf32>, tensor<4xf32> -> tensor<8x4xf32>
  %t = linac.transpose %m : tensor<?x?xf32> -> tensor<4x?xf32>
  %r = linac.matvec %m, %b : tensor<?x?xf32>, tensor<4xf32> -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

func.func @scale_rows_mismatch(%m: tensor<8x4xf32>, %f: tensor<4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'linac.scale_rows' op cannot scale the rows of 'tensor<8x4xf32>' by 'tensor<4xf32>'}}
  %r = linac.scale_rows %m, %f : tensor<8x4xf32>, tensor<4xf32>
  return %r : tensor<8x4xf32>
}
