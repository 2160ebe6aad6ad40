//===- LinacDialect.td - the linac dialect -----------------*- tablegen -*-===//
//
// linac describes linear recurrences on tiles: one step of a recurrence as a
// region, its canonical form as attributes, and the chunked tile-level ops
// that the passes produce from it.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_TD
#define LINAC_DIALECT_TD

include "mlir/IR/OpBase.td"

def Linac_Dialect : Dialect {
  let name = "linac";
  let cppNamespace = "::mlir::linac";
  let summary = "Linear recurrences on tiles: linear attention, delta rules, state-space models";
  let description = [{
    The `linac` dialect has three levels.

    1. `linac.recurrence`: a whole recurrence over a batch of sequences, on
       buffers in destination-passing style. Its step is either a region (one
       token of one head, value semantics on small tensors) or, once
       recognized, a canonical `#linac.form` attribute.
    2. `linac.chunk_loop`: the chunked algorithm for one (sequence, head,
       value tile) and one chunk, as a region of tile-level ops
       (`linac.chunk_cumsum`, `linac.decayed_scores`, `linac.chunk_output`,
       `linac.chunk_state_update`, `linac.chunk_normalize`). The loop over
       chunks and the grid are implicit.
    3. After tiling, the grid is an `scf.parallel`, the chunk loop an `scf.for`
       and the tile-level ops work on `memref.subview`s; they then lower to
       `linalg`, `scf`, `arith` and `math`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
}

class Linac_Op<string mnemonic, list<Trait> traits = []>
    : Op<Linac_Dialect, mnemonic, traits>;

#endif // LINAC_DIALECT_TD
