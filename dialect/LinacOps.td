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

def Linac_SsmOp : Linac_Op<"ssm", [AttrSizedOperandSegments]> {
  let summary = "a Mamba-style selective state-space layer";
  let description = [{
    Mamba-2 (SSD) when `a` is `[H]`, Mamba-1 (selective scan) when `a` is
    `[H, N]`. Per sequence and head h, with the state `S: [N, P]` (f32):

        dt_t = dt[t, h] + dt_bias[h], then softplus(dt_t) with `dt_softplus`
        S <- exp(dt_t * a[h]) S + dt_t * b_t x_t^T   (a[h] broadcast or per state n)
        y_t = S^T c_t (+ d[h] * x_t) (* silu(z_t))

    | operand | shape |
    |---------|-------|
    | `x`, `output`, `z` | `[B, T, H, P]` (z optional) |
    | `dt` | `[B, T, H]` |
    | `a` | `[H]` (SSD) or `[H, N]` (selective scan) |
    | `b`, `c` | `[B, T, G, N]`, G groups dividing H |
    | `d` | `[H]` or `[H, P]` (optional) |
    | `dt_bias` | `[H]` (optional) |
    | `initial_state`, `final_state` | `[N_seq, H, N, P]` (optional) |
    | `cu_seqlens` | `[N_seq + 1]` (optional) |

    `linac-chunk-ssm` maps it onto a chunk loop with q = c, k = b, v = x and
    decays from dt, with the dt transform and the D and z terms fused into
    the chunk: SSD through the scalar-decay chunked algorithm, the selective
    scan (its decay is per state channel and V = P) through a chunked
    associative scan.
  }];
  let arguments = (ins
    Arg<AnyMemRef, "inputs x", [MemRead]>:$x,
    Arg<AnyMemRef, "time steps", [MemRead]>:$dt,
    Arg<AnyMemRef, "decay rates (negative)", [MemRead]>:$a,
    Arg<AnyMemRef, "input projections B", [MemRead]>:$b,
    Arg<AnyMemRef, "output projections C", [MemRead]>:$c,
    Arg<Optional<AnyMemRef>, "skip connection D", [MemRead]>:$d,
    Arg<Optional<AnyMemRef>, "gate z", [MemRead]>:$z,
    Arg<Optional<AnyMemRef>, "time step bias", [MemRead]>:$dt_bias,
    Arg<Optional<AnyMemRef>, "initial states", [MemRead]>:$initial_state,
    Arg<AnyMemRef, "outputs", [MemWrite]>:$output,
    Arg<Optional<AnyMemRef>, "final states", [MemWrite]>:$final_state,
    Arg<Optional<AnyMemRef>, "cumulative sequence lengths", [MemRead]>:$cu_seqlens,
    UnitAttr:$dt_softplus,
    DefaultValuedAttr<Linac_ExecutionModeAttr,
                      "::mlir::linac::ExecutionMode::chunk">:$mode,
    DefaultValuedAttr<I64Attr, "64">:$chunk_size
  );
  let assemblyFormat = [{
    `x` `(` $x `:` type($x) `)` `dt` `(` $dt `:` type($dt) `)`
    `a` `(` $a `:` type($a) `)` `b` `(` $b `:` type($b) `)`
    `c` `(` $c `:` type($c) `)`
    (`d` `(` $d^ `:` type($d) `)`)?
    (`z` `(` $z^ `:` type($z) `)`)?
    (`dt_bias` `(` $dt_bias^ `:` type($dt_bias) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    `output` `(` $output `:` type($output) `)`
    (`final_state` `(` $final_state^ `:` type($final_state) `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `:` type($cu_seqlens) `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True for Mamba-1's per-state decay rates (`a: [H, N]`).
    bool isSelectiveScan() {
      return ::llvm::cast<MemRefType>(getA().getType()).getRank() == 2;
    }
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

    q and k may have fewer heads than v (grouped heads: head h reads group
    `h / (H_v / H_q)`). The `aux` inputs follow the body's other arguments,
    one view each, as their `aux_layouts` say: `token` (`[B, T, H']` or
    `[B, T, H', D]` gives the chunk's `[C]` or `[C, D]`), `token_value`
    (`[B, T, H', V]` gives `[C, BV]`), `head` (`[H']` gives `[1]`,
    `[H', D]` gives `[D]`), `head_value` (`[H', V]` gives `[BV]`).

    With a `readout` region (non-causal attention), the body runs over every
    chunk first to accumulate the state (from the initial state), then the
    readout over every chunk to write the outputs; both take the same
    arguments.

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
    Arg<Variadic<AnyMemRef>, "more inputs, sliced per aux_layouts", [MemRead]>:$aux,
    F32:$scale,
    I64Attr:$chunk_size,
    Linac_RecurrenceFormAttr:$form,
    UnitAttr:$normalize,
    DefaultValuedAttr<I64Attr, "1">:$interleave,
    DefaultValuedAttr<StrArrayAttr, "{}">:$aux_layouts
  );
  let regions = (region SizedRegion<1>:$body, AnyRegion:$readout);
  let assemblyFormat = [{
    `q` `(` $q `:` type($q) `)` `k` `(` $k `:` type($k) `)`
    `v` `(` $v `:` type($v) `)`
    (`g` `(` $g^ `:` type($g) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`initial_state` `(` $initial_state^ `:` type($initial_state) `)`)?
    `output` `(` $output `:` type($output) `)`
    (`final_state` `(` $final_state^ `:` type($final_state) `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `:` type($cu_seqlens) `)`)?
    (`aux` `(` $aux^ `:` type($aux) `)`)?
    `scale` `(` $scale `)` attr-dict-with-keyword $body ($readout^)?
  }];
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of body arguments this op's operands and attributes imply.
    unsigned getNumExpectedBodyArguments();
    /// The body argument of aux input #i.
    Value getBodyAux(unsigned i) {
      Block &body = getBody().front();
      return body.getArgument(body.getNumArguments() - getAux().size() + i);
    }
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
    The product is computed in f32 and rounded to the result's type (16-bit
    results: `linac-narrow-decayed-rows`).
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$input,
    Arg<MemRefOf<[F32]>, "", [MemRead]>:$decay,
    Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemWrite]>:$result);
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

    With `causal_stride = s`, P is zero above the causal diagonal (`P[i, j]`
    for `j > i * s + s - 1`, as `linac.decayed_scores` of query stride s
    leaves it): output row i then sums only the values it sees, so a NaN or
    Inf in a later value stays out of it, as in the recurrence.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$state,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$scores,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$causal_stride);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $state `,` $scores `,` $values `:` type($queries) `,`
      type($state) `,` type($scores) `,` type($values) `)`
    `scale` `(` $scale `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkReadoutOp : Linac_TileOp<"chunk_readout"> {
  let summary = "a chunk's outputs from a state alone";
  let description = [{
    `O = scale * Q S`: the readout of non-causal attention, where every query
    reads the state of the whole sequence.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$state,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $state `:` type($queries) `,` type($state) `)`
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

    With `causal_stride = s`, A is zero above the causal diagonal (`A[i, j]`
    for `j > i * s + s - 1`; the UT transform's T is, with s = 1): row i of
    the product sums only the rows of B it sees.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$lhs,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$rhs,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$result,
                       DefaultValuedAttr<Linac_AccumulateAttr,
                           "::mlir::linac::Accumulate::overwrite">:$accumulate,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$causal_stride);
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

def Linac_SsmInputsOp : Linac_TileOp<"ssm_inputs"> {
  let summary = "a state-space model's decays and scaled inputs for one chunk";
  let description = [{
    `dt' = dt + bias` (then `softplus` with `dt_softplus`), the log decays
    `g = dt' * a` (`a` one rate `[1]` or one per state channel `[N]`, giving
    `[C]` or `[C, N]`) and the values `v = x * dt'`.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$x,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$dt,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$rates,
                       Arg<Optional<MemRefRankOf<[F32], [1]>>, "", [MemRead]>:$bias,
                       Arg<MemRefOf<[F32]>, "", [MemWrite]>:$gates,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$values,
                       UnitAttr:$dt_softplus);
  let assemblyFormat = [{
    `ins` `(` $x `,` $dt `,` $rates `:` type($x) `,` type($dt) `,` type($rates) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `outs` `(` $gates `,` $values `:` type($gates) `,` type($values) `)` attr-dict
  }];
}

def Linac_SsmOutputOp : Linac_TileOp<"ssm_output", [AttrSizedOperandSegments]> {
  let summary = "a state-space model's skip connection and gate for one chunk";
  let description = [{
    `y = (y + d * x) * silu(z)`, each term when present: `d` is one
    coefficient (`[1]`) or one per value channel (`[V]`).
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$x,
                       Arg<Optional<MemRefRankOf<[F32], [1]>>, "", [MemRead]>:$skip,
                       Arg<Optional<MemRefRankOf<[AnyFloat], [2]>>, "", [MemRead]>:$gate,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $x `:` type($x) `)`
    (`skip` `(` $skip^ `:` type($skip) `)`)?
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkScanOp : Linac_TileOp<"chunk_scan"> {
  let summary = "a chunk of a linear recurrence, scanned token by token";
  let description = [{
    For each row t: `S <- exp(g_t) * S + k_t v_t^T`, then `O[t] = S^T q_t`
    (`g_t` one decay `[C]` or one per key channel `[C, K]`). The pairs
    `(exp(g_t), k_t v_t^T)` compose associatively; this is the scan the
    selective state-space model (Mamba-1) runs, whose decays are per
    (state, channel) and so have no chunked matrix form that pays off.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       Arg<MemRefOf<[F32]>, "", [MemRead]>:$gates,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$state,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $keys `,` $values `,` $gates `:` type($queries) `,`
      type($keys) `,` type($values) `,` type($gates) `)`
    `outs` `(` $state `,` $result `:` type($state) `,` type($result) `)` attr-dict
  }];
}

def Linac_ChunkKeySumOp : Linac_TileOp<"chunk_key_sum"> {
  let summary = "adds a chunk's keys to a running sum";
  let description = [{ `z <- z + k_0 + ... + k_{C-1}`. }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead, MemWrite]>:$key_sum);
  let assemblyFormat = [{
    `ins` `(` $keys `:` type($keys) `)` `outs` `(` $key_sum `:` type($key_sum) `)` attr-dict
  }];
}

def Linac_ChunkNormalizeOp : Linac_TileOp<"chunk_normalize"> {
  let summary = "divides a chunk's outputs by the running key-sum normalizer";
  let description = [{
    For each row i of the chunk: `z <- z + k_i`, then
    `O[i, :] /= scale * (q_i . z) + 1e-10`. `z` is carried across chunks.
    With `fixed`, `z` is not updated (non-causal attention: the sum of every
    key of the sequence).
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemRead, MemWrite]>:$key_sum,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$result,
                       UnitAttr:$fixed);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $keys `:` type($queries) `,` type($keys) `)`
    `scale` `(` $scale `)`
    `outs` `(` $key_sum `,` $result `:` type($key_sum) `,` type($result) `)` attr-dict
  }];
}

#endif // LINAC_OPS_TD
