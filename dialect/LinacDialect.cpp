//===- LinacDialect.cpp - the linac dialect and its attributes -----------===//

#include "dialect/Linac.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::linac;

#include "dialect/LinacDialect.cpp.inc"
#include "dialect/LinacEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/LinacAttrs.cpp.inc"

void LinacDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/LinacAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/LinacOps.cpp.inc"
      >();
}
