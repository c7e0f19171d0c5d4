//===- FuzzDsl.cpp - libFuzzer target: the DSL front end ------------------===//
//
// Any bytes: the parser and the elaborator either build a module that
// verifies, or report errors. A crash, a sanitizer report, or a module that
// fails verification after the front end accepted it is a bug.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Frontend/Elaborator.h"
#include "resnetc/Frontend/Parser.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *created = new mlir::MLIRContext();
    created->disableMultithreading();
    created->printOpOnDiagnostic(false);
    return created;
  }();
  // Errors are the expected outcome for most inputs: keep them quiet.
  mlir::ScopedDiagnosticHandler quiet(
      context, [](mlir::Diagnostic &) { return mlir::success(); });
  llvm::StringRef source(reinterpret_cast<const char *>(data), size);
  resnetc::Diagnostics diags(*context, "fuzz.dsl");
  std::unique_ptr<resnetc::ast::File> file = resnetc::parseFile(source, diags);
  if (!file)
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      resnetc::elaborate(*file, diags, {});
  if (module && mlir::failed(mlir::verify(*module))) {
    std::fprintf(stderr, "fuzz-dsl: the front end accepted the input but "
                         "its module does not verify\n");
    std::abort();
  }
  return 0;
}
