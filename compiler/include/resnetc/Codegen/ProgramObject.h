//===- ProgramObject.h - the compiled step and its program table -*- C++ -*-===//
//
// The object file resnetc links with the kernels and libresnetrt: the
// generated step functions and `rn_program_info`, the table through which
// the runtime learns the model (runtime/include/resnetrt/Program.h).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_PROGRAMOBJECT_H
#define RESNETC_CODEGEN_PROGRAMOBJECT_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <variant>
#include <vector>

namespace resnetc {

/// One variable as the runtime sees it.
struct ProgramVariable {
  std::string name;
  int role;                  ///< rn_variable_role
  std::vector<int64_t> shape;
  int64_t offset;
  int initKind, initMode;    ///< rn_init_kind, rn_fan_mode
  double initValue;
  int64_t initSeed;
  int64_t fanIn, fanOut;
};

/// One field of rn_recipe, in the order of Program.h's RN_RECIPE_FIELDS:
/// unset, text, a real, or an integer (INT and BOOL fields).
using RecipeValue = std::variant<std::monostate, std::string, double, int64_t>;

/// Everything rn_program_info holds but the step functions.
struct ProgramInfo {
  std::string modelName, target, optimizer;
  std::vector<RecipeValue> recipe; ///< rn_recipe's fields
  std::string deviceApi; ///< "cuda", "opencl", or "" for the CPU.
  std::string fingerprint; ///< programFingerprint()
  int64_t alignment = 64;
  int64_t channels, height, width, classes, batch;
  int64_t fixedBytes, perSampleBytes;
  int64_t imagesOffset, labelsOffset, lossOffset, correctOffset;
  int64_t logitsOffset; ///< per-sample, eval_step's
  std::string classNames; ///< the DSL's, joined by newlines; empty: none
  std::vector<ProgramVariable> variables;
  int64_t trainKernels, evalKernels;
  int64_t parametersOffset = 0, gradientsOffset = 0, parametersBytes = 0;
};

/// Reads the program's description from a module after rn-plan-memory.
mlir::FailureOr<ProgramInfo> collectProgramInfo(mlir::ModuleOp planned);

/// rn_program.fingerprint: 32 hex digits of the SHA-256 of the planned
/// module as printed without its recipe (`rn.recipe`, the flags' defaults,
/// which a run may override), and of what builds its kernels.
std::string programFingerprint(mlir::ModuleOp planned,
                               llvm::StringRef kernelTarget,
                               llvm::StringRef scheduler);

/// The recipe (`rn.recipe`) as rn_recipe's fields, the defaults of train's
/// flags; an error at `module` for an entry no field holds.
mlir::FailureOr<std::vector<RecipeValue>>
recipeValues(mlir::Operation *module, mlir::DictionaryAttr recipe);

/// Translates a module after rn-lower-to-llvm to LLVM IR, adds
/// rn_program_info, optimises, and writes an x86-64 object (or, with
/// `emitIR`, the LLVM IR as text) to `path`.
mlir::LogicalResult emitProgramObject(mlir::ModuleOp lowered,
                                      const ProgramInfo &info,
                                      llvm::StringRef path, bool emitIR);

} // namespace resnetc

#endif // RESNETC_CODEGEN_PROGRAMOBJECT_H
