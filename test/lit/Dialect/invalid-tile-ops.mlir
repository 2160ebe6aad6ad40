// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Checks of the tile-level ops: linac.chunk_cumsum, linac.decayed_scores,
// linac.decayed_rows, linac.chunk_output, linac.chunk_state_update,
// linac.ut_transform, linac.chunk_matmul, linac.chunk_l2_normalize,
// linac.chunk_sigmoid and linac.chunk_normalize.

func.func @cumsum_rows(%g: memref<16xf32>, %G: memref<8xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op result has 8 rows, expected 16 x repeat 1}}
  linac.chunk_cumsum ins(%g : memref<16xf32>) outs(%G : memref<8xf32>)
  return
}

// -----

// With repeat = n the result has n rows per row of gates.
func.func @cumsum_repeat_rows(%g: memref<16xf32>, %G: memref<16xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op result has 16 rows, expected 16 x repeat 2}}
  linac.chunk_cumsum ins(%g : memref<16xf32>) outs(%G : memref<16xf32>) {repeat = 2 : i64}
  return
}

// -----

func.func @cumsum_repeat_zero(%g: memref<16xf32>, %G: memref<16xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op repeat must be at least 1, got 0}}
  linac.chunk_cumsum ins(%g : memref<16xf32>) outs(%G : memref<16xf32>) {repeat = 0 : i64}
  return
}

// -----

func.func @cumsum_ranks(%g: memref<16xf32>, %G: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op gates and result must both be [C] or [C, K], got 'memref<16xf32>' and 'memref<16x8xf32>'}}
  linac.chunk_cumsum ins(%g : memref<16xf32>) outs(%G : memref<16x8xf32>)
  return
}

// -----

func.func @cumsum_rank_three(%g: memref<16x8x2xf32>, %G: memref<16x8x2xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op gates and result must both be [C] or [C, K], got 'memref<16x8x2xf32>' and 'memref<16x8x2xf32>'}}
  linac.chunk_cumsum ins(%g : memref<16x8x2xf32>) outs(%G : memref<16x8x2xf32>)
  return
}

// -----

func.func @cumsum_channels(%g: memref<16x8xf32>, %G: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op dimension 1 of gates (8) does not match dimension 1 of result (4)}}
  linac.chunk_cumsum ins(%g : memref<16x8xf32>) outs(%G : memref<16x4xf32>)
  return
}

// -----

func.func @cumsum_element_type(%g: memref<16xf16>, %G: memref<16xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op operand #0 must be memref of 32-bit float values, but got 'memref<16xf16>'}}
  linac.chunk_cumsum ins(%g : memref<16xf16>) outs(%G : memref<16xf32>)
  return
}

// -----

func.func @scores_head_dim(%q: memref<16x64xf16>, %k: memref<16x32xf16>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 1 of queries (64) does not match dimension 1 of keys (32)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x32xf16>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_rows(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<8x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 0 of scores (8) does not match dimension 0 of queries (16)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<8x16xf32>)
  return
}

// -----

func.func @scores_columns(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 1 of scores (8) does not match dimension 0 of keys (16)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<16x8xf32>)
  return
}

// -----

func.func @scores_query_stride(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op query_stride and interleave must be at least 1, got 0 and 1}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<16x16xf32>) {query_stride = 0 : i64}
  return
}

// -----

func.func @scores_interleave(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op query_stride and interleave must be at least 1, got 1 and 0}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<16x16xf32>) {interleave = 0 : i64}
  return
}

// -----

