//===- ChunkBody.h - the chunked algorithm as tile-level ops ----*- C++ -*-===//
//
// Shared by the passes that replace a level-1 op (linac.recurrence,
// linac.ssm) with a linac.chunk_loop: the loop's operands and body
// arguments, and the chunked algorithm of MATH.md written with tile-level
// ops.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_CHUNKBODY_H
#define LINAC_PASSES_CHUNKBODY_H

#include "dialect/Linac.h"

namespace mlir::linac {

/// Marks scratch buffers whose listed dimensions hold the value dimension V;
/// linac-tile-chunk-loop shrinks them to the value tile.
inline constexpr llvm::StringLiteral kValueDimsAttrName = "linac.value_dims";

/// What the chunked algorithm reads and writes for one chunk: body
/// arguments (or scratch values derived from them) and options.
struct ChunkInputs {
  Value queries, keys, values; // [C, K], [nC, K], [nC, V]
  Value gates;                 // [C] or [C, K] log decays per token, or null
  Value beta;                  // [nC] step sizes, or null (plain update)
  Value state;                 // [K, V], updated in place
  Value output;                // [C, V]
  Value keySum;                // [K] running key sum (normalize), or null
  Value scale;
  RecurrenceFormAttr form;
  int64_t tokensPerChunk = 64;
  int64_t interleave = 1;
  int64_t headDimK = 0, headDimV = 0;
  bool qkL2Norm = false;
  FloatAttr betaSigmoid;
};

/// An f32 scratch buffer of static `shape` viewed at `sizes`; `valueDims`
/// lists the dimensions that hold V (narrowed to the value tile later).
Value createChunkScratch(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                         ArrayRef<OpFoldResult> sizes,
                         ArrayRef<int64_t> valueDims = {});

/// Emits the chunked algorithm (MATH.md sections 1-4) at the insertion point.
void emitChunkAlgorithm(OpBuilder &b, Location loc, const ChunkInputs &in);

/// Replaces the canonical recurrence `op` with a chunk loop over chunks of
/// `tokensPerChunk` tokens whose keys, values and step sizes carry
/// `interleave` sub-steps per token.
ChunkLoopOp buildChunkLoop(RecurrenceOp op, int64_t tokensPerChunk,
                           int64_t interleave);

/// Replaces the non-causal recurrence `op` with a two-phase chunk loop: the
/// body accumulates the whole sequence's state, the readout reads it.
ChunkLoopOp buildNonCausalChunkLoop(RecurrenceOp op, int64_t tokensPerChunk);

/// Replaces the state-space model `op` with a chunk loop: the dt transform,
/// then the scalar-decay chunked algorithm (SSD) or the chunked scan
/// (selective scan), then the skip connection and gate.
ChunkLoopOp buildSsmChunkLoop(SsmOp op, int64_t tokensPerChunk);

} // namespace mlir::linac

#endif // LINAC_PASSES_CHUNKBODY_H
