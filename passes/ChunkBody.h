//===- ChunkBody.h - the chunked algorithm as tile-level ops ----*- C++ -*-===//
//
// Shared by linac-chunk-recurrence and linac-interleave-householder: both
// replace a canonical linac.recurrence with a linac.chunk_loop whose body is
// the chunked algorithm of MATH.md, written with tile-level ops.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_CHUNKBODY_H
#define LINAC_PASSES_CHUNKBODY_H

#include "dialect/Linac.h"

namespace mlir::linac {

/// Marks scratch buffers whose listed dimensions hold the value dimension V;
/// linac-tile-chunk-loop shrinks them to the value tile.
inline constexpr llvm::StringLiteral kValueDimsAttrName = "linac.value_dims";

/// Replaces `op` (canonical, recognized) with a chunk loop over chunks of
/// `tokensPerChunk` tokens whose keys, values and step sizes carry
/// `interleave` sub-steps per token.
ChunkLoopOp buildChunkLoop(RecurrenceOp op, int64_t tokensPerChunk,
                           int64_t interleave);

} // namespace mlir::linac

#endif // LINAC_PASSES_CHUNKBODY_H
