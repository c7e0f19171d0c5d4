//===- KernelHarness.cpp - run a kernel family on the host for tests -------===//

#include "KernelHarness.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>

using namespace Halide;

namespace resnetc::kernels::test {

static size_t elementCount(const Shape &shape) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= size_t(d);
  return n;
}

HostTensor::HostTensor(Shape shape)
    : shape(std::move(shape)), data(elementCount(this->shape), 0.0) {}

static size_t linearIndex(const Shape &shape,
                          std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw std::invalid_argument("HostTensor::at: wrong number of indices");
  size_t linear = 0, d = 0;
  for (int64_t i : index)
    linear = linear * size_t(shape[d++]) + size_t(i);
  return linear;
}

double &HostTensor::at(std::initializer_list<int64_t> index) {
  return data[linearIndex(shape, index)];
}

double HostTensor::at(std::initializer_list<int64_t> index) const {
  return data[linearIndex(shape, index)];
}

HostTensor randomTensor(const Shape &shape, std::mt19937 &rng, double lo,
                        double hi) {
  HostTensor t(shape);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : t.data)
    v = float(dist(rng));
  return t;
}

static Type halideType(ElemType type) {
  return type == ElemType::F32 ? Float(32)
         : type == ElemType::I32 ? Int(32)
                                 : UInt(32);
}

/// Offset in a kernel buffer (dense, Halide order) of logical element `i`.
static size_t bufferOffset(const TensorSpec &spec, size_t i) {
  if (spec.kind != TensorKind::Activation || spec.shape.size() != 4)
    return i; // row-major logical order is the buffer's order
  const Shape &s = spec.shape; // [N, C, H, W] -> (c, x, y, n)
  size_t x = i % s[3], y = (i / s[3]) % s[2], c = (i / (s[3] * s[2])) % s[1],
         n = i / (s[3] * s[2] * s[1]);
  return ((n * s[2] + y) * s[3] + x) * s[1] + c;
}

/// `spec` with the shape `shape`, which may differ from it in the batch of
/// an activation only.
static TensorSpec withShape(const TensorSpec &spec, const Shape &shape) {
  bool sameStatic =
      shape.size() == spec.shape.size() &&
      (shape.empty() ||
       std::equal(shape.begin() + 1, shape.end(), spec.shape.begin() + 1)) &&
      (spec.kind == TensorKind::Activation || shape == spec.shape);
  if (!sameStatic)
    throw std::invalid_argument("runKernel: input shape differs from spec");
  TensorSpec actual = spec;
  actual.shape = shape;
  return actual;
}

/// A kernel's buffer in the middle of a larger allocation whose margins
/// hold a known pattern: a kernel that writes past either end of one of its
/// buffers (as a lost tail guard would) changes the pattern. The buffer is
/// aligned as the contract requires (Kernels.h), and no more.
class GuardedBuffer {
public:
  GuardedBuffer(Type type, const std::vector<int> &extents) {
    size_t elements = 1;
    for (int e : extents)
      elements *= size_t(e);
    bytes = elements * size_t(type.bytes());
    storage = std::make_shared<std::vector<uint8_t>>(
        bytes + 2 * margin + alignment, pattern);
    uintptr_t start = reinterpret_cast<uintptr_t>(storage->data());
    offset = (alignment - start % alignment) % alignment + margin;
    buffer = Buffer<>(type, storage->data() + offset, extents);
  }

  bool marginsIntact() const {
    auto intact = [&](size_t from, size_t to) {
      return std::all_of(storage->begin() + from, storage->begin() + to,
                         [](uint8_t b) { return b == pattern; });
    };
    return intact(0, offset) && intact(offset + bytes, storage->size());
  }

  Buffer<> buffer;

private:
  static constexpr size_t margin = 4096, alignment = 128;
  static constexpr uint8_t pattern = 0xa5;
  std::shared_ptr<std::vector<uint8_t>> storage;
  size_t bytes, offset;
};