func.func @scores_workspace_without_gates(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %W: memref<16x16xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op only gated scores take a workspace}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) workspace(%W : memref<16x16xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_gates_without_workspace(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op gated scores need a workspace}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

// Scalar gates: the workspace holds the [T, T] window sums.
func.func @scores_scalar_workspace_rows(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16xf32>, %W: memref<8x16xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 0 of workspace (8) does not match dimension 0 of gates (16)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16xf32>) workspace(%W : memref<8x16xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_scalar_workspace_columns(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16xf32>, %W: memref<16x32xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 1 of workspace (32) does not match dimension 0 of gates (16)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16xf32>) workspace(%W : memref<16x32xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_gates_rank(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16x64x1xf32>, %W: memref<48x64xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op gates must be [T] (scalar) or [T, K] (vector), got 'memref<16x64x1xf32>'}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16x64x1xf32>) workspace(%W : memref<48x64xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_vector_stride(%q: memref<16x64xf16>, %k: memref<32x64xf16>, %g: memref<16x64xf32>, %W: memref<64x64xf32>, %P: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op vector gates need one key per query and token (query_stride = interleave = 1)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<32x64xf16>) gates(%g : memref<16x64xf32>) workspace(%W : memref<64x64xf32>) outs(%P : memref<16x32xf32>) {query_stride = 2 : i64, interleave = 2 : i64}
  return
}

// -----

func.func @scores_vector_gates_rows(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<8x64xf32>, %W: memref<48x64xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 0 of gates (8) does not match dimension 0 of queries (16)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<8x64xf32>) workspace(%W : memref<48x64xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_vector_gates_channels(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16x32xf32>, %W: memref<48x64xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 1 of gates (32) does not match dimension 1 of queries (64)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16x32xf32>) workspace(%W : memref<48x64xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @scores_vector_workspace_width(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %g: memref<16x64xf32>, %W: memref<48x32xf32>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op dimension 1 of workspace (32) does not match dimension 1 of keys (64)}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) gates(%g : memref<16x64xf32>) workspace(%W : memref<48x32xf32>) outs(%P : memref<16x16xf32>)
  return
}

// -----

func.func @decayed_rows_shape(%x: memref<16x64xf16>, %G: memref<16xf32>, %y: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.decayed_rows' op dimension 1 of result (32) does not match dimension 1 of input (64)}}
  linac.decayed_rows ins(%x, %G : memref<16x64xf16>, memref<16xf32>) outs(%y : memref<16x32xf32>)
  return
}

// -----

func.func @decayed_rows_result_rows(%x: memref<16x64xf16>, %G: memref<16xf32>, %y: memref<8x64xf32>) {
  // expected-error @+1 {{'linac.decayed_rows' op dimension 0 of result (8) does not match dimension 0 of input (16)}}
  linac.decayed_rows ins(%x, %G : memref<16x64xf16>, memref<16xf32>) outs(%y : memref<8x64xf32>)
  return
}

// -----

func.func @decayed_rows_decay_rows(%x: memref<16x64xf16>, %G: memref<8xf32>, %y: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.decayed_rows' op dimension 0 of decay (8) does not match dimension 0 of rows (16)}}
  linac.decayed_rows ins(%x, %G : memref<16x64xf16>, memref<8xf32>) outs(%y : memref<16x64xf32>)
  return
}

// -----

func.func @decayed_rows_decay_rank(%x: memref<16x64xf16>, %G: memref<16x64x1xf32>, %y: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.decayed_rows' op decay must be [C] (scalar decay) or [C, K] (vector decay), got 'memref<16x64x1xf32>'}}
  linac.decayed_rows ins(%x, %G : memref<16x64xf16>, memref<16x64x1xf32>) outs(%y : memref<16x64xf32>)
  return
}

// -----

func.func @decayed_rows_decay(%x: memref<16x64xf16>, %G: memref<16x32xf32>, %y: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.decayed_rows' op dimension 1 of decay (32) does not match dimension 1 of channels (64)}}
  linac.decayed_rows ins(%x, %G : memref<16x64xf16>, memref<16x32xf32>) outs(%y : memref<16x64xf32>)
  return
}

// -----

func.func @scores_f32_only(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<16x16xf16>) {
  // expected-error @+1 {{'linac.decayed_scores' op operand #2 must be 2D memref of 32-bit float values, but got 'memref<16x16xf16>'}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<16x16xf16>)
  return
}

// -----

func.func @output_state_rows(%q: memref<16x64xf32>, %S: memref<32x64xf32>, %P: memref<16x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 1 of queries (64) does not match dimension 0 of state (32)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<32x64xf32>, memref<16x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<16x64xf32>)
  return
}

// -----

func.func @output_scores_rows(%q: memref<16x64xf32>, %S: memref<64x64xf32>, %P: memref<8x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 0 of scores (8) does not match dimension 0 of queries (16)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x64xf32>, memref<8x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<16x64xf32>)
  return
}

