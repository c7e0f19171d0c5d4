//===- resnetc-opt.cpp - runs rn passes alone, like mlir-opt ----------------===//
//
// Reads MLIR, runs the passes named on the command line, prints the result.
// It knows the rn dialect, every resnetc pass and the upstream dialects and
// passes the pipeline uses, so each stage can be tested alone with lit.
//
//===----------------------------------------------------------------------===//

#include "resnetc/InitAll.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  resnetc::registerAllDialects(registry);
  resnetc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "resnetc optimizer driver\n", registry));
}
