//===- InitAll.cpp - registers resnetc's dialects and passes ----------------===//

#include "resnetc/InitAll.h"
#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Codegen/Passes.h"
#include "resnetc/Dialect/RN/IR/RNDialect.h"
#include "resnetc/Dialect/RN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Transforms/Passes.h"

void resnetc::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::rn::RNDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::LLVM::LLVMDialect>();
  registerKernelCallModels(registry);
}

void resnetc::registerAllPasses() {
  mlir::registerTransformsPasses();
  mlir::rn::registerRNPasses();
  registerCodegenPasses();
}