// -----

func.func @output_scores_columns(%q: memref<16x64xf32>, %S: memref<64x64xf32>, %P: memref<16x16xf32>, %v: memref<8x64xf32>, %s: f32, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 1 of scores (16) does not match dimension 0 of values (8)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x64xf32>, memref<16x16xf32>, memref<8x64xf32>) scale(%s) outs(%o : memref<16x64xf32>)
  return
}

// -----

func.func @output_values_width(%q: memref<16x64xf32>, %S: memref<64x32xf32>, %P: memref<16x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 1 of values (64) does not match dimension 1 of state (32)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x32xf32>, memref<16x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<16x32xf32>)
  return
}

// -----

func.func @output_result_rows(%q: memref<16x64xf32>, %S: memref<64x64xf32>, %P: memref<16x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<8x64xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 0 of result (8) does not match dimension 0 of queries (16)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x64xf32>, memref<16x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<8x64xf32>)
  return
}

// -----

func.func @output_result_width(%q: memref<16x64xf32>, %S: memref<64x64xf32>, %P: memref<16x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op dimension 1 of result (32) does not match dimension 1 of state (64)}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x64xf32>, memref<16x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<16x32xf32>)
  return
}

// -----

func.func @state_update_tokens(%k: memref<16x64xbf16>, %v: memref<8x64xbf16>, %S: memref<64x64xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op dimension 0 of keys (16) does not match dimension 0 of values (8)}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<8x64xbf16>) outs(%S : memref<64x64xf32>)
  return
}

// -----

func.func @state_update_rows(%k: memref<16x64xbf16>, %v: memref<16x64xbf16>, %S: memref<32x64xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op dimension 0 of state (32) does not match dimension 1 of keys (64)}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<16x64xbf16>) outs(%S : memref<32x64xf32>)
  return
}

// -----

func.func @state_update_columns(%k: memref<16x64xbf16>, %v: memref<16x32xbf16>, %S: memref<64x64xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op dimension 1 of state (64) does not match dimension 1 of values (32)}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<16x32xbf16>) outs(%S : memref<64x64xf32>)
  return
}

// -----

// Only the decay's last row is read, so its rows are not checked (with
// interleaved sub-steps it has one per token), but its rank is.
func.func @state_update_decay_rank(%k: memref<16x64xbf16>, %v: memref<16x64xbf16>, %G: memref<16x64x1xf32>, %S: memref<64x64xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op decay must be [C] or [C, K], got 'memref<16x64x1xf32>'}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<16x64xbf16>) decay(%G : memref<16x64x1xf32>) outs(%S : memref<64x64xf32>)
  return
}

// -----

func.func @state_update_vector_decay(%k: memref<16x64xbf16>, %v: memref<16x64xbf16>, %G: memref<16x32xf32>, %S: memref<64x64xf32>) {
  // expected-error @+1 {{'linac.chunk_state_update' op dimension 1 of decay (32) does not match dimension 1 of keys (64)}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<16x64xbf16>) decay(%G : memref<16x32xf32>) outs(%S : memref<64x64xf32>)
  return
}

// -----

func.func @state_update_f32_state(%k: memref<16x64xbf16>, %v: memref<16x64xbf16>, %S: memref<64x64xbf16>) {
  // expected-error @+1 {{'linac.chunk_state_update' op operand #2 must be 2D memref of 32-bit float values, but got 'memref<64x64xbf16>'}}
  linac.chunk_state_update ins(%k, %v : memref<16x64xbf16>, memref<16x64xbf16>) outs(%S : memref<64x64xbf16>)
  return
}

// -----

