//===- KernelHookTest.cpp - several hooks behind rn_kernel_hook -----------===//

#include "resnetrt/KernelHook.h"
#include "resnetrt/Program.h"

#include <gtest/gtest.h>

#include <string>

using namespace resnetrt;

namespace {

/// Appends its name to `calls` and returns `status`.
class Recorder : public KernelHook {
public:
  Recorder(std::string name, std::string &calls, int32_t status = 0)
      : name(std::move(name)), calls(calls), status(status) {}
  int32_t afterKernel(int32_t site, halide_buffer_t *, int32_t) override {
    calls += name + std::to_string(site) + " ";
    return status;
  }

private:
  std::string name;
  std::string &calls;
  int32_t status;
};

} // namespace

TEST(KernelHookTest, EveryLiveHookRunsInTheOrderMade) {
  ASSERT_EQ(rn_kernel_hook, nullptr);
  std::string calls;
  {
    Recorder numerics("numerics", calls);
    {
      Recorder reducer("reducer", calls);
      ASSERT_NE(rn_kernel_hook, nullptr);
      EXPECT_EQ(rn_kernel_hook(3, nullptr, 0), 0);
    }
    // The inner one gone, the outer one still runs.
    EXPECT_EQ(rn_kernel_hook(4, nullptr, 0), 0);
  }
  EXPECT_EQ(calls, "numerics3 reducer3 numerics4 ");
  // None left: the steps skip the call.
  EXPECT_EQ(rn_kernel_hook, nullptr);
}

TEST(KernelHookTest, TheFirstNonZeroStatusStopsTheStep) {
  std::string calls;
  Recorder first("first", calls, 7);
  Recorder second("second", calls);
  EXPECT_EQ(rn_kernel_hook(0, nullptr, 0), 7);
  EXPECT_EQ(calls, "first0 ");
}