static GuardedBuffer toBuffer(const HostTensor &t, const TensorSpec &spec) {
  GuardedBuffer guarded(halideType(spec.type), halideExtents(spec));
  Buffer<> &buf = guarded.buffer;
  for (size_t i = 0; i < t.size(); ++i) {
    size_t o = bufferOffset(spec, i);
    switch (spec.type) {
    case ElemType::F32:
      static_cast<float *>(buf.data())[o] = float(t[i]);
      break;
    case ElemType::I32:
      static_cast<int32_t *>(buf.data())[o] = int32_t(t[i]);
      break;
    case ElemType::U32:
      static_cast<uint32_t *>(buf.data())[o] = uint32_t(t[i]);
      break;
    }
  }
  return guarded;
}

static HostTensor fromBuffer(const Buffer<> &buf, const TensorSpec &spec) {
  HostTensor t(spec.shape);
  for (size_t i = 0; i < t.size(); ++i) {
    size_t o = bufferOffset(spec, i);
    switch (spec.type) {
    case ElemType::F32:
      t[i] = static_cast<const float *>(buf.data())[o];
      break;
    case ElemType::I32:
      t[i] = static_cast<const int32_t *>(buf.data())[o];
      break;
    case ElemType::U32:
      t[i] = static_cast<const uint32_t *>(buf.data())[o];
      break;
    }
  }
  return t;
}

static std::vector<HostTensor>
run(const KernelSpec &spec, const std::vector<HostTensor> &inputs,
    const std::map<std::string, double> &scalars, Scheduler scheduler,
    const std::map<size_t, size_t> &aliases) {
  Target target = get_jit_target_from_environment();
  // JIT compilation dominates a test's time: each spec and scheduler is
  // built and compiled once, then run as often as the test likes.
  static std::map<std::string, Kernel> compiled;
  std::string key = spec.key() + "|scheduler=" + std::to_string(int(scheduler));
  auto found = compiled.find(key);
  if (found == compiled.end())
    found = compiled.emplace(key, buildKernel(spec, target, scheduler)).first;
  Kernel &kernel = found->second;
  if (inputs.size() != spec.inputs.size())
    throw std::invalid_argument("runKernel: wrong number of inputs");

  std::vector<GuardedBuffer> inputBuffers;
  std::optional<int64_t> batch;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorSpec actual = withShape(spec.inputs[i], inputs[i].shape);
    if (actual.kind == TensorKind::Activation && !batch &&
        !actual.shape.empty())
      batch = actual.shape[0];
    inputBuffers.push_back(toBuffer(inputs[i], actual));
    kernel.inputs[i].set(inputBuffers.back().buffer);
  }
  for (Internal::Parameter &p : kernel.scalars) {
    auto it = scalars.find(p.name());
    if (it == scalars.end())
      throw std::invalid_argument("runKernel: no value for scalar " + p.name());
    if (p.type() == Float(32))
      p.set_scalar<float>(float(it->second));
    else if (p.type() == Int(32))
      p.set_scalar<int32_t>(int32_t(it->second));
    else
      p.set_scalar<uint32_t>(uint32_t(it->second));
  }

  std::vector<TensorSpec> outputs = spec.outputs;
  std::vector<GuardedBuffer> outputBuffers;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].kind == TensorKind::Activation && batch)
      outputs[i].shape[0] = *batch;
    auto alias = aliases.find(i);
    if (alias != aliases.end())
      outputBuffers.push_back(inputBuffers.at(alias->second));
    else
      outputBuffers.emplace_back(halideType(outputs[i].type),
                                 halideExtents(outputs[i]));
  }
  std::vector<Buffer<>> views;
  for (const GuardedBuffer &b : outputBuffers)
    views.push_back(b.buffer);
  Realization realization(views);
  kernel.pipeline.realize(realization, target);

  for (const std::vector<GuardedBuffer> *buffers :
       {&inputBuffers, &outputBuffers})
    for (const GuardedBuffer &b : *buffers)
      if (!b.marginsIntact())
        throw std::runtime_error("runKernel: " + spec.family +
                                 " wrote outside one of its buffers");
  std::vector<HostTensor> results;
  for (size_t i = 0; i < outputs.size(); ++i)
    results.push_back(fromBuffer(outputBuffers[i].buffer, outputs[i]));
  return results;
}

std::vector<HostTensor> runKernel(const KernelSpec &spec,
                                  const std::vector<HostTensor> &inputs,
                                  const std::map<std::string, double> &scalars,
                                  Scheduler scheduler) {
  return run(spec, inputs, scalars, scheduler, {});
}

