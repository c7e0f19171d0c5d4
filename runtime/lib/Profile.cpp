//===- Profile.cpp - where a step's time goes, kernel by kernel -----------===//

#include "resnetrt/Profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>

namespace resnetrt {
namespace {

/// The kernel family of a kernel symbol: rn_conv2d_stats_af7e3c9139b5a1a0
/// is conv2d_stats (KernelSpec::symbolName).
std::string familyOf(std::string_view kernel) {
  if (kernel.substr(0, 3) == "rn_")
    kernel.remove_prefix(3);
  size_t hash = kernel.rfind('_');
  return std::string(kernel.substr(0, hash));
}

} // namespace

KernelProfile::KernelProfile(const rn_program &program, std::string step)
    : program(program), step(std::move(step)),
      seconds(size_t(program.num_kernel_sites), 0.0) {}

void KernelProfile::beginCall() {
  inCall = true;
  callStart = last = Clock::now();
}

void KernelProfile::endCall(int64_t callImages) {
  if (!inCall)
    return;
  inCall = false;
  callSeconds += std::chrono::duration<double>(Clock::now() - callStart).count();
  ++calls;
  images += callImages;
}

int32_t KernelProfile::afterKernel(int32_t site, halide_buffer_t *, int32_t) {
  if (!inCall || site < 0 || site >= program.num_kernel_sites ||
      program.kernel_sites[site].step != step)
    return 0;
  Clock::time_point now = Clock::now();
  seconds[size_t(site)] += std::chrono::duration<double>(now - last).count();
  last = now;
  return 0;
}

void KernelProfile::print(FILE *out) const {
  if (calls == 0)
    return;
  std::vector<int32_t> order;
  for (int32_t site = 0; site < program.num_kernel_sites; ++site)
    if (program.kernel_sites[site].step == step)
      order.push_back(site);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return seconds[size_t(a)] > seconds[size_t(b)];
  });
  double inKernels = std::accumulate(seconds.begin(), seconds.end(), 0.0);
  fmt::print(out,
             "profile of {}: {} calls of {:.1f} images on average, {:.2f} ms "
             "per call, {:.1f}% of it in its {} kernel calls\n",
             step, calls, double(images) / double(calls),
             1e3 * callSeconds / double(calls),
             100 * inKernels / std::max(callSeconds, 1e-12), order.size());
  // Where the time goes by kind of kernel, then call by call.
  struct Family {
    double seconds = 0, flops = 0;
    int64_t sites = 0;
  };
  std::map<std::string, Family> families;
  for (int32_t index : order) {
    const rn_kernel_site &site = program.kernel_sites[index];
    Family &family = families[familyOf(site.kernel)];
    family.seconds += seconds[size_t(index)];
    family.flops += 2.0 * double(site.multiply_adds) * double(images);
    ++family.sites;
  }
  std::vector<std::pair<std::string, Family>> byTime(families.begin(),
                                                     families.end());
  std::stable_sort(byTime.begin(), byTime.end(), [](auto &a, auto &b) {
    return a.second.seconds > b.second.seconds;
  });
  fmt::print(out, "  {:>6} {:>8} {:>8} {:>6}  {}\n", "share", "ms/call",
             "GFLOP/s", "calls", "kernel family");
  for (const auto &[name, family] : byTime)
    fmt::print(out, "  {:>5.1f}% {:>8.3f} {:>8} {:>6}  {}\n",
               100 * family.seconds / std::max(callSeconds, 1e-12),
               1e3 * family.seconds / double(calls),
               family.flops > 0
                   ? fmt::format("{:.1f}", family.flops / family.seconds / 1e9)
                   : "-",
               family.sites, name);
  fmt::print(out, "  {:>6} {:>8} {:>8} {:>9} {:>7}  {}\n", "share",
             "ms/call", "GFLOP/s", "MiB/call", "GB/s",
             "kernel (layer at file:line:col)");
  for (int32_t index : order) {
    const rn_kernel_site &site = program.kernel_sites[index];
    double time = seconds[size_t(index)];
    double bytes = double(site.fixed_bytes) * double(calls) +
                   double(site.per_image_bytes) * double(images);
    double flops = 2.0 * double(site.multiply_adds) * double(images);
    std::string gflops =
        site.multiply_adds ? fmt::format("{:.1f}", flops / time / 1e9) : "-";
    fmt::print(out, "  {:>5.1f}% {:>8.3f} {:>8} {:>9.2f} {:>7.1f}  {} ({} at {})\n",
               100 * time / std::max(callSeconds, 1e-12),
               1e3 * time / double(calls), gflops,
               bytes / double(calls) / (1 << 20), bytes / time / 1e9,
               site.kernel, *site.layer ? site.layer : "?",
               *site.location ? site.location : "?");
  }
}

} // namespace resnetrt
