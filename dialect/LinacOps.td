//===- LinacOps.td - linac operations ----------------------*- tablegen -*-===//

#ifndef LINAC_OPS_TD
#define LINAC_OPS_TD

include "dialect/LinacDialect.td"
include "dialect/LinacAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// Level 1: the whole recurrence.
//===----------------------------------------------------------------------===//

def Linac_RecurrenceOp : Linac_Op<"recurrence", [AttrSizedOperandSegments]> {
  let summary = "a linear recurrence over a batch of sequences and heads";
  let description = [{
    Runs a recurrence over every (sequence, head) of its inputs, in
    destination-passing style on buffers laid out as flash-linear-attention's:

    | operand         | shape            | element type |
    |-----------------|------------------|--------------|
    | `q`, `k`        | `[B, T, H, K]`   | f16, bf16, f32 |
    | `v`, `output`   | `[B, T, H, V]`   | as `q`       |
    | `g` (optional)  | `[B, T, H]` scalar decay, `[B, T, H, K]` vector decay | f32 |
    | `beta` (optional) | `[B, T, H]`    | f32          |
    | `initial_state`, `final_state` (optional) | `[N, H, K, V]` | f32 |
    | `cu_seqlens` (optional) | `[N + 1]` | i64 (then `B == 1`) |

    An optional buffer that is present in the IR may still be empty at run
    time (its first dimension 0): an empty `initial_state` means a zero state,
    an empty `final_state` is not written, an empty `cu_seqlens` means `N = B`
    sequences of length `T`.

    The step is either the region, one token of one head with value
    semantics (`q_t, k_t: tensor<K>`, `v_t: tensor<V>`, `g_t: f32` or
    `tensor<K>`, `beta_t: f32`, the state `S: tensor<KxV>`; it yields the
    new state and the output `tensor<V>`), or, after
    `linac-recognize-recurrence`, the canonical `form` attribute and no region.

    Modifiers of the inputs and outputs around the step:
    - `normalize` divides each output by `scale * q_t . (k_1 + ... + k_t)`
      (flash-linear-attention's normalized linear attention);
    - `qk_l2norm` divides q_t and k_t by their L2 norm (`x / sqrt(x.x + 1e-6)`)
      before the step;
    - `beta_sigmoid = f` replaces beta_t by `f * sigmoid(beta_t)` (f = 2 allows
      negative eigenvalues of the Householder step);
    - `householder = n` (DeltaProduct): k, v and beta carry n sub-steps per
      token (`[B, T*n, H, ...]`, sub-step j of token t at t*n + j); the step
      describes one sub-step; the decay applies on each token's first
      sub-step and the output is read after its last.

    Example:

    ```mlir
    linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !g)
        output(%o : !qk) scale(%scale) {chunk_size = 64 : i64} {
    ^bb0(%qt: tensor<64xf32>, %kt: tensor<64xf32>, %vt: tensor<64xf32>,
         %gt: f32, %S: tensor<64x64xf32>):
      %d = math.exp %gt : f32
      %Sd = linac.scale %S, %d : tensor<64x64xf32>
      %kv = linac.outer %kt, %vt : tensor<64xf32>, tensor<64xf32> -> tensor<64x64xf32>
      %Sn = arith.addf %Sd, %kv : tensor<64x64xf32>
      %St = linac.transpose %Sn : tensor<64x64xf32> -> tensor<64x64xf32>
      %r = linac.matvec %St, %qt : tensor<64x64xf32>, tensor<64xf32> -> tensor<64xf32>
      %ot = linac.scale %r, %scale : tensor<64xf32>
      linac.yield %Sn, %ot : tensor<64x64xf32>, tensor<64xf32>
    }
    ```
  }];
  let arguments = (ins
    Arg<AnyMemRef, "queries", [MemRead]>:$q,
    Arg<AnyMemRef, "keys", [MemRead]>:$k,
    Arg<AnyMemRef, "values", [MemRead]>:$v,
    Arg<Optional<AnyMemRef>, "log-space decays", [MemRead]>:$g,
    Arg<Optional<AnyMemRef>, "delta-rule step sizes", [MemRead]>:$beta,
    Arg<Optional<AnyMemRef>, "initial states", [MemRead]>:$initial_state,
    Arg<AnyMemRef, "outputs", [MemWrite]>:$output,
    Arg<Optional<AnyMemRef>, "final states", [MemWrite]>:$final_state,
    Arg<Optional<AnyMemRef>, "cumulative sequence lengths", [MemRead]>:$cu_seqlens,
    F32:$scale,
    DefaultValuedAttr<Linac_ExecutionModeAttr,
                      "::mlir::linac::ExecutionMode::chunk">:$mode,
    DefaultValuedAttr<I64Attr, "64">:$chunk_size,
    OptionalAttr<Linac_RecurrenceFormAttr>:$form,
    UnitAttr:$normalize,
    DefaultValuedAttr<I64Attr, "1">:$householder,
    UnitAttr:$qk_l2norm,
    OptionalAttr<F32Attr>:$beta_sigmoid
  );
  let regions = (region AnyRegion:$step);
  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)` `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`g` `(` $g^ `:` type($g) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    `output` `(` $output `:` type($output) `)`
    (`final_state` `(` $final_state^ `:` type($final_state) `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `:` type($cu_seqlens) `)`)?
    `scale` `(` $scale `)` attr-dict-with-keyword ($step^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The head dimensions K and V (ShapedType::kDynamic when unknown).
    int64_t getHeadDimK();
    int64_t getHeadDimV();
  }];
}

//===----------------------------------------------------------------------===//
// Step ops: value semantics on one token of one head.
//===----------------------------------------------------------------------===//

class Linac_StepOp<string mnemonic, list<Trait> traits = []>
    : Linac_Op<mnemonic, !listconcat(traits, [Pure])>;

def Linac_OuterOp : Linac_StepOp<"outer"> {
  let summary = "outer product of two vectors: lhs rhs^T";
  let arguments = (ins 1DTensorOf<[F32]>:$lhs,
                       1DTensorOf<[F32]>:$rhs);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Linac_MatVecOp : Linac_StepOp<"matvec"> {
  let summary = "matrix-vector product: matrix @ vector";
  let arguments = (ins 2DTensorOf<[F32]>:$matrix,
                       1DTensorOf<[F32]>:$vector);
  let results = (outs 1DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $matrix `,` $vector attr-dict `:` type($matrix) `,` type($vector) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Linac_TransposeOp : Linac_StepOp<"transpose"> {
  let summary = "transpose of a matrix";
  let arguments = (ins 2DTensorOf<[F32]>:$matrix);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = "$matrix attr-dict `:` type($matrix) `->` type($result)";
  let hasVerifier = 1;
}

def Linac_ScaleOp : Linac_StepOp<"scale", [AllTypesMatch<["input", "result"]>]> {
  let summary = "multiplies every element of a tensor by a scalar";
  let arguments = (ins RankedTensorOf<[F32]>:$input, F32:$factor);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = "$input `,` $factor attr-dict `:` type($input)";
}

def Linac_ScaleRowsOp : Linac_StepOp<"scale_rows",
    [AllTypesMatch<["input", "result"]>]> {
  let summary = "multiplies each row of a matrix by an element of a vector";
  let description = [{ `result[i, j] = input[i, j] * factors[i]` (numpy's
    `factors[:, None] * input`): a per-key-channel decay of the state. }];
  let arguments = (ins 2DTensorOf<[F32]>:$input, 1DTensorOf<[F32]>:$factors);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input `,` $factors attr-dict `:` type($input) `,` type($factors)";
  let hasVerifier = 1;
}

def Linac_YieldOp : Linac_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["RecurrenceOp", "ChunkLoopOp"]>]> {
  let summary = "ends a step (new state, output) or a chunk body (nothing)";
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

//===----------------------------------------------------------------------===//
// Level 2: the chunked algorithm on one chunk of one (sequence, head, value
// tile).
//===----------------------------------------------------------------------===//

def Linac_ChunkLoopOp : Linac_Op<"chunk_loop", [AttrSizedOperandSegments,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "the chunked algorithm: a body run on each chunk in order";
  let description = [{
    Produced by `linac-chunk-recurrence`. Operands and their run-time meaning
    are those of `linac.recurrence`. The body computes one chunk of one
    (sequence, head, value tile): its block arguments are views of the
    chunk's queries `[C, K]`, keys `[C, K]`, values `[C, BV]`, then the decay
    `[C]` and step sizes `[C]` when present, the running state `[K, BV]`
    (f32, updated in place), the chunk's output tile `[C, BV]` (f32) and,
    with `normalize`, the running key sum `[K]`. `C` is the chunk's length
    (the last chunk of a sequence may be shorter than `chunk_size`).

    With `interleave = n`, keys, values and step sizes hold n sub-steps per
    token: a chunk covers `C` tokens of queries, decays and outputs and the
    `n * C` sub-steps of keys, values and step sizes that belong to them.

    `linac-tile-chunk-loop` turns it into the grid over (sequence, head,
    value tile) and a sequential loop over chunks.
  }];
  let arguments = (ins
    Arg<AnyMemRef, "queries", [MemRead]>:$q,
    Arg<AnyMemRef, "keys", [MemRead]>:$k,
    Arg<AnyMemRef, "values", [MemRead]>:$v,
    Arg<Optional<AnyMemRef>, "log-space decays", [MemRead]>:$g,
    Arg<Optional<AnyMemRef>, "delta-rule step sizes", [MemRead]>:$beta,
    Arg<Optional<AnyMemRef>, "initial states", [MemRead]>:$initial_state,
    Arg<AnyMemRef, "outputs", [MemWrite]>:$output,
    Arg<Optional<AnyMemRef>, "final states", [MemWrite]>:$final_state,
    Arg<Optional<AnyMemRef>, "cumulative sequence lengths", [MemRead]>:$cu_seqlens,
    F32:$scale,
    I64Attr:$chunk_size,
    Linac_RecurrenceFormAttr:$form,
    UnitAttr:$normalize,
    DefaultValuedAttr<I64Attr, "1">:$interleave
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)` `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`g` `(` $g^ `:` type($g) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    `output` `(` $output `:` type($output) `)`
    (`final_state` `(` $final_state^ `:` type($final_state) `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `:` type($cu_seqlens) `)`)?
    `scale` `(` $scale `)` attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of body arguments this op's operands and attributes imply.
    unsigned getNumExpectedBodyArguments();
    Value getBodyQueries() { return getBody().getArgument(0); }
    Value getBodyKeys() { return getBody().getArgument(1); }
    Value getBodyValues() { return getBody().getArgument(2); }
  }];
}

