//===- OptimizerTest.cpp - SGD and Adam/AdamW against PyTorch's formulas --===//
//
// Several steps of each update against a double-precision transcription of
// PyTorch's torch.optim.SGD / Adam / AdamW, then the same steps with the
// outputs bound to the input buffers, as the runtime calls them.
//
//===----------------------------------------------------------------------===//

#include "KernelHarness.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace resnetc::kernels;
using namespace resnetc::kernels::test;

namespace {

/// Below one vector; whole vectors with a partial last task (of 64
/// vectors); and a partial last task ending in a partial vector.
const std::vector<int64_t> sizes = {5, 2000, 3001};

const int steps = 5;

KernelSpec flatSpec(const std::string &family, int64_t size, int inputs,
                    int outputs) {
  KernelSpec spec;
  spec.family = family;
  TensorSpec flat{{size}, TensorKind::Weight};
  spec.inputs.assign(inputs, flat);
  spec.outputs.assign(outputs, flat);
  return spec;
}

struct SgdOptions {
  double lr, momentum, weightDecay;
  bool nesterov;
};

/// torch.optim.SGD's step (dampening 0): m starts at zero, so PyTorch's
/// "first step copies g'" is the same as momentum * 0 + g'.
void sgdReference(HostTensor &w, HostTensor &m, const HostTensor &g,
                  const SgdOptions &o) {
  for (size_t i = 0; i < w.size(); ++i) {
    double grad = g[i] + o.weightDecay * w[i];
    m[i] = o.momentum * m[i] + grad;
    w[i] -= o.lr * (o.nesterov ? grad + o.momentum * m[i] : m[i]);
  }
}

TEST(Optimizer, SgdMatchesPyTorchOverSeveralSteps) {
  std::mt19937 rng(1);
  const std::vector<SgdOptions> options = {
      {0.1, 0.0, 0.0, false}, {0.1, 0.9, 1e-2, false}, {0.05, 0.9, 5e-4, true}};
  for (int64_t size : sizes)
    for (const SgdOptions &o : options) {
      KernelSpec spec = flatSpec("sgd_update", size, 3, 2);
      std::map<std::string, double> scalars = {{"lr", o.lr},
                                               {"momentum", o.momentum},
                                               {"weight_decay", o.weightDecay},
                                               {"nesterov", o.nesterov}};
      HostTensor w = randomTensor({size}, rng), m({size});
      HostTensor wRef = w, mRef = m;
      for (int step = 0; step < steps; ++step) {
        HostTensor g = randomTensor({size}, rng);
        auto out = runKernel(spec, {w, g, m}, scalars);
        w = out[0];
        m = out[1];
        sgdReference(wRef, mRef, g, o);
      }
      EXPECT_LT(relativeError(w, wRef), 1e-6);
      if (o.momentum != 0) {
        EXPECT_LT(relativeError(m, mRef), 1e-6);
      }
    }
}

struct AdamOptions {
  double lr, beta1, beta2, epsilon, weightDecay;
  bool decoupled;

  /// The hyperparameters as the kernel receives them: f32 run-time scalars.
  /// That matters for 1 - beta2: 1 - float(0.999) is 1.3e-5 off 1e-3, which
  /// the kernel computes exactly from what it is given.
  AdamOptions asF32() const {
    return {float(lr),      float(beta1),       float(beta2),
            float(epsilon), float(weightDecay), decoupled};
  }
};

/// torch.optim.Adam (decoupled = false) and AdamW (true), step t >= 1.
void adamReference(HostTensor &w, HostTensor &m, HostTensor &v,
                   const HostTensor &g, const AdamOptions &o, int t) {
  double correction1 = 1 - std::pow(o.beta1, t);
  double correction2 = 1 - std::pow(o.beta2, t);
  for (size_t i = 0; i < w.size(); ++i) {
    double grad = g[i];
    if (o.decoupled)
      w[i] *= 1 - o.lr * o.weightDecay;
    else
      grad += o.weightDecay * w[i];
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * grad;
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * grad * grad;
    double denominator = std::sqrt(v[i]) / std::sqrt(correction2) + o.epsilon;
    w[i] -= o.lr / correction1 * m[i] / denominator;
  }
}

std::map<std::string, double> adamScalars(const AdamOptions &o, int t) {
  return {{"lr", o.lr},
          {"beta1", o.beta1},
          {"beta2", o.beta2},
          {"epsilon", o.epsilon},
          {"weight_decay", o.weightDecay},
          {"step", t}};
}

const std::vector<AdamOptions> adamOptions = {
    {1e-3, 0.9, 0.999, 1e-8, 0.0, false},
    {1e-2, 0.9, 0.999, 1e-8, 1e-2, false},
    {1e-2, 0.8, 0.99, 1e-6, 5e-2, true}};

TEST(Optimizer, AdamAndAdamWMatchPyTorchOverSeveralSteps) {
  std::mt19937 rng(2);
  for (int64_t size : sizes)
    for (const AdamOptions &o : adamOptions) {
      KernelSpec spec = flatSpec("adam_update", size, 4, 3);
      spec.floats = {{"decoupled", o.decoupled}};
      HostTensor w = randomTensor({size}, rng), m({size}), v({size});
      HostTensor wRef = w, mRef = m, vRef = v;
      for (int t = 1; t <= steps; ++t) {
        HostTensor g = randomTensor({size}, rng);
        auto out = runKernel(spec, {w, g, m, v}, adamScalars(o, t));
        w = out[0];
        m = out[1];
        v = out[2];
        adamReference(wRef, mRef, vRef, g, o.asF32(), t);
      }
      EXPECT_LT(relativeError(w, wRef), 1e-6);
      EXPECT_LT(relativeError(m, mRef), 1e-6);
      EXPECT_LT(relativeError(v, vRef), 1e-6);
    }
}

/// The runtime binds w_new to w, m_new to m (and v_new to v): the results
/// must be bit for bit those of separate output buffers.
TEST(Optimizer, InPlaceUpdatesEqualOutOfPlaceOnes) {
  std::mt19937 rng(3);
  for (int64_t size : sizes) {
    HostTensor w = randomTensor({size}, rng), g = randomTensor({size}, rng);
    HostTensor m = randomTensor({size}, rng);
    HostTensor v = randomTensor({size}, rng, 0, 1);

    KernelSpec sgd = flatSpec("sgd_update", size, 3, 2);
    std::map<std::string, double> sgdScalars = {{"lr", 0.1},
                                                {"momentum", 0.9},
                                                {"weight_decay", 1e-2},
                                                {"nesterov", 1}};
    auto apart = runKernel(sgd, {w, g, m}, sgdScalars);
    auto inPlace =
        runKernelInPlace(sgd, {w, g, m}, sgdScalars, {{0, 0}, {1, 2}});
    EXPECT_EQ(relativeError(inPlace[0], apart[0]), 0.0);
    EXPECT_EQ(relativeError(inPlace[1], apart[1]), 0.0);

    for (const AdamOptions &o : adamOptions) {
      KernelSpec adam = flatSpec("adam_update", size, 4, 3);
      adam.floats = {{"decoupled", o.decoupled}};
      auto apart = runKernel(adam, {w, g, m, v}, adamScalars(o, 3));
      auto inPlace = runKernelInPlace(adam, {w, g, m, v}, adamScalars(o, 3),
                                      {{0, 0}, {1, 2}, {2, 3}});
      for (int i = 0; i < 3; ++i)
        EXPECT_EQ(relativeError(inPlace[i], apart[i]), 0.0) << "output " << i;
    }
  }
}

} // namespace