func.func @normalize_rows(%q: memref<16x64xf32>, %k: memref<8x64xf32>, %s: f32, %z: memref<64xf32>, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op dimension 0 of queries (16) does not match dimension 0 of keys (8)}}
  linac.chunk_normalize ins(%q, %k : memref<16x64xf32>, memref<8x64xf32>) scale(%s) outs(%z, %o : memref<64xf32>, memref<16x64xf32>)
  return
}

// -----

func.func @normalize_head_dim(%q: memref<16x64xf32>, %k: memref<16x32xf32>, %s: f32, %z: memref<32xf32>, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op dimension 1 of queries (64) does not match dimension 1 of keys (32)}}
  linac.chunk_normalize ins(%q, %k : memref<16x64xf32>, memref<16x32xf32>) scale(%s) outs(%z, %o : memref<32xf32>, memref<16x64xf32>)
  return
}

// -----

func.func @normalize_key_sum(%q: memref<16x64xf32>, %k: memref<16x64xf32>, %s: f32, %z: memref<32xf32>, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op dimension 0 of key_sum (32) does not match dimension 1 of keys (64)}}
  linac.chunk_normalize ins(%q, %k : memref<16x64xf32>, memref<16x64xf32>) scale(%s) outs(%z, %o : memref<32xf32>, memref<16x64xf32>)
  return
}

// -----

func.func @normalize_result_rows(%q: memref<16x64xf32>, %k: memref<16x64xf32>, %s: f32, %z: memref<64xf32>, %o: memref<8x64xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op dimension 0 of result (8) does not match dimension 0 of queries (16)}}
  linac.chunk_normalize ins(%q, %k : memref<16x64xf32>, memref<16x64xf32>) scale(%s) outs(%z, %o : memref<64xf32>, memref<8x64xf32>)
  return
}

// -----

func.func @ut_not_square(%A: memref<16x8xf32>, %b: memref<16xf32>, %T: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ut_transform' op dimension 0 of products (16) does not match dimension 1 of products (8)}}
  linac.ut_transform ins(%A, %b : memref<16x8xf32>, memref<16xf32>) outs(%T : memref<16x8xf32>)
  return
}

// -----

func.func @ut_beta(%A: memref<16x16xf32>, %b: memref<8xf32>, %T: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.ut_transform' op dimension 0 of beta (8) does not match dimension 0 of products (16)}}
  linac.ut_transform ins(%A, %b : memref<16x16xf32>, memref<8xf32>) outs(%T : memref<16x16xf32>)
  return
}

// -----

func.func @ut_result(%A: memref<16x16xf32>, %b: memref<16xf32>, %T: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ut_transform' op dimension 1 of result (8) does not match dimension 1 of products (16)}}
  linac.ut_transform ins(%A, %b : memref<16x16xf32>, memref<16xf32>) outs(%T : memref<16x8xf32>)
  return
}

// -----

func.func @matmul_inner(%a: memref<16x8xf32>, %b: memref<16x4xf32>, %c: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.chunk_matmul' op dimension 1 of lhs (8) does not match dimension 0 of rhs (16)}}
  linac.chunk_matmul ins(%a, %b : memref<16x8xf32>, memref<16x4xf32>) outs(%c : memref<16x4xf32>)
  return
}

// -----

