//===- KernelHarness.h - run a kernel family on the host for tests -*- C++ -*-===//
//
// Tests write references in plain loops over logical (rn, NCHW) row-major
// arrays of doubles. The harness builds the kernel with the same algorithm
// and schedule the compiler uses, JIT-compiles it for the host, converts the
// arrays to and from the kernels' layouts, and runs it. With
// RESNETC_KERNEL_TEST_TARGET=opencl (or cuda) it builds the GPU schedule
// instead and runs the kernel ahead-of-time compiled, on the device, in a
// program of its own (KernelRunner.cpp): the same tests check both.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TEST_KERNELHARNESS_H
#define RESNETC_TEST_KERNELHARNESS_H

#include "resnetc/Codegen/Kernels.h"

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace resnetc::kernels::test {

/// A tensor in logical row-major order, in double precision.
struct HostTensor {
  Shape shape;
  std::vector<double> data;

  explicit HostTensor(Shape shape = {});
  size_t size() const { return data.size(); }
  double &operator[](size_t i) { return data[i]; }
  double operator[](size_t i) const { return data[i]; }
  /// Element at a logical multi-index (row-major).
  double &at(std::initializer_list<int64_t> index);
  double at(std::initializer_list<int64_t> index) const;
};

/// Uniform random values in [lo, hi): tests never run on zeros. The values
/// are exact in f32, so a reference sees the very inputs a kernel sees.
HostTensor randomTensor(const Shape &shape, std::mt19937 &rng, double lo = -1,
                        double hi = 1);

/// Runs `spec` (JIT, host target, hand schedule unless told otherwise; or on
/// RESNETC_KERNEL_TEST_TARGET's device) on
/// `inputs` with run-time `scalars` (by name, any family scalar type) and
/// returns its outputs in logical order. Activation inputs may have another
/// batch than the spec's, as at run time; activation outputs then have the
/// batch of the first activation input.
std::vector<HostTensor> runKernel(const KernelSpec &spec,
                                  const std::vector<HostTensor> &inputs,
                                  const std::map<std::string, double> &scalars = {},
                                  Scheduler scheduler = Scheduler::Hand);

/// Like runKernel, but output i is written into the very Halide::Buffer of
/// input `aliases.at(i)`, as the runtime calls the in-place families.
std::vector<HostTensor>
runKernelInPlace(const KernelSpec &spec, const std::vector<HostTensor> &inputs,
                 const std::map<std::string, double> &scalars,
                 const std::map<size_t, size_t> &aliases);

/// ||a - b|| / ||b||, the error measure of every numeric check.
double relativeError(const HostTensor &a, const HostTensor &b);

/// Central finite differences of sum(f(x) * weights) with respect to x[i],
/// for every i: the gradient a backward kernel must reproduce, computed in
/// double precision from a double-precision forward reference.
HostTensor finiteDifferenceGradient(
    const std::function<HostTensor(const HostTensor &)> &forward,
    const HostTensor &x, const HostTensor &weights, double step = 1e-4);

//===----------------------------------------------------------------------===//
// Specs and references more than one family's tests use
//===----------------------------------------------------------------------===//

/// A per-channel vector [C] (gamma, beta, batch or running statistics).
TensorSpec perChannel(int64_t channels);

/// The BatchNorm families' specs for an activation of `shape` (Kernels.h).
KernelSpec batchNormTrainSpec(const Shape &shape, double epsilon,
                              double momentum);
KernelSpec batchNormInferenceSpec(const Shape &shape, double epsilon);
KernelSpec batchNormBackwardSpec(const Shape &shape);

/// y = conv(x, w) (+ b) in double precision, x[N,C,H,W], w[O,C/groups,KH,KW],
/// `strides` and `dilations` [h, w], `padding` [top, left, bottom, right].
/// Flat row-major indexing: finite differences call it once per perturbed
/// element, so it has to be quick.
HostTensor referenceConv2d(const HostTensor &x, const HostTensor &w,
                           const HostTensor *b,
                           const std::vector<int64_t> &strides,
                           const std::vector<int64_t> &padding,
                           const std::vector<int64_t> &dilations,
                           int64_t groups);

} // namespace resnetc::kernels::test

#endif // RESNETC_TEST_KERNELHARNESS_H
