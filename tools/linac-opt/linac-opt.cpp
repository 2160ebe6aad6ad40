//===- linac-opt.cpp - replays any linac pass or pipeline from text ------===//

#include "codegen/Registration.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  linac::registerAllDialects(registry);
  linac::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "linac optimizer driver: every linac pass and pipeline\n",
      registry));
}
