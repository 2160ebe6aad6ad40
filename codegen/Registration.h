//===- Registration.h - dialects, passes and pipelines of linac -*- C++ -*-===//

#ifndef LINAC_CODEGEN_REGISTRATION_H
#define LINAC_CODEGEN_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace linac {

/// Every dialect, extension and translation a linac pipeline may touch.
void registerAllDialects(mlir::DialectRegistry &registry);

/// linac's passes, the upstream passes, and the named pipelines
/// `linac-to-cpu` and `linac-to-nvvm` (the stages of codegen/Pipeline.cpp).
void registerAllPasses();

} // namespace linac

#endif // LINAC_CODEGEN_REGISTRATION_H
