//===- LogisticProgram.h - hand-written programs for runtime tests -*- C++
//-*-===//
//
// What resnetc would generate, written by hand: a program table with a
// variable of every role, an arena layout, and step functions in plain C++.
// The folded variant has derived variables too, as a model with BatchNorm
// folded for inference has: its eval_step reads copies of the weights that
// only its prepare_eval writes.
// The model is multinomial logistic regression on the pixels (logits =
// W x + b, softmax cross-entropy with label smoothing), trained with the
// compiled sgd_update's rule (PyTorch's SGD: momentum, Nesterov, weight
// decay). It learns real data sets well enough to tell a working runtime
// from a broken one, in seconds.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_TEST_LOGISTICPROGRAM_H
#define RESNETRT_TEST_LOGISTICPROGRAM_H

#include "resnetrt/Program.h"

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

namespace resnetrt::test {

/// Knobs tests turn on the programs; all off by default.
struct ProgramHooks {
  int64_t nanAtStep = 0;       ///< train_step reports a NaN loss at this step
  int64_t interruptAtStep = 0; ///< train_step raises a signal at this step
  int interruptSignal = SIGINT; ///< which one
  std::vector<rn_step_params> *steps = nullptr; ///< records every call
  /// Records the calls in order: 't' train_step, 'p' prepare_eval, 'e'
  /// eval_step.
  std::string *calls = nullptr;
  int32_t prepareEvalStatus = 0; ///< what prepare_eval returns
};
extern ProgramHooks hooks;

/// 28x28x1 images, 10 classes: MNIST and Fashion-MNIST.
/// An rn_recipe with every field unset (the runtime's fallbacks).
rn_recipe unsetRecipe();

const rn_program &mnistLogistic();
/// 32x32x3 images, 10 classes: CIFAR-10.
const rn_program &cifarLogistic();
/// mnistLogistic (the same model name and recipe) whose eval_step reads
/// derived copies of the weight and bias, made by its prepare_eval.
const rn_program &mnistLogisticFolded();

} // namespace resnetrt::test

#endif // RESNETRT_TEST_LOGISTICPROGRAM_H
