//===- OpFamiliesTest.cpp - every rn op's kernel family exists ------------===//
//
// Built from the ops, not a list: every rn op that runs as a kernel (all but
// those marked RN_NoKernel) has KernelOpInterface and a registered family of
// its name, and every registered family is some op's.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Codegen/Kernels.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace {

TEST(Kernels, EveryOpWithAKernelHasItsFamilyAndEveryFamilyAnOp) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::rn::RNDialect>();
  resnetc::registerKernelCallModels(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::vector<std::string> families = resnetc::kernels::familyNames();
  std::set<std::string> run;
  for (mlir::RegisteredOperationName op : context.getRegisteredOperations()) {
    if (!resnetc::runsAKernel(op))
      continue;
    std::string family = op.stripDialect().str();
    EXPECT_TRUE(op.hasInterface<resnetc::KernelOpInterface>())
        << op.getStringRef().str();
    EXPECT_NE(std::find(families.begin(), families.end(), family),
              families.end())
        << op.getStringRef().str() << " has no kernel family '" << family
        << "' (or mark it RN_NoKernel)";
    run.insert(family);
  }
  EXPECT_GT(run.size(), 40u);
  for (const std::string &family : families)
    EXPECT_TRUE(run.count(family)) << "no rn op runs family " << family;
}

} // namespace