func.func @matmul_result_rows(%a: memref<16x8xf32>, %b: memref<8x4xf16>, %c: memref<8x4xf32>) {
  // expected-error @+1 {{'linac.chunk_matmul' op dimension 0 of result (8) does not match dimension 0 of lhs (16)}}
  linac.chunk_matmul ins(%a, %b : memref<16x8xf32>, memref<8x4xf16>) outs(%c : memref<8x4xf32>) {accumulate = #linac<accumulate add>}
  return
}

// -----

func.func @matmul_result_columns(%a: memref<16x8xf32>, %b: memref<8x4xf16>, %c: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_matmul' op dimension 1 of result (8) does not match dimension 1 of rhs (4)}}
  linac.chunk_matmul ins(%a, %b : memref<16x8xf32>, memref<8x4xf16>) outs(%c : memref<16x8xf32>) {accumulate = #linac<accumulate subtract>}
  return
}

// -----

func.func @l2_normalize_shape(%x: memref<16x64xbf16>, %y: memref<16x32xf32>) {
  // expected-error @+1 {{'linac.chunk_l2_normalize' op dimension 1 of result (32) does not match dimension 1 of input (64)}}
  linac.chunk_l2_normalize ins(%x : memref<16x64xbf16>) outs(%y : memref<16x32xf32>)
  return
}

// -----

func.func @sigmoid_length(%x: memref<16xf32>, %y: memref<8xf32>) {
  // expected-error @+1 {{'linac.chunk_sigmoid' op dimension 0 of result (8) does not match dimension 0 of input (16)}}
  linac.chunk_sigmoid ins(%x : memref<16xf32>) outs(%y : memref<8xf32>) {factor = 1.0 : f32}
  return
}

// -----

func.func @sigmoid_factor(%x: memref<16xf32>, %y: memref<16xf32>) {
  // expected-error @+1 {{'linac.chunk_sigmoid' op requires attribute 'factor'}}
  linac.chunk_sigmoid ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  return
}

// -----

// linac.ssm_inputs: dt, the gates and the values have x's rows; the values x's
// columns; per-state gates one column per rate.
func.func @ssm_inputs_dt_rows(%x: memref<16x8xbf16>, %dt: memref<8xf32>, %a: memref<1xf32>, %g: memref<16xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op dimension 0 of dt (8) does not match dimension 0 of x (16)}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<8xf32>, memref<1xf32>) outs(%g, %v : memref<16xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @ssm_inputs_values_rows(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<1xf32>, %g: memref<16xf32>, %v: memref<8x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op dimension 0 of values (8) does not match dimension 0 of x (16)}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<1xf32>) outs(%g, %v : memref<16xf32>, memref<8x8xf32>)
  return
}

// -----

func.func @ssm_inputs_values_columns(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<1xf32>, %g: memref<16xf32>, %v: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op dimension 1 of values (4) does not match dimension 1 of x (8)}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<1xf32>) outs(%g, %v : memref<16xf32>, memref<16x4xf32>)
  return
}

// -----