class Linac_TileOp<string mnemonic, list<Trait> traits = []>
    : Linac_Op<mnemonic, traits> {
  let hasVerifier = 1;
}

// Tile ops work on views of one chunk: `C` rows (tokens or sub-steps), `K`
// key channels, `V` value channels of the current value tile. Inputs may be
// f16, bf16 or f32; results and scratch are f32.

def Linac_ChunkCumsumOp : Linac_TileOp<"chunk_cumsum"> {
  let summary = "chunk-local cumulative sums of log decays";
  let description = [{
    `G[i] = g[0] + ... + g[i]` over one chunk, for scalar decays (`[C]`) or
    per key channel (`[C, K]`, summed along the rows); with `reverse`, the
    sums of what follows: `G[i] = g[i+1] + ... + g[C-1]`. `exp(G)` then
    decays a row from the chunk's start, or to its end.

    The sums only ever add log decays (all `<= 0`), never subtract two
    sums: no cancellation, however long the sequence or strong the decay,
    and a closed gate (`g = -inf`) gives exactly 0.

    With `repeat = n`, the result has n rows per input row (the sums of
    interleaved sub-steps, whose token's decay comes with its first one).
  }];
  let arguments = (ins
    Arg<MemRefOf<[F32]>, "", [MemRead]>:$gates,
    Arg<MemRefOf<[F32]>, "", [MemWrite]>:$result,
    DefaultValuedAttr<I64Attr, "1">:$repeat,
    UnitAttr:$reverse);
  let assemblyFormat = [{
    `ins` `(` $gates `:` type($gates) `)` `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_DecayedScoresOp : Linac_TileOp<"decayed_scores", [AttrSizedOperandSegments]> {
  let summary = "causal, decayed attention scores inside a chunk";
  let description = [{
    `P[i, j] = sum_d q[i, d] k[j, d] exp(sum_{t(j) < m <= t(p(i))} g[m, d])`
    where key j is at or before query i's position `p(i)`, else 0 (scalar
    gates broadcast over d; without gates the exponential is 1). Query row i
    sits at key position `p(i) = i * query_stride + query_stride - 1`, key
    position j belongs to token `t(j) = j / interleave`, and `strict`
    excludes the key at the query's own position.

    The exponents are sums of the gates over the window between key and
    query, computed by running sums (never differences of cumulative sums),
    so they are exact and `<= 0`. Scalar gates need a `workspace` of
    `[rows(g), rows(g)]` (the window sums); vector gates (one key per
    query and token) split the queries in sub-chunks of 16 rows: the keys before a
    sub-chunk become one matrix product of both sides rescaled to its
    start, the keys inside it a band of 16 diagonals; they need a
    `workspace` of `[32 + rows(k), K]`.
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
    Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
    Arg<Optional<MemRefOf<[F32]>>, "", [MemRead]>:$gates,
    Arg<Optional<MemRefRankOf<[F32], [2]>>, "", [MemRead, MemWrite]>:$workspace,
    Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$scores,
    UnitAttr:$strict,
    DefaultValuedAttr<I64Attr, "1">:$query_stride,
    DefaultValuedAttr<I64Attr, "1">:$interleave);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $keys `:` type($queries) `,` type($keys) `)`
    (`gates` `(` $gates^ `:` type($gates) `)`)?
    (`workspace` `(` $workspace^ `:` type($workspace) `)`)?
    `outs` `(` $scores `:` type($scores) `)` attr-dict
  }];
}

def Linac_DecayedRowsOp : Linac_TileOp<"decayed_rows"> {
  let summary = "rows rescaled by a decay";
  let description = [{
    `y[i] = x[i] * exp(D[i])`: scalar decays (`[C]`) scale whole rows, vector
    decays (`[C, K]`) each channel. With `D` a forward `linac.chunk_cumsum`
    this decays rows from the chunk's start, with a reverse one to its end.
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$input,
    Arg<MemRefOf<[F32]>, "", [MemRead]>:$decay,
    Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $input `,` $decay `:` type($input) `,` type($decay) `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkOutputOp : Linac_TileOp<"chunk_output"> {
  let summary = "a chunk's outputs from the entering state and the scores";
  let description = [{
    `O = scale * (Q S + P V)`: the inter-chunk part reads the state that
    entered the chunk with (decayed) queries, the intra-chunk part the
    decayed scores.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$state,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$scores,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $state `,` $scores `,` $values `:` type($queries) `,`
      type($state) `,` type($scores) `,` type($values) `)`
    `scale` `(` $scale `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkStateUpdateOp : Linac_TileOp<"chunk_state_update"> {
  let summary = "carries the state across one chunk";
  let description = [{
    `S <- exp(G[last]) * S + K^T V` in place, with keys already decayed to
    the chunk's end (`linac.decayed_rows` by a reverse cumulative sum) and
    `G` the forward one; a vector decay scales each row of S by its
    channel's decay.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       Arg<Optional<MemRefOf<[F32]>>, "", [MemRead]>:$decay,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$state);
  let assemblyFormat = [{
    `ins` `(` $keys `,` $values `:` type($keys) `,` type($values) `)`
    (`decay` `(` $decay^ `:` type($decay) `)`)?
    `outs` `(` $state `:` type($state) `)` attr-dict
  }];
}

def Linac_UTTransformOp : Linac_TileOp<"ut_transform"> {
  let summary = "the UT transform of a chunk of delta-rule steps";
  let description = [{
    `T = (I + diag(beta) A)^-1 diag(beta)` for the strictly lower triangular
    `A` (decayed key products, `linac.decayed_scores {strict}`), by forward
    substitution over rows. Then `W = T (K * exp(G))` and `U = T V - W S`
    turn a chunk of sequential delta-rule steps into matrix products.
  }];
  let arguments = (ins Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$products,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$beta,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $products `,` $beta `:` type($products) `,` type($beta) `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkMatmulOp : Linac_TileOp<"chunk_matmul"> {
  let summary = "a small matrix product inside a chunk";
  let description = [{
    `C = A B`, `C += A B` (`accumulate = add`) or `C -= A B`
    (`accumulate = subtract`), in f32.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$lhs,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$rhs,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$result,
                       DefaultValuedAttr<Linac_AccumulateAttr,
                           "::mlir::linac::Accumulate::overwrite">:$accumulate);
  let assemblyFormat = [{
    `ins` `(` $lhs `,` $rhs `:` type($lhs) `,` type($rhs) `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkL2NormalizeOp : Linac_TileOp<"chunk_l2_normalize"> {
  let summary = "rows divided by their L2 norm";
  let description = [{ `y[i] = x[i] / sqrt(x[i] . x[i] + 1e-6)`. }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$input,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkSigmoidOp : Linac_TileOp<"chunk_sigmoid"> {
  let summary = "a scaled logistic function, element by element";
  let description = [{ `y = factor / (1 + exp(-x))`. }];
  let arguments = (ins Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$input,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemWrite]>:$result,
                       F32Attr:$factor);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkNormalizeOp : Linac_TileOp<"chunk_normalize"> {
  let summary = "divides a chunk's outputs by the running key-sum normalizer";
  let description = [{
    For each row i of the chunk: `z <- z + k_i`, then
    `O[i, :] /= scale * (q_i . z) + 1e-10`. `z` is carried across chunks.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead, MemWrite]>:$key_sum,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $keys `:` type($queries) `,` type($keys) `)`
    `scale` `(` $scale `)`
    `outs` `(` $key_sum `,` $result `:` type($key_sum) `,` type($result) `)` attr-dict
  }];
}

#endif // LINAC_OPS_TD
