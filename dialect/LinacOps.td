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

    `normalize` divides each output by `scale * q_t . (k_1 + ... + k_t)`
    (flash-linear-attention's normalized linear attention).

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
    UnitAttr:$normalize
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
    UnitAttr:$normalize
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

def Linac_ChunkCumsumOp : Linac_TileOp<"chunk_cumsum"> {
  let summary = "chunk-local inclusive cumulative sum of log decays";
  let description = [{
    `G[i] = g[0] + ... + g[i]` over one chunk. Every decay the chunked
    algorithm exponentiates is a difference of two such sums, so nothing
    overflows however long the sequence.
  }];
  let arguments = (ins Arg<MemRefRankOf<[F32], [1]>, "", [MemRead]>:$gates,
                       Arg<MemRefRankOf<[F32], [1]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $gates `:` type($gates) `)` `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_DecayedScoresOp : Linac_TileOp<"decayed_scores"> {
  let summary = "causal, decayed attention scores inside a chunk";
  let description = [{
    `P[i, j] = (q_i . k_j) * exp(G[i] - G[j])` for `j <= i`, else 0; without
    `decay`, `P[i, j] = q_i . k_j` for `j <= i`.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       Arg<Optional<MemRefRankOf<[F32], [1]>>, "", [MemRead]>:$decay,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$scores);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $keys `:` type($queries) `,` type($keys) `)`
    (`decay` `(` $decay^ `:` type($decay) `)`)?
    `outs` `(` $scores `:` type($scores) `)` attr-dict
  }];
}

def Linac_ChunkOutputOp : Linac_TileOp<"chunk_output"> {
  let summary = "a chunk's outputs from the entering state and the scores";
  let description = [{
    `O = scale * (diag(exp(G)) Q S + P V)`: the inter-chunk part reads the
    state that entered the chunk, the intra-chunk part the decayed scores.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$queries,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$state,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead]>:$scores,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       Arg<Optional<MemRefRankOf<[F32], [1]>>, "", [MemRead]>:$decay,
                       F32:$scale,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemWrite]>:$result);
  let assemblyFormat = [{
    `ins` `(` $queries `,` $state `,` $scores `,` $values `:` type($queries) `,`
      type($state) `,` type($scores) `,` type($values) `)`
    (`decay` `(` $decay^ `:` type($decay) `)`)?
    `scale` `(` $scale `)`
    `outs` `(` $result `:` type($result) `)` attr-dict
  }];
}

def Linac_ChunkStateUpdateOp : Linac_TileOp<"chunk_state_update"> {
  let summary = "carries the state across one chunk";
  let description = [{
    `S <- exp(G[C-1]) S + (K * exp(G[C-1] - G))^T V`, in place.
  }];
  let arguments = (ins Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$keys,
                       Arg<MemRefRankOf<[AnyFloat], [2]>, "", [MemRead]>:$values,
                       Arg<Optional<MemRefRankOf<[F32], [1]>>, "", [MemRead]>:$decay,
                       Arg<MemRefRankOf<[F32], [2]>, "", [MemRead, MemWrite]>:$state);
  let assemblyFormat = [{
    `ins` `(` $keys `,` $values `:` type($keys) `,` type($values) `)`
    (`decay` `(` $decay^ `:` type($decay) `)`)?
    `outs` `(` $state `:` type($state) `)` attr-dict
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