func.func @ssm_inputs_gates_rows(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<1xf32>, %g: memref<8xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op dimension 0 of gates (8) does not match dimension 0 of x (16)}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<1xf32>) outs(%g, %v : memref<8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @ssm_inputs_gates_per_state(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<4xf32>, %g: memref<16x16xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op dimension 1 of gates (16) does not match dimension 0 of rates (4)}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<4xf32>) outs(%g, %v : memref<16x16xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @ssm_inputs_gates_rank(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<4xf32>, %g: memref<16x4x1xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op gates must be [C] or [C, N], got 'memref<16x4x1xf32>'}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<4xf32>) outs(%g, %v : memref<16x4x1xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @ssm_inputs_bias_rank(%x: memref<16x8xbf16>, %dt: memref<16xf32>, %a: memref<1xf32>, %bias: memref<1x1xf32>, %g: memref<16xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op operand #3 must be 1D memref of 32-bit float values, but got 'memref<1x1xf32>'}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xf32>, memref<1xf32>) bias(%bias : memref<1x1xf32>) outs(%g, %v : memref<16xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @ssm_inputs_dt_f32(%x: memref<16x8xbf16>, %dt: memref<16xbf16>, %a: memref<1xf32>, %g: memref<16xf32>, %v: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_inputs' op operand #1 must be 1D memref of 32-bit float values, but got 'memref<16xbf16>'}}
  linac.ssm_inputs ins(%x, %dt, %a : memref<16x8xbf16>, memref<16xbf16>, memref<1xf32>) outs(%g, %v : memref<16xf32>, memref<16x8xf32>)
  return
}

// -----

// linac.ssm_output: the result and the gate have x's shape.
func.func @ssm_output_rows(%x: memref<16x8xbf16>, %y: memref<8x8xf32>) {
  // expected-error @+1 {{'linac.ssm_output' op dimension 0 of result (8) does not match dimension 0 of x (16)}}
  linac.ssm_output ins(%x : memref<16x8xbf16>) outs(%y : memref<8x8xf32>)
  return
}

// -----

func.func @ssm_output_columns(%x: memref<16x8xbf16>, %y: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.ssm_output' op dimension 1 of result (4) does not match dimension 1 of x (8)}}
  linac.ssm_output ins(%x : memref<16x8xbf16>) outs(%y : memref<16x4xf32>)
  return
}

// -----

func.func @ssm_output_gate_rows(%x: memref<16x8xbf16>, %d: memref<1xf32>, %z: memref<8x8xbf16>, %y: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_output' op dimension 0 of gate (8) does not match dimension 0 of x (16)}}
  linac.ssm_output ins(%x : memref<16x8xbf16>) skip(%d : memref<1xf32>) gate(%z : memref<8x8xbf16>) outs(%y : memref<16x8xf32>)
  return
}

// -----

func.func @ssm_output_gate_columns(%x: memref<16x8xbf16>, %z: memref<16x16xf16>, %y: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.ssm_output' op dimension 1 of gate (16) does not match dimension 1 of x (8)}}
  linac.ssm_output ins(%x : memref<16x8xbf16>) gate(%z : memref<16x16xf16>) outs(%y : memref<16x8xf32>)
  return
}

// -----

func.func @ssm_output_f32_result(%x: memref<16x8xbf16>, %y: memref<16x8xbf16>) {
  // expected-error @+1 {{'linac.ssm_output' op operand #1 must be 2D memref of 32-bit float values, but got 'memref<16x8xbf16>'}}
  linac.ssm_output ins(%x : memref<16x8xbf16>) outs(%y : memref<16x8xbf16>)
  return
}

// -----

// linac.chunk_scan: one row of q, k, v, g and the result per token; the state
// [K, V].
func.func @scan_key_rows(%q: memref<16x16xbf16>, %k: memref<8x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16xf32>, %S: memref<16x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 0 of keys (8) does not match dimension 0 of queries (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<8x16xbf16>, memref<16x8xbf16>, memref<16xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_value_rows(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<8x8xbf16>, %g: memref<16xf32>, %S: memref<16x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 0 of values (8) does not match dimension 0 of queries (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<8x8xbf16>, memref<16xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_state_rows(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16xf32>, %S: memref<8x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 0 of state (8) does not match dimension 1 of keys (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16xf32>) outs(%S, %o : memref<8x8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_state_columns(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16xf32>, %S: memref<16x4xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 1 of state (4) does not match dimension 1 of values (8)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16xf32>) outs(%S, %o : memref<16x4xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_result_rows(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16xf32>, %S: memref<16x8xf32>, %o: memref<8x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 0 of result (8) does not match dimension 0 of queries (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16xf32>) outs(%S, %o : memref<16x8xf32>, memref<8x8xf32>)
  return
}

// -----

func.func @scan_result_columns(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16xf32>, %S: memref<16x8xf32>, %o: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 1 of result (4) does not match dimension 1 of values (8)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x4xf32>)
  return
}

// -----

func.func @scan_gates_rows(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<8xf32>, %S: memref<16x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 0 of gates (8) does not match dimension 0 of rows (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<8xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_gates_channels(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16x8xf32>, %S: memref<16x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op dimension 1 of gates (8) does not match dimension 1 of channels (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16x8xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x8xf32>)
  return
}

// -----

func.func @scan_gates_rank(%q: memref<16x16xbf16>, %k: memref<16x16xbf16>, %v: memref<16x8xbf16>, %g: memref<16x16x1xf32>, %S: memref<16x8xf32>, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_scan' op gates must be [C] (scalar decay) or [C, K] (vector decay), got 'memref<16x16x1xf32>'}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x8xbf16>, memref<16x16x1xf32>) outs(%S, %o : memref<16x8xf32>, memref<16x8xf32>)
  return
}

// -----

// linac.chunk_readout: O = scale * Q S.
func.func @readout_state_rows(%q: memref<16x16xbf16>, %S: memref<8x8xf32>, %s: f32, %o: memref<16x8xf32>) {
  // expected-error @+1 {{'linac.chunk_readout' op dimension 1 of queries (16) does not match dimension 0 of state (8)}}
  linac.chunk_readout ins(%q, %S : memref<16x16xbf16>, memref<8x8xf32>) scale(%s) outs(%o : memref<16x8xf32>)
  return
}

// -----

func.func @readout_result_rows(%q: memref<16x16xbf16>, %S: memref<16x8xf32>, %s: f32, %o: memref<8x8xf32>) {
  // expected-error @+1 {{'linac.chunk_readout' op dimension 0 of result (8) does not match dimension 0 of queries (16)}}
  linac.chunk_readout ins(%q, %S : memref<16x16xbf16>, memref<16x8xf32>) scale(%s) outs(%o : memref<8x8xf32>)
  return
}

// -----

func.func @readout_result_columns(%q: memref<16x16xbf16>, %S: memref<16x8xf32>, %s: f32, %o: memref<16x4xf32>) {
  // expected-error @+1 {{'linac.chunk_readout' op dimension 1 of result (4) does not match dimension 1 of state (8)}}
  linac.chunk_readout ins(%q, %S : memref<16x16xbf16>, memref<16x8xf32>) scale(%s) outs(%o : memref<16x4xf32>)
  return
}

// -----

// linac.chunk_key_sum: one sum per key channel.
func.func @key_sum_width(%k: memref<16x16xbf16>, %z: memref<8xf32>) {
  // expected-error @+1 {{'linac.chunk_key_sum' op dimension 0 of key_sum (8) does not match dimension 1 of keys (16)}}
  linac.chunk_key_sum ins(%k : memref<16x16xbf16>) outs(%z : memref<8xf32>)
  return
}

// -----

// A fixed normalizer (non-causal attention) has the same shapes.
func.func @normalize_fixed_key_sum(%q: memref<16x64xf32>, %k: memref<16x64xf32>, %s: f32, %z: memref<32xf32>, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_normalize' op dimension 0 of key_sum (32) does not match dimension 1 of keys (64)}}
  linac.chunk_normalize ins(%q, %k : memref<16x64xf32>, memref<16x64xf32>) scale(%s) outs(%z, %o : memref<32xf32>, memref<16x64xf32>) {fixed}
  return
}

// -----

func.func @chunk_output_zero_causal_stride(%q: memref<16x64xf32>, %S: memref<64x64xf32>, %P: memref<16x16xf32>, %v: memref<16x64xf32>, %s: f32, %o: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_output' op attribute 'causal_stride' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  linac.chunk_output ins(%q, %S, %P, %v : memref<16x64xf32>, memref<64x64xf32>, memref<16x16xf32>, memref<16x64xf32>) scale(%s) outs(%o : memref<16x64xf32>) {causal_stride = 0 : i64}
  return
}

// -----

func.func @chunk_matmul_negative_causal_stride(%a: memref<16x16xf32>, %b: memref<16x64xf32>, %c: memref<16x64xf32>) {
  // expected-error @+1 {{'linac.chunk_matmul' op attribute 'causal_stride' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  linac.chunk_matmul ins(%a, %b : memref<16x16xf32>, memref<16x64xf32>) outs(%c : memref<16x64xf32>) {causal_stride = -1 : i64}
  return
}

// -----

func.func @scores_keys_without_tokens(%q: memref<16x64xf16>, %k: memref<24x64xf16>, %g: memref<8xf32>, %W: memref<8x8xf32>, %P: memref<16x24xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op keys has 24 rows, expected 8 gates x interleave 2}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<24x64xf16>) gates(%g : memref<8xf32>) workspace(%W : memref<8x8xf32>) outs(%P : memref<16x24xf32>) {interleave = 2 : i64}
  return
}
