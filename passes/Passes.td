//===- Passes.td - linac passes ----------------------------*- tablegen -*-===//

#ifndef LINAC_PASSES_TD
#define LINAC_PASSES_TD

include "mlir/Pass/PassBase.td"

def LinacSpecialize : Pass<"linac-specialize", "::mlir::func::FuncOp"> {
  let summary = "Fixes the head dimensions, element type and chunk size of a kernel";
  let description = [{
    The op library is written once for any head size and element type; this
    pass instantiates it. It rewrites the types of the function arguments
    that feed a `linac.recurrence` (K and V dimensions, the element type of
    `q`, `k`, `v` and `output`) and re-infers the types inside the step.

    Before (`head-dim-k=64 head-dim-v=32 dtype=f16`):

    ```mlir
    func.func @f(%q: memref<?x?x?x?xf32>, ...) {
      linac.recurrence q(%q : memref<?x?x?x?xf32>) ... {
      ^bb0(%qt: tensor<?xf32>, ..., %S: tensor<?x?xf32>): ...
    ```

    After:

    ```mlir
    func.func @f(%q: memref<?x?x?x64xf16>, ...) {
      linac.recurrence q(%q : memref<?x?x?x64xf16>) ... {
      ^bb0(%qt: tensor<64xf32>, ..., %S: tensor<64x32xf32>): ...
    ```
  }];
  let options = [
    Option<"headDimK", "head-dim-k", "int64_t", "0",
           "key/query head dimension K (0: keep)">,
    Option<"headDimV", "head-dim-v", "int64_t", "0",
           "value head dimension V (0: keep)">,
    Option<"dtype", "dtype", "std::string", "\"\"",
           "element type of q, k, v and the output: f32, f16 or bf16 (empty: keep)">,
    Option<"chunkSize", "chunk-size", "int64_t", "0",
           "chunk size of chunked recurrences (0: keep)">,
    Option<"householder", "householder", "int64_t", "0",
           "Householder steps per token (0: keep)">,
    Option<"qkL2norm", "qk-l2norm", "bool", "false",
           "L2-normalize q and k before the step">,
    Option<"betaSigmoid", "beta-sigmoid", "float", "0.0f",
           "use factor * sigmoid(beta) as the step size (0: keep beta)">,
    Option<"dtSoftplus", "dt-softplus", "bool", "false",
           "state-space models: apply softplus to dt + dt_bias">
  ];
  let dependentDialects = ["::mlir::linac::LinacDialect"];
}

def LinacRecognizeRecurrence : Pass<"linac-recognize-recurrence", "::mlir::func::FuncOp"> {
  let summary = "Matches a recurrence's step region to its canonical form";
  let description = [{
    Reads the step of each `linac.recurrence` and, when it is a linear
    recurrence linac knows how to chunk, replaces the region with a
    `#linac.form` attribute. A step it cannot match is an error that points
    at the first operation that breaks the form.

    Before:

    ```mlir
    linac.recurrence ... {
    ^bb0(%qt, %kt, %vt, %gt: f32, %S):
      %d = math.exp %gt : f32
      %Sd = linac.scale %S, %d : tensor<64x64xf32>
      %kv = linac.outer %kt, %vt : ...
      %Sn = arith.addf %Sd, %kv : tensor<64x64xf32>
      ... readout scale * Sn^T qt ...
      linac.yield %Sn, %ot : ...
    }
    ```

    After:

    ```mlir
    linac.recurrence ... attributes {form = #linac.form<decay = scalar, update = plain>}
    ```

    With `allow-sequential`, a step it cannot match is kept, marked with a
    `linac.sequential` attribute that says why, and reported as a warning:
    `linac-sequential-recurrence` then runs it one token at a time.
  }];
  let options = [
    Option<"allowSequential", "allow-sequential", "bool", "false",
           "keep unmatched steps for the sequential fallback instead of failing">
  ];
  let dependentDialects = ["::mlir::linac::LinacDialect"];
}