std::vector<HostTensor>
runKernelInPlace(const KernelSpec &spec, const std::vector<HostTensor> &inputs,
                 const std::map<std::string, double> &scalars,
                 const std::map<size_t, size_t> &aliases) {
  return run(spec, inputs, scalars, Scheduler::Hand, aliases);
}

double relativeError(const HostTensor &a, const HostTensor &b) {
  if (a.shape != b.shape)
    return INFINITY;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

HostTensor finiteDifferenceGradient(
    const std::function<HostTensor(const HostTensor &)> &forward,
    const HostTensor &x, const HostTensor &weights, double step) {
  auto objective = [&](const HostTensor &input) {
    HostTensor y = forward(input);
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i)
      sum += y[i] * weights[i];
    return sum;
  };
  HostTensor grad(x.shape), probe = x;
  for (size_t i = 0; i < x.size(); ++i) {
    probe[i] = x[i] + step;
    double up = objective(probe);
    probe[i] = x[i] - step;
    double down = objective(probe);
    probe[i] = x[i];
    grad[i] = (up - down) / (2 * step);
  }
  return grad;
}

//===----------------------------------------------------------------------===//
// Specs and references more than one family's tests use
//===----------------------------------------------------------------------===//

TensorSpec perChannel(int64_t channels) {
  return {{channels}, TensorKind::Weight};
}

KernelSpec batchNormTrainSpec(const Shape &shape, double epsilon,
                              double momentum) {
  KernelSpec spec;
  spec.family = "batch_norm_train";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, c, c, c, c};
  spec.outputs = {{shape}, c, c, c, c};
  spec.floats = {{"epsilon", epsilon}, {"momentum", momentum}};
  return spec;
}

KernelSpec batchNormInferenceSpec(const Shape &shape, double epsilon) {
  KernelSpec spec;
  spec.family = "batch_norm_inference";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, c, c, c, c};
  spec.outputs = {{shape}};
  spec.floats = {{"epsilon", epsilon}};
  return spec;
}

KernelSpec batchNormBackwardSpec(const Shape &shape) {
  KernelSpec spec;
  spec.family = "batch_norm_backward";
  TensorSpec c = perChannel(shape[1]);
  spec.inputs = {{shape}, {shape}, c, c, c};
  spec.outputs = {{shape}, c, c};
  return spec;
}

HostTensor referenceConv2d(const HostTensor &x, const HostTensor &w,
                           const HostTensor *b,
                           const std::vector<int64_t> &strides,
                           const std::vector<int64_t> &padding,
                           const std::vector<int64_t> &dilations,
                           int64_t groups) {
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2],
                W = x.shape[3];
  const int64_t O = w.shape[0], KH = w.shape[2], KW = w.shape[3];
  const int64_t strideY = strides[0], strideX = strides[1];
  const int64_t padTop = padding[0], padLeft = padding[1];
  const int64_t dilationY = dilations[0], dilationX = dilations[1];
  const int64_t ho =
      (H + padTop + padding[2] - dilationY * (KH - 1) - 1) / strideY + 1;
  const int64_t wo =
      (W + padLeft + padding[3] - dilationX * (KW - 1) - 1) / strideX + 1;
  HostTensor y({N, O, ho, wo});
  const int64_t inPerGroup = C / groups, outPerGroup = O / groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t yo = 0; yo < ho; ++yo)
        for (int64_t xo = 0; xo < wo; ++xo) {
          double sum = b ? (*b)[o] : 0.0;
          for (int64_t i = 0; i < inPerGroup; ++i) {
            int64_t c = (o / outPerGroup) * inPerGroup + i;
            const double *xPlane = &x.data[(n * C + c) * H * W];
            const double *wPlane = &w.data[(o * inPerGroup + i) * KH * KW];
            for (int64_t ky = 0; ky < KH; ++ky) {
              int64_t yi = yo * strideY + ky * dilationY - padTop;
              if (yi < 0 || yi >= H)
                continue;
              for (int64_t kx = 0; kx < KW; ++kx) {
                int64_t xi = xo * strideX + kx * dilationX - padLeft;
                if (xi >= 0 && xi < W)
                  sum += xPlane[yi * W + xi] * wPlane[ky * KW + kx];
              }
            }
          }
          y.data[((n * O + o) * ho + yo) * wo + xo] = sum;
        }
  return y;
}

} // namespace resnetc::kernels::test
