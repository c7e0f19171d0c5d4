//===- resnetc.cpp - the resnetc compiler driver ----------------------------===//
//
// Reads a model file in the resnetc DSL and, depending on the flags, prints
// its syntax tree (--emit=ast), its rn graph (--emit=mlir) or its summary
// (--summary). Every error in the model file is printed as
// file:line:col with the source line and a caret; user errors exit with 1.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/ModelSummary.h"
#include "resnetc/Frontend/Elaborator.h"
#include "resnetc/Frontend/Parser.h"
#include "resnetc/Frontend/Source.h"
#include "resnetc/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace resnetc;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory resnetcOptions("resnetc options");

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<model.dsl>"),
                                   cl::Required, cl::cat(resnetcOptions));

cl::opt<std::string> outputFilename("o", cl::desc("Write the output here"),
                                    cl::value_desc("file"), cl::init("-"),
                                    cl::cat(resnetcOptions));

enum class Emit { None, AST, MLIR };
cl::opt<Emit> emit(
    "emit", cl::desc("The compiler stage to print"), cl::init(Emit::None),
    cl::values(clEnumValN(Emit::AST, "ast", "the syntax tree of the file"),
               clEnumValN(Emit::MLIR, "mlir",
                          "the model as an rn dialect graph")),
    cl::cat(resnetcOptions));

cl::opt<bool> printSummaryTable(
    "summary",
    cl::desc("Print a Keras-style table of the model: layers, output "
             "shapes, parameters, multiply-adds and activation memory"),
    cl::cat(resnetcOptions));

cl::opt<int64_t> batchOverride(
    "batch",
    cl::desc("Batch size of the compiled graph (default: the train block's "
             "`batch`, else 128)"),
    cl::value_desc("n"), cl::init(0), cl::cat(resnetcOptions));

/// Returns 0 on success, 1 after a user error (already reported).
int run(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr) {
  std::string displayName =
      inputFilename == "-" ? std::string("<stdin>") : inputFilename;
  Diagnostics diags(context, displayName);
  std::optional<llvm::StringRef> source =
      loadModelFile(inputFilename, sourceMgr, diags);
  if (!source)
    return 1;
  if (batchOverride < 0 || batchOverride > 65536) {
    llvm::errs() << "error: --batch must be from 1 to 65536, got "
                 << batchOverride << "\n";
    return 1;
  }
  if (emit == Emit::None && !printSummaryTable) {
    llvm::errs() << "error: nothing to do; give --emit=ast, --emit=mlir or "
                    "--summary (see --help)\n";
    return 1;
  }

  std::string errorMessage;
  auto output = mlir::openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << "error: " << errorMessage << "\n";
    return 1;
  }

  std::unique_ptr<ast::File> file = parseFile(*source, diags);
  if (!file)
    return 1;
  if (emit == Emit::AST) {
    ast::dump(*file, output->os());
    output->keep();
    return 0;
  }

  ElaborateOptions options;
  if (batchOverride > 0)
    options.batch = batchOverride;
  mlir::OwningOpRef<mlir::ModuleOp> module = elaborate(*file, diags, options);
  if (!module)
    return 1;

  if (printSummaryTable) {
    mlir::FailureOr<ModelSummary> summary = summarize(*module);
    if (mlir::failed(summary))
      return 1;
    printSummary(*summary, output->os());
  }
  if (emit == Emit::MLIR) {
    // The pass manager honours --mlir-print-ir-after-all and friends.
    mlir::PassManager pm(&context);
    if (mlir::failed(mlir::applyPassManagerCLOptions(pm)) ||
        mlir::failed(pm.run(*module)))
      return 1;
    module->print(output->os());
    output->os() << "\n";
  }
  output->keep();
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "resnetc " RESNETC_VERSION "\n"
       << "  built with MLIR " LLVM_VERSION_STRING ", Halide 14\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "resnetc: compiles a residual network written in the resnetc DSL\n\n"
      "  resnetc model.dsl --summary      layers, parameters, FLOPs\n"
      "  resnetc model.dsl --emit=mlir    the rn dialect graph\n"
      "  resnetc model.dsl --emit=ast     the syntax tree\n");

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  return run(context, sourceMgr);
}