def LinacChunkRecurrence : Pass<"linac-chunk-recurrence", "::mlir::func::FuncOp"> {
  let summary = "Rewrites a canonical recurrence into its chunked algorithm";
  let description = [{
    Replaces each canonical `linac.recurrence` with a `linac.chunk_loop`
    whose body is the chunked algorithm of its family for one chunk
    (see MATH.md). A recurrent (decode) recurrence becomes a chunk loop with
    chunks of one token: the same algebra, one token at a time.

    After, for scalar decay and a plain update:

    ```mlir
    linac.chunk_loop ... attributes {chunk_size = 64 : i64,
        form = #linac.form<decay = scalar, update = plain>} {
    ^bb0(%q: memref<?x64xf16, ...>, %k: ..., %v: ..., %g: memref<?xf32, ...>,
         %S: memref<64x64xf32, ...>, %o: memref<?x64xf32, ...>):
      linac.chunk_cumsum ins(%g : ...) outs(%G : ...)
      linac.chunk_cumsum ins(%g : ...) outs(%R : ...) {reverse}
      linac.decayed_scores ins(%q, %k : ...) gates(%g : ...) workspace(%E : ...) outs(%P : ...)
      linac.decayed_rows ins(%q, %G : ...) outs(%qd : ...)
      linac.chunk_output ins(%qd, %S, %P, %v : ...) scale(%s) outs(%o : ...)
      linac.decayed_rows ins(%k, %R : ...) outs(%kd : ...)
      linac.chunk_state_update ins(%kd, %v : ...) decay(%G : ...) outs(%S : ...)
    }
    ```

    Delta rules add `linac.ut_transform` and `linac.chunk_matmul`s (the
    pseudo-values U = T V - W S); non-causal attention gets a body that
    accumulates the state and a `readout` region.
  }];
  let dependentDialects = ["::mlir::linac::LinacDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LinacNarrowDecayedRows
    : Pass<"linac-narrow-decayed-rows", "::mlir::func::FuncOp"> {
  let summary = "Decayed rows in the inputs' 16-bit type";
  let description = [{
    Retypes each f32 scratch buffer that `linac.decayed_rows` writes from
    bf16 (or f16) inputs to that type, where every reader takes rows of any
    float type (`chunk_state_update`'s keys, `chunk_output`'s and
    `chunk_readout`'s queries, `chunk_matmul`'s operands). The state update
    `K^T V` then multiplies two 16-bit operands, which the GPU's tensor cores
    take as bf16 (m16n8k16) instead of tf32 (m16n8k8: twice the
    instructions), and the buffer takes half the shared memory. The rows are
    rounded once, as flash-linear-attention rounds its decayed q and k; the
    products still accumulate in f32.

    Before:

    ```mlir
    %rows = memref.alloca() : memref<16x64xf32>
    %kd = memref.subview %rows[0, 0] [%n, 64] [1, 1] : ... to memref<?x64xf32, ...>
    linac.decayed_rows ins(%k, %G : memref<?x64xbf16, ...>, ...) outs(%kd : ...)
    linac.chunk_state_update ins(%kd, %v : ...) ...
    ```

    After, the same with `memref<16x64xbf16>` and `memref<?x64xbf16, ...>`.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def LinacNarrowProductOperands
    : Pass<"linac-narrow-product-operands", "::mlir::func::FuncOp"> {
  let summary = "f32 operands of a 16-bit kernel's matrix products rounded to its type";
  let description = [{
    In a kernel whose inputs are bf16 (or f16), gives each matrix product
    (a linalg contraction with an output of at least 8 x 8, the size worth a
    tensor-core tile, that sums at least 8 terms: not a decode step's outer
    product) a 16-bit copy of each operand it reads from an f32 local
    buffer: the state in `Q S` and `W S`, the scores in `P V`, the
    delta rule's pseudo-values U and the UT transform's T. Both operands are
    then 16-bit, so the tensor cores run the product as bf16 (m16n8k16)
    instead of tf32 (m16n8k8: twice the instructions). This is the rounding
    flash-linear-attention does before its `tl.dot`s; the products still
    accumulate in f32, and the state itself stays f32.

    Each copy goes into a 16-bit twin of the operand's buffer, just before
    the product. A later product of the same block reuses it while nothing
    in between may write the buffer (`U` feeds both `P U` and `K^T U`).
    Products of one row (decode steps, the UT transform's solve) are left
    alone, as are kernels without 16-bit inputs.

    Before (`linac-lower-chunk-ops`' `Q S`):

    ```mlir
    %S = memref.alloca() : memref<64x32xf32>
    linalg.generic {...} ins(%qd, %S : memref<?x64xbf16, ...>, memref<64x32xf32>)
        outs(%o : ...) { ... }
    ```

    After:

    ```mlir
    %S = memref.alloca() : memref<64x32xf32>
    %S16 = memref.alloca() : memref<64x32xbf16>
    linalg.generic {...} ins(%S : memref<64x32xf32>) outs(%S16 : memref<64x32xbf16>) {
      arith.truncf ...
    }
    linalg.generic {...} ins(%qd, %S16 : memref<?x64xbf16, ...>, memref<64x32xbf16>)
        outs(%o : ...) { ... arith.extf ... }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LinacInterleaveHouseholder
    : Pass<"linac-interleave-householder", "::mlir::func::FuncOp"> {
  let summary = "Chunks Householder products (DeltaProduct) as an interleaved delta rule";
  let description = [{
    A recurrence with `householder = n` applies n delta-rule steps per token.
    This pass rewrites it into the chunked delta rule over the interleaved
    sequence of T * n sub-steps (sub-step j of token t at t * n + j), with
    the token's decay on its first sub-step and the readout after its last:
    a `linac.chunk_loop` with `interleave = n` whose chunks hold whole
    tokens. No second kernel family: the body is the delta rule's.

    ```mlir
    linac.recurrence ... attributes {householder = 2 : i64,
        form = #linac.form<decay = scalar, update = delta>}
    ```

    becomes

    ```mlir
    linac.chunk_loop ... attributes {chunk_size = 32 : i64, interleave = 2 : i64, ...} {
      ... linac.chunk_cumsum ... {repeat = 2 : i64}
      ... linac.decayed_scores ... {query_stride = 2 : i64}
      ... linac.ut_transform ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::linac::LinacDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LinacChunkSsm : Pass<"linac-chunk-ssm", "::mlir::func::FuncOp"> {
  let summary = "Rewrites a Mamba-style state-space model into a chunk loop";
  let description = [{
    Replaces each `linac.ssm` with a `linac.chunk_loop` over q = C, k = B,
    v = x and the time steps dt, whose body fuses the whole layer into each
    chunk: `linac.ssm_inputs` (dt + bias, softplus, decays dt * A and values
    x * dt), then for Mamba-2 (one decay rate per head) the scalar-decay
    chunked algorithm with scale 1, or for Mamba-1 (a rate per state
    channel) the chunked scan `linac.chunk_scan`, then `linac.ssm_output`
    (the skip connection D x and the gate silu(z)). A, dt_bias, D and z are
    the loop's aux inputs.

    ```mlir
    linac.ssm x(%x : ...) dt(%dt : ...) a(%a : memref<?xf32>) b(%b : ...) c(%c : ...)
        output(%y : ...) {dt_softplus}
    ```

    becomes

    ```mlir
    linac.chunk_loop q(%c ...) k(%b ...) v(%x ...) g(%dt ...) ... aux(%a ...)
        attributes {aux_layouts = ["head"], ...} {
      linac.ssm_inputs ...
      linac.decayed_scores ... linac.chunk_output ... linac.chunk_state_update ...
      linac.ssm_output ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::linac::LinacDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def LinacTileChunkLoop : Pass<"linac-tile-chunk-loop", "::mlir::func::FuncOp"> {
  let summary = "Materializes the grid and the sequential loop over chunks";
  let description = [{
    Turns each `linac.chunk_loop` into an `scf.parallel` grid over
    (value tile, head, sequence) (the value tile dimension only when there
    is more than one tile; `linac.grid` names the dimensions) whose body loads the state (or zeros),
    runs an `scf.for` over the sequence's chunks on views of the inputs
    (`memref.subview`), converts and stores each output tile, and stores
    the final state. Variable-length batches read their bounds from
    `cu_seqlens`. Local buffers are `memref.alloca`s hoisted out of the
    chunk loop.

    With `state-checkpoints=M` the kernel is a *state pass*: its chunk body
    keeps only what the state needs (the ops whose writes nothing reads are
    erased: the output products, their scores, the staging of `q`), and it
    writes the state at the end of every segment of M chunks to
    `final_state[first segment of the sequence + segment]`. A sequence of
    `L` tokens has `max(1, ceil(L / (M C)))` segments, so row
    `first + segments - 1` is its final state. The caller then runs the
    ordinary kernel over the segments as sequences of their own (through
    `cu_seqlens`), each from the state its predecessor ended with: the
    sequential chunk loop shrinks to one segment, and the grid grows by the
    segments (linac/_segments.py).

    After:

    ```mlir
    scf.parallel (%vt, %h, %n) = (%c0, %c0, %c0) to (%nv, %H, %N) step (...) {
      %S = memref.alloca() : memref<64x64xf32>
      ... zero or copy the initial state ...
      scf.for %c = %c0 to %num_chunks step %c1 {
        %qc = memref.subview %q[...] : ... to memref<?x64xf16, strided<...>>
        linac.chunk_cumsum ...
        ...
      }
      ... store the final state ...
    }
    ```
  }];
  let options = [
    Option<"blockV", "block-v", "int64_t", "0",
           "value tile width BV (0: the whole value dimension)">,
    Option<"stageInputs", "stage-inputs", "bool", "false",
           "copy each chunk's q, k, v, g and beta into contiguous f32 local "
           "buffers (unit-stride rows for vector code, one conversion), and "
           "prefetch the next chunk's q, k, v and output rows into L2 (in a "
           "body without a sequential phase, marked linac.deferred_prefetch "
           "for linac-vectorize-contractions to spread over the products)">,
    Option<"stageInInputType", "stage-in-input-type", "bool", "false",
           "staged buffers keep the inputs' element type instead of f32 (GPUs: "
           "bf16 tiles in shared memory feed the tensor cores at half the "
           "bytes; every later read of q, k, v, g is then a shared-memory read "
           "instead of a global one)">,
    Option<"prefetchNextChunk", "prefetch-next-chunk", "bool", "true",
           "with stage-inputs, prefetch the next chunk's rows into L2 (CPUs; "
           "GPUs have no prefetch instruction for it)">,
    Option<"stateCheckpoints", "state-checkpoints", "int64_t", "0",
           "M > 0 builds a state pass: no outputs, and the state after every "
           "M chunks of each sequence (and after its last chunk) written to "
           "final_state, whose rows are then the sequences' segments in "
           "order (a sequence of L tokens has max(1, ceil(L / (M C))) of "
           "them); an output pass started from those states runs the "
           "segments in parallel">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def LinacEraseUnobservedWrites
    : Pass<"linac-erase-unobserved-writes", "::mlir::func::FuncOp"> {
  let summary = "Erases the writes to local buffers that nothing reads";
  let description = [{
    Erases, last first and until nothing changes, each op whose results are
    unused, whose effects are reads and writes only, and whose every write
    lands in a local buffer (a `memref.alloca` or a view of one) that

    - no other op reads (an op's read of its own output does not count: an
      accumulation nothing else reads is unobservable), or
    - a later op of the same block overwrites through the same view, with
      no read of the buffer in between (scratch buffers shared by phases).

    An op with a write-only effect on a buffer is taken to write all of it,
    as linac's tile ops and linalg's copies do.

    A state pass (`linac-tile-chunk-loop{state-checkpoints}`) runs it after
    `cse` to keep only what its state needs: the output products, their
    scores and decayed queries, and the staging of `q` go.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def LinacLowerChunkOps : Pass<"linac-lower-chunk-ops", "::mlir::func::FuncOp"> {
  let summary = "Lowers tile-level linac ops to linalg, scf and math";
  let description = [{
    Each tile-level op becomes `linalg.generic` ops on its views (the
    contractions with their reduction dimension, the decays as elementwise
    `math.exp` of differences of cumulative sums) or a short `scf.for`
    (the cumulative sum, the normalizer's running sum).

    ```mlir
    linac.decayed_scores ins(%q, %k : ...) decay(%G : ...) outs(%P : ...)
    ```

    becomes a `linalg.fill`, a `linalg.generic` contraction over K, and a
    `linalg.generic` that applies `exp(G[i] - G[j])` and the causal mask.

    With `per-element-sums` (the GPU pipeline), the cumulative sums and the
    scalar gates' window sums are elementwise ops whose every element adds
    its own gates in one `scf.for`, in the row-by-row form's order (the same
    bits). The row-by-row form is a chain of C dependent steps: on a GPU, C
    global loads on one thread or C barriers per chunk. Vector gates' exact
    band inside a sub-chunk is then two loops marked
    `linac.thread_parallel` (where the width is static and the workspace
    holds a partial score per query, key and group of 8 channels): one
    iteration per key and group, running down the queries with its 8
    windows growing by one gate a step, then one per score adding the
    groups' partial scores.

    With `factored-band` (the CPU pipeline), the scores of vector (per
    channel) gates inside a sub-chunk of 16 queries, which otherwise take one
    `exp` per score and channel, diagonal by diagonal, are `(q_a exp(-R_a))
    . (k_j exp(R_j))` with `R_t = g_{t+1} + ... + g_last` when every
    `|R_t|` of the sub-chunk is at most 20: one masked matrix product and two
    `exp` per row and channel. A sub-chunk with stronger (or infinite, or NaN)
    gates takes the exact diagonals.

    With `column-solve` (the GPU pipeline), the UT transform's forward
    substitution runs column by column: each column of T is a sequential
    solve that reads only itself and the products, so the loop over the
    columns is marked `linac.thread_parallel` and linac-map-to-gpu gives each
    thread its own columns, with one barrier after them all. Row by row (the
    default, which CPUs vectorize along the rows), each of the chunk's rows
    is a one-row product and an elementwise op: two barriers on a GPU.
  }];
  let options = [
    Option<"perElementSums", "per-element-sums", "bool", "false",
           "each cumulative or window sum as its own loop (GPUs)">,
    Option<"factoredBand", "factored-band", "bool", "false",
           "vector-gate scores inside a sub-chunk as one matrix product of "
           "rescaled queries and keys when its gate sums lie within +-20, "
           "else by diagonals (CPUs)">,
    Option<"columnSolve", "column-solve", "bool", "false",
           "the UT transform column by column, the loop over the columns "
           "marked linac.thread_parallel (GPUs), instead of row by row">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect"];
}

def LinacVectorizeContractions
    : Pass<"linac-vectorize-contractions", "::mlir::func::FuncOp"> {
  let summary = "Register-blocked vector code for the chunk algebra's products (CPU)";
  let description = [{
    Replaces each `linalg.generic` contraction of the form
    `acc +/- ext(a) * ext(b)` whose operands have unit-stride rows (the
    staged chunk buffers and local tiles) with a micro-kernel in the vector
    dialect. Rank-1 forms (`out[i, j] += sum_r a(i, r) b[r, j]`, also with
    `a` transposed) keep an 8 x 32 tile of the output (4 x 64 where that
    covers rows of up to 64 columns) in registers across the reduction
    (broadcast, FMA); dot-product forms (`out[i, j] += sum_d
    a[i, d] b[j, d]`) accumulate 4 x 4 dot products lane-wise, then reduce
    the 16 together (shuffles and adds leave sum n in lane n). Edges use masked transfers, so any size works; a static extent that is a multiple of the tile's needs no mask. An op just before
    a rank-1 contraction that only fills its output or scales its rows in
    place (`out[i, j] *= f(i)`: the state's decay before the state update)
    is folded into the micro-kernel's first read of the output.

    A prefetch loop nest marked `linac.deferred_prefetch` (the next chunk's
    rows, from `linac-tile-chunk-loop`) is spread over the rank-1
    contractions after it in its block: each takes a share of its cache
    lines in proportion to its multiply-adds (from the static extents of its
    operands or of the buffers they view) and issues a few per output tile,
    between parts of the tile's reduction (two parts, or one per 16 steps of
    a deeper reduction, up to four). One burst at the top of the chunk stalls
    it on the line fill buffers; spread, the lines arrive while the products
    compute.

    ```mlir
    linalg.generic {iterator_types = ["parallel", "reduction", "parallel"], ...}
        ins(%a, %b : memref<?x64xf32, strided<[64, 1]>>, ...) outs(%c : ...)
    ```

    becomes `scf.for` tiles of `vector.transfer_read`, `vector.fma` and
    `vector.transfer_write` with `vector.create_mask`.

    The tiles follow the vector registers (`vector-bits`): 16-lane vectors
    and 16 accumulators (8 x 2 and 4 x 4 rank-1 tiles, 4 x 4 dot products)
    for AVX-512's 32 registers; 8 lanes and 8 accumulators (2 x 4 rank-1
    tiles, 2 x 4 dot products) for AVX2's 16; 4 lanes (2 x 4, 2 x 2) for SSE.

    The rank-1 reduction loops carry `loop_annotation =
    #llvm.loop_annotation<unroll = <disable = true>>`, which reaches LLVM IR
    as `llvm.loop.unroll.disable`: each step is already a tile of FMAs, and
    LLVM's unrolling of the short static reductions (depth 64 at K = V = 64)
    made its scheduler spill the accumulators.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
           "width of the target's vector registers: 512 (AVX-512), 256 "
           "(AVX2) or 128 (SSE)">
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def LinacAlignBuffers : Pass<"linac-align-buffers", "::mlir::func::FuncOp"> {
  let summary = "Aligns stack buffers to cache lines (CPU)";
  let description = [{
    Gives every `memref.alloca` (the chunk loop's staged inputs, its state
    and its score tiles) an alignment of at least `alignment` bytes. Without
    one, LLVM aligns stack buffers to 16 bytes: where a buffer starts modulo
    64 then depends on the frame's size, and when it is not a multiple of 64
    every 64-byte vector load or store to it splits over two cache lines.
    Kernels moved by 5-15% from one build to the next with their frame size.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "bytes, a power of two (64: a cache line, and a 512-bit vector)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def LinacBalanceGrid : Pass<"linac-balance-grid", "::mlir::func::FuncOp"> {
  let summary = "Hands the grid's items to threads as they free up (CPU)";
  let description = [{
    Gives every `omp.wsloop` without a schedule (the kernel's grid over
    sequences and heads, from `convert-scf-to-openmp`) a dynamic schedule:
    one item at a time to the next free thread, instead of OpenMP's default
    static shares. A static share ends with its slowest item, so sequences of
    different lengths (`cu_seqlens`) or a core shared with another process
    left the other threads idle. Each item is a whole chunk loop, so handing
    them out one by one costs nothing measurable.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def LinacApproximateMath : Pass<"linac-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Math functions as polynomials, so that the loops around them vectorize (CPU)";
  let description = [{
    Applies MLIR's polynomial approximations (`math.exp`, `math.log1p`,
    `math.tanh`, ...: accurate to a few ulp in f32) so that LLVM vectorizes
    the elementwise loops instead of calling libm one element at a time.
  }];
  let dependentDialects = ["::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def LinacDoubleBufferInputs
    : Pass<"linac-double-buffer-inputs", "::mlir::func::FuncOp"> {
  let summary = "Stages the next chunk's inputs while this chunk computes";
  let description = [{
    For each chunk loop whose inputs are staged in local buffers (copies
    marked `linac.staged_input` by `linac-tile-chunk-loop{stage-inputs}`),
    doubles each buffer (`memref<2x...>`; chunk `c` uses half `c mod 2`),
    copies the first chunk's inputs before the loop and, at the top of each
    chunk, the next chunk's inputs into the other half, each under an
    `scf.if` marked `linac.prefetch` (`"first"`, `"next"`). The loop's own
    copies go. On GPUs `linac-map-to-gpu` turns those into `cp.async` that a
    chunk waits for only at its top, after its successor's copies have gone
    out (`cp.async.wait_group 1`), so the copies overlap a chunk's compute.

    With `chip` set (GPUs), a loop is left as it is where the doubled buffers
    (counted with their rows padded, as `linac-map-to-gpu` pads them) would
    take a block past 48 KiB of shared memory, or past the chip's limit for
    a block already beyond 48 KiB. Loops whose copies depend on reads of
    memory are left as they are too.

    ```mlir
    %buf = memref.alloca() : memref<2x16x128xbf16>
    scf.if %any_chunk { <copy chunk 0 into %buf[0]> } {linac.prefetch = "first"}
    scf.for %c = %c0 to %n step %c1 {
      scf.if %has_next { <copy chunk c + 1 into %buf[(c + 1) mod 2]> } {linac.prefetch = "next"}
      <chunk c on %buf[c mod 2]>
    }
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", "\"\"",
           "GPU whose shared memory bounds the doubled buffers (sm_80, sm_90, "
           "...); empty: no bound (CPUs)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def LinacMapToGPU : Pass<"linac-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Moves each tiled kernel into a gpu.func, one block per grid point";
  let description = [{
    For each function with a linac grid (an `scf.parallel` whose
    `linac.grid` attribute names its dimensions), creates a `gpu.func` kernel with the same arguments in a
    `gpu.module`, maps the grid to block ids, puts the local buffers in
    workgroup memory (each aligned to 16 bytes, `llvm.align`, since LLVM
    merges neighbouring shared accesses into 8- and 16-byte ones; rows of a
    multiple of 32 bytes 16 bytes longer, read through a view of the
    original shape, so that a warp's mma fragment loads spread over the
    banks, unless that would take the block past a quarter of the chip's
    shared memory (four blocks a multiprocessor) or 48 KiB, whichever is
    more; beyond
    48 KiB as views of the kernel's `gpu.dynamic_shared_memory`, whose size
    the `linac.dynamic_shared_bytes` attribute records for the launch), fails
    when they need more than the chip lets a block opt in to (227 KiB on
    sm_90, 163 KiB on sm_80), copies the initial state and a chunk's staged
    inputs from global to shared memory (same type) as asynchronous 16-byte
    copies (`nvgpu.device_async_copy`, cp.async; 8 or 4 bytes where the rows
    are shorter; rows past a chunk's end zero-filled) behind a uniform
    run-time check of the source's address, row stride and unit column
    stride, element by element where it fails (every load of a thread
    before its first store), with no barrier between consecutive copies and
    one wait for the copies before the barrier after them (copies under an
    `scf.if` marked `linac.prefetch` by `linac-double-buffer-inputs`: no
    barrier, one commit after the `scf.if`, and for the next chunk's a
    `cp.async.wait_group 1` and a barrier, so that the chunk waits for its
    own copies, issued a chunk earlier, but not for its successor's),
    distributes the
    parallel loops of each `linalg` op
    over the block's threads (strided by the block size; in elementwise
    ops an inner extent bounded by a constant, such as a chunk's rows
    `min(remaining, C)`, is iterated up to the bound with the rest skipped,
    so the per-element index math divides by constants), runs the
    remaining stores on thread 0, and separates the stages with
    `gpu.barrier`. With `tensor-cores`, the matrix products (contractions
    `C += A * B` with static upper bounds) run instead as 16x8 output tiles
    spread over the block's warps, each a chain of `nvvm.mma.sync` over k (m16n8k16 for bf16/f16
    operands, m16n8k8 tf32 otherwise; a bf16/f16 register's two halves one
    4-byte load where they are neighbours in shared memory and k is static;
    with `ldmatrix`, a warp's fragments of a 16x16 A or 16x8 B tile one
    `ldmatrix` of four or two 8x8 matrices, transposed where the operand's m
    or n runs along its rows, where those rows are 16-byte aligned and k is
    static);
    rows past a chunk's end read as zero and are not written. The host
    function is removed: the runtime launches the kernel with grid
    `(ceil(V / BV), H, N)`.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "128",
           "threads per block">,
    Option<"chip", "chip", "std::string", "\"sm_90\"", "target GPU">,
    Option<"features", "features", "std::string", "\"+ptx80\"", "PTX features">,
    Option<"tensorCores", "tensor-cores", "std::string", "\"none\"",
           "matrix products on tensor cores (mma.sync): none, tf32 (every "
           "product), bf16 or f16 (products of two such buffers in that "
           "type, the others in tf32)">,
    Option<"ldmatrix", "ldmatrix", "bool", "false",
           "load the 16-bit fragments of tensor-core products with ldmatrix "
           "where their rows are 16-byte aligned in shared memory and whole "
           "(k static)">,
    Option<"warpTiles", "warp-tiles", "bool", "false",
           "each warp runs a group of up to 8 of a product's 16x8 tiles "
           "together (one fragment load per tile row and column of the "
           "group a k step, independent mma chains), and splits the k chain "
           "of a group of one or two tiles into independent accumulators">,
    Option<"warpgroupMma", "warpgroup-mma", "bool", "false",
           "sm_90a: run contractions with a side of 64-row multiples as "
           "warpgroup wgmma, their operands copied into a shared scratch "
           "buffer in the core-matrix layout (up to 32 KiB)">,
    Option<"elideBarriers", "elide-barriers", "bool", "false",
           "erase the barriers between phases that access no common buffer "
           "with a write among them (within each block, its first and last "
           "barriers kept)">,
    Option<"minBlocksPerMultiprocessor", "min-blocks-per-multiprocessor",
           "int64_t", "1",
           "blocks ptxas should fit on a multiprocessor at once "
           "(nvvm.minctasm, .minnctapersm): it caps each thread's registers "
           "to 65536 / (this x the block size)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::nvgpu::NVGPUDialect"];
}

def LinacProfilePhases : Pass<"linac-profile-phases", "::mlir::ModuleOp"> {
  let summary = "Counts the cycles each phase of a GPU kernel takes (profiling builds)";
  let description = [{
    Splits each `gpu.func` kernel at its `gpu.barrier`s into phases (the code
    between two barriers; the last phase ends at the return) and, on thread 0
    of every block, reads the SM's cycle counter (`clock64`) after each
    barrier and adds the cycles since the previous reading to that phase's
    counter in `linac_profile_<kernel>`, a global `memref<Px2xi64>` of
    (cycles, visits) per phase, summed over blocks with atomics. Thread 0
    reads the counter after the barrier, so a phase's cycles include the
    wait for the block's slowest warp. The kernel gets
    `linac.profile_phases`, one label per phase: the chunk ops its code
    came from (`linac-lower-chunk-ops` names them in the locations), or its
    operations' names, after "chunk loop: " inside the chunk loop and
    "chunk loop, inner loop: " in a loop inside it, and followed by
    " [conditional]" under a condition (it may not run); each barrier gets
    `linac.profile_phase = i`, the phase it ends, so `--dump-ir` shows where
    each phase lies.

    The runtime reads and resets the counters
    (`linac_gpu_kernel_read_global`); the instrumentation costs a few
    cycles a phase, and only profiling builds (`linac-compile
    --profile-phases`) run this pass.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

def LinacSequentialRecurrence
    : Pass<"linac-sequential-recurrence", "::mlir::func::FuncOp"> {
  let summary = "Runs a step that is not chunkable one token at a time";
  let description = [{
    Lowers each `linac.recurrence` that still has a step region (the steps
    `linac-recognize-recurrence{allow-sequential}` could not match, e.g.
    `tanh` of the state) into the tiled form of the chunked kernels: an
    `scf.parallel` grid over (head, sequence) with the `linac.grid`
    attribute, the state in a local `[K, V]` buffer (the initial state or
    zeros), an `scf.for` over the sequence's tokens that loads the token's
    inputs, runs the step's ops as `linalg.generic` ops on static local
    buffers (`linac.transpose` is a permuted indexing map, elementwise ops
    write in place into an operand that dies with them, dead buffers are
    reused) and stores the output, then the final state. The CPU and NVPTX
    back ends take it unchanged.

    Before:

    ```mlir
    linac.recurrence ... attributes {linac.sequential = "..."} {
    ^bb0(%qt: tensor<64xf32>, %kt: tensor<64xf32>, %vt: tensor<64xf32>,
         %S: tensor<64x64xf32>):
      %t = math.tanh %S : tensor<64x64xf32>
      %kv = linac.outer %kt, %vt : ...
      %Sn = arith.addf %t, %kv : tensor<64x64xf32>
      ... readout ...
      linac.yield %Sn, %ot : tensor<64x64xf32>, tensor<64xf32>
    }
    ```

    After:

    ```mlir
    scf.parallel (%h, %n) = (%c0, %c0) to (%H, %N) step (%c1, %c1) {
      memref.alloca_scope {
        %S = memref.alloca() : memref<64x64xf32>
        ... initial state or zeros ...
        scf.for %t = %c0 to %length step %c1 {
          ... copy q_t, k_t, v_t into local buffers ...
          linalg.generic ... outs(%S ...) { math.tanh ... }
          ...
        }
        ... store the final state ...
      }
    } {linac.grid = ["head", "sequence"]}
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

#endif // LINAC_PASSES_TD
