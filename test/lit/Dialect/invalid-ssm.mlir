// RUN: linac-opt %s -split-input-file -verify-diagnostics

// linac.ssm: every check of its verifier.

// Ranks.
func.func @x_rank(%x: memref<2x16x4xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op x must be [B, T, H, P], got 'memref<2x16x4xf32>'}}
  linac.ssm x(%x : memref<2x16x4xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @output_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x32xf32>) {
  // expected-error @+1 {{'linac.ssm' op output must be [B, T, H, P], got 'memref<2x16x32xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x32xf32>)
  return
}

// -----

func.func @dt_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4x1xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dt must be [B, T, H], got 'memref<2x16x4x1xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4x1xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @a_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4x16x1xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op a must be [H] (SSD) or [H, N] (selective scan), got 'memref<4x16x1xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4x16x1xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @b_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op b must be [B, T, G, N], got 'memref<2x16x16xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @c_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16x1xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op c must be [B, T, G, N], got 'memref<2x16x2x16x1xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16x1xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// Element types: b, c and output have x's, dt and a are f32.
func.func @x_element_type(%x: memref<2x16x4x8xf64>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf64>) {
  // expected-error @+1 {{'linac.ssm' op x must have element type f16, bf16 or f32, got 'f64'}}
  linac.ssm x(%x : memref<2x16x4x8xf64>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf64>)
  return
}

// -----

func.func @b_element_type(%x: memref<2x16x4x8xbf16>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xbf16>, %output: memref<2x16x4x8xbf16>) {
  // expected-error @+1 {{'linac.ssm' op b must have element type 'bf16', got 'f32'}}
  linac.ssm x(%x : memref<2x16x4x8xbf16>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xbf16>) output(%output : memref<2x16x4x8xbf16>)
  return
}

// -----

func.func @c_element_type(%x: memref<2x16x4x8xf16>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf16>, %c: memref<2x16x2x16xbf16>, %output: memref<2x16x4x8xf16>) {
  // expected-error @+1 {{'linac.ssm' op c must have element type 'f16', got 'bf16'}}
  linac.ssm x(%x : memref<2x16x4x8xf16>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf16>) c(%c : memref<2x16x2x16xbf16>) output(%output : memref<2x16x4x8xf16>)
  return
}

// -----

func.func @output_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xbf16>) {
  // expected-error @+1 {{'linac.ssm' op output must have element type 'f32', got 'bf16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xbf16>)
  return
}

// -----

func.func @dt_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xbf16>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dt must have element type 'f32', got 'bf16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xbf16>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @a_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf16>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op a must have element type 'f32', got 'f16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf16>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// Sizes: output as x; dt as x's [B, T, H]; c as b; b's [B, T] and a's heads as x's.
func.func @output_shape(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x16xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 3 of output (16) does not match dimension 3 of x (8)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x16xf32>)
  return
}

// -----

func.func @dt_time(%x: memref<2x16x4x8xf32>, %dt: memref<2x8x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 1 of dt (8) does not match dimension 1 of x (16)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x8x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @dt_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x2xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 2 of dt (2) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x2xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @c_groups(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x1x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 2 of c (1) does not match dimension 2 of b (2)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x1x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @c_state_size(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x8xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 3 of c (8) does not match dimension 3 of b (16)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x8xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @b_batch(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<1x16x2x16xf32>, %c: memref<1x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 0 of b (1) does not match dimension 0 of x (2)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<1x16x2x16xf32>) c(%c : memref<1x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @b_time(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x8x2x16xf32>, %c: memref<2x8x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 1 of b (8) does not match dimension 1 of x (16)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x8x2x16xf32>) c(%c : memref<2x8x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @a_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<2xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 0 of a (2) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<2xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// The selective scan: one rate per head and state channel.
func.func @scan_a_state_size(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4x8xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 1 of a (8) does not match dimension 3 of b (16)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4x8xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// The skip connection D: per head or per head and channel, f32.
func.func @d_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %d: memref<4x8x1xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op d must be [H] or [H, P], got 'memref<4x8x1xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) d(%d : memref<4x8x1xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @d_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %d: memref<4xf16>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op d must have element type 'f32', got 'f16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) d(%d : memref<4xf16>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @d_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %d: memref<2xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 0 of d (2) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) d(%d : memref<2xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @d_channels(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %d: memref<4x4xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 1 of d (4) does not match dimension 3 of x (8)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) d(%d : memref<4x4xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// The gate z: as x.
func.func @z_shape(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %z: memref<2x16x4x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 3 of z (16) does not match dimension 3 of x (8)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) z(%z : memref<2x16x4x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @z_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %z: memref<2x16x2x8xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 2 of z (2) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) z(%z : memref<2x16x2x8xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// dt_bias: one per head, f32.
func.func @dt_bias_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %dt_bias: memref<4x1xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dt_bias must be [H], got 'memref<4x1xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) dt_bias(%dt_bias : memref<4x1xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @dt_bias_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %dt_bias: memref<4xbf16>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dt_bias must have element type 'f32', got 'bf16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) dt_bias(%dt_bias : memref<4xbf16>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @dt_bias_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %dt_bias: memref<8xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 0 of dt_bias (8) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) dt_bias(%dt_bias : memref<8xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// States: [N, H, N_state, P], f32.
func.func @initial_state_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %initial_state: memref<4x16x8xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op initial_state must be [N, H, N_state, P], got 'memref<4x16x8xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) initial_state(%initial_state : memref<4x16x8xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @final_state_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>, %final_state: memref<2x4x16x8xf16>) {
  // expected-error @+1 {{'linac.ssm' op final_state must have element type 'f32', got 'f16'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) final_state(%final_state : memref<2x4x16x8xf16>)
  return
}

// -----

func.func @initial_state_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %initial_state: memref<2x2x16x8xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 1 of initial_state (2) does not match dimension 2 of x (4)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) initial_state(%initial_state : memref<2x2x16x8xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @final_state_state_size(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>, %final_state: memref<2x4x8x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 2 of final_state (8) does not match dimension 3 of b (16)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) final_state(%final_state : memref<2x4x8x8xf32>)
  return
}

// -----

func.func @initial_state_head_size(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %initial_state: memref<2x4x16x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op dimension 3 of initial_state (16) does not match dimension 3 of x (8)}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) initial_state(%initial_state : memref<2x4x16x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

// cu_seqlens: [N + 1] i64.
func.func @cu_seqlens_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>, %cu_seqlens: memref<3x1xi64>) {
  // expected-error @+1 {{'linac.ssm' op cu_seqlens must be [N + 1], got 'memref<3x1xi64>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) cu_seqlens(%cu_seqlens : memref<3x1xi64>)
  return
}

// -----

func.func @cu_seqlens_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>, %cu_seqlens: memref<3xi32>) {
  // expected-error @+1 {{'linac.ssm' op cu_seqlens must have element type 'i64', got 'i32'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) cu_seqlens(%cu_seqlens : memref<3xi32>)
  return
}

// -----

// Attributes.
func.func @chunk_size_not_power_of_two(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op chunk_size must be a power of two in [1, 256], got 48}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) {chunk_size = 48 : i64}
  return
}

// -----

func.func @chunk_size_too_large(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op chunk_size must be a power of two in [1, 256], got 512}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) {chunk_size = 512 : i64}
  return
}

// -----

func.func @noncausal(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op a state-space model is causal}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) output(%output : memref<2x16x4x8xf32>) {mode = #linac<mode noncausal>}
  return
}
