//===- Linac.h - the linac dialect, its attributes and ops ------*- C++ -*-===//

#ifndef LINAC_DIALECT_LINAC_H
#define LINAC_DIALECT_LINAC_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/LinacDialect.h.inc"
#include "dialect/LinacEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/LinacAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialect/LinacOps.h.inc"

#endif // LINAC_DIALECT_LINAC_H
