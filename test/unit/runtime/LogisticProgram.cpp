//===- LogisticProgram.cpp - hand-written programs for runtime tests ------===//

#include "LogisticProgram.h"

#include <algorithm>
#include <cmath>
#include <csignal>

namespace resnetrt::test {

ProgramHooks hooks;

namespace {

constexpr int64_t align64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/// The arena layout of a model with P pixels and K classes.
struct Layout {
  int64_t pixels, classes;
  // Fixed region.
  int64_t weight = 0;
  int64_t bias = align64(weight + 4 * pixels * classes);
  int64_t weightMomentum = align64(bias + 4 * classes);
  int64_t biasMomentum = align64(weightMomentum + 4 * pixels * classes);
  int64_t runningLoss = align64(biasMomentum + 4 * classes);
  int64_t loss = runningLoss + 64;
  int64_t correct = loss + 64;
  int64_t weightGrad = correct + 64;
  int64_t biasGrad = align64(weightGrad + 4 * pixels * classes);
  // The folded variant's derived variables; unused by the others.
  int64_t foldedWeight = align64(biasGrad + 4 * classes);
  int64_t foldedBias = align64(foldedWeight + 4 * pixels * classes);
  int64_t fixedBytes = align64(foldedBias + 4 * classes);
  // Per-sample region.
  int64_t images = 0;
  int64_t labels = align64(4 * pixels);
  int64_t logits = labels + 64;
  int64_t probs = logits + align64(4 * classes);
  int64_t perSampleBytes = probs + align64(4 * classes);

  constexpr Layout(int64_t pixels, int64_t classes)
      : pixels(pixels), classes(classes) {}
};

template <typename T> T *at(uint8_t *arena, int64_t offset) {
  return reinterpret_cast<T *>(arena + offset);
}

void record(char call) {
  if (hooks.calls)
    hooks.calls->push_back(call);
}

/// Forward pass of the batch: the logits and the softmax probabilities into
/// their slots, the mean loss (against smoothed targets) and the correct count into
/// their slots. `folded`: with the derived copies of the weights.
void forward(const Layout &l, uint8_t *arena, int32_t batch, float smoothing,
             bool folded = false) {
  const float *w = at<float>(arena, folded ? l.foldedWeight : l.weight);
  const float *b = at<float>(arena, folded ? l.foldedBias : l.bias);
  const float *x = at<float>(arena, l.fixedBytes + batch * l.images);
  const int32_t *labels = at<int32_t>(arena, l.fixedBytes + batch * l.labels);
  float *logits = at<float>(arena, l.fixedBytes + batch * l.logits);
  float *probs = at<float>(arena, l.fixedBytes + batch * l.probs);
  double loss = 0;
  int32_t correct = 0;
  for (int32_t n = 0; n < batch; ++n) {
    const float *xn = x + n * l.pixels;
    float *z = logits + n * l.classes, *p = probs + n * l.classes;
    for (int64_t k = 0; k < l.classes; ++k) {
      const float *wk = w + k * l.pixels;
      float sum = b[k];
      for (int64_t i = 0; i < l.pixels; ++i)
        sum += wk[i] * xn[i];
      z[k] = sum;
    }
    int64_t best = std::max_element(z, z + l.classes) - z;
    correct += best == labels[n];
    float top = z[best];
    double total = 0;
    for (int64_t k = 0; k < l.classes; ++k)
      total += std::exp(double(z[k] - top));
    double logSum = std::log(total) + top;
    for (int64_t k = 0; k < l.classes; ++k) {
      double logP = z[k] - logSum;
      double target = smoothing / double(l.classes) +
                      (k == labels[n] ? 1.0 - smoothing : 0.0);
      loss -= target * logP;
      p[k] = float(std::exp(logP));
    }
  }
  *at<float>(arena, l.loss) = float(loss / batch);
  *at<int32_t>(arena, l.correct) = correct;
}

int32_t trainStep(const Layout &l, uint8_t *arena, int32_t batch,
                  const rn_step_params *params) {
  record('t');
  if (hooks.steps)
    hooks.steps->push_back(*params);
  forward(l, arena, batch, params->label_smoothing);
  if (params->step == hooks.nanAtStep) {
    *at<float>(arena, l.loss) = NAN;
    return 0;
  }

  // Gradient of the mean loss: (p - target) x^T / batch.
  const float *x = at<float>(arena, l.fixedBytes + batch * l.images);
  const int32_t *labels = at<int32_t>(arena, l.fixedBytes + batch * l.labels);
  const float *probs = at<float>(arena, l.fixedBytes + batch * l.probs);
  float *gw = at<float>(arena, l.weightGrad);
  float *gb = at<float>(arena, l.biasGrad);
  std::fill(gw, gw + l.pixels * l.classes, 0.0f);
  std::fill(gb, gb + l.classes, 0.0f);
  for (int32_t n = 0; n < batch; ++n) {
    for (int64_t k = 0; k < l.classes; ++k) {
      float target = params->label_smoothing / float(l.classes) +
                     (k == labels[n] ? 1.0f - params->label_smoothing : 0.0f);
      float d = (probs[n * l.classes + k] - target) / float(batch);
      gb[k] += d;
      float *gwk = gw + k * l.pixels;
      const float *xn = x + n * l.pixels;
      for (int64_t i = 0; i < l.pixels; ++i)
        gwk[i] += d * xn[i];
    }
  }

  // sgd_update of Kernels.h over both parameters.
  auto update = [&](int64_t wOffset, int64_t gOffset, int64_t mOffset,
                    int64_t count) {
    float *w = at<float>(arena, wOffset);
    const float *g = at<float>(arena, gOffset);
    float *m = at<float>(arena, mOffset);
    for (int64_t i = 0; i < count; ++i) {
      float grad = g[i] + params->weight_decay * w[i];
      m[i] = params->momentum * m[i] + grad;
      float step = params->nesterov ? grad + params->momentum * m[i] : m[i];
      w[i] -= params->lr * step;
    }
  };
  update(l.weight, l.weightGrad, l.weightMomentum, l.pixels * l.classes);
  update(l.bias, l.biasGrad, l.biasMomentum, l.classes);
  float *running = at<float>(arena, l.runningLoss);
  *running = 0.9f * *running + 0.1f * *at<float>(arena, l.loss);

  if (params->step == hooks.interruptAtStep)
    std::raise(hooks.interruptSignal);
  return 0;
}

/// One program per input shape (and folding); the step functions find their
/// layout through the template arguments, as generated code has it built in.
template <int H, int W, int C, int K, bool Folded = false> struct Logistic {
  static constexpr Layout layout{H * W * C, K};

  static int32_t train(void *arena, int32_t batch,
                       const rn_step_params *params) {
    return trainStep(layout, static_cast<uint8_t *>(arena), batch, params);
  }
  static int32_t eval(void *arena, int32_t batch) {
    record('e');
    forward(layout, static_cast<uint8_t *>(arena), batch, 0.0f, Folded);
    return 0;
  }
  /// What folding BatchNorm would compute; a copy is enough to tell stale
  /// derived variables from fresh ones.
  static int32_t prepareEval(void *memory, int32_t) {
    record('p');
    uint8_t *arena = static_cast<uint8_t *>(memory);
    const float *w = at<float>(arena, layout.weight);
    const float *b = at<float>(arena, layout.bias);
    std::copy(w, w + layout.pixels * layout.classes,
              at<float>(arena, layout.foldedWeight));
    std::copy(b, b + layout.classes, at<float>(arena, layout.foldedBias));
    return hooks.prepareEvalStatus;
  }

  static inline const rn_variable variables[] = {
      {"dense.weight",
       RN_PARAMETER,
       2,
       {K, H *W *C},
       layout.weight,
       RN_INIT_GLOROT_UNIFORM,
       RN_FAN_IN,
       0,
       -1,
       H *W *C,
       K},
      {"dense.bias",
       RN_PARAMETER,
       1,
       {K},
       layout.bias,
       RN_INIT_ZEROS,
       RN_FAN_IN,
       0,
       -1,
       H *W *C,
       K},
      {"dense.weight.momentum",
       RN_OPTIMIZER_SLOT,
       2,
       {K, H *W *C},
       layout.weightMomentum,
       RN_INIT_ZEROS,
       RN_FAN_IN,
       0,
       -1,
       0,
       0},
      {"dense.bias.momentum",
       RN_OPTIMIZER_SLOT,
       1,
       {K},
       layout.biasMomentum,
       RN_INIT_ZEROS,
       RN_FAN_IN,
       0,
       -1,
       0,
       0},
      {"loss.running_mean",
       RN_STATE,
       0,
       {},
       layout.runningLoss,
       RN_INIT_CONSTANT,
       RN_FAN_IN,
       std::log(double(K)),
       -1,
       0,
       0},
      // The folded variant's only. Their init is never used: they stay zero
      // until prepare_eval.
      {"dense.folded_weight",
       RN_DERIVED,
       2,
       {K, H *W *C},
       layout.foldedWeight,
       RN_INIT_ONES,
       RN_FAN_IN,
       0,
       -1,
       0,
       0},
      {"dense.folded_bias",
       RN_DERIVED,
       1,
       {K},
       layout.foldedBias,
       RN_INIT_ONES,
       RN_FAN_IN,
       0,
       -1,
       0,
       0},
  };

  static rn_program program(const char *name, const rn_recipe *recipe) {
    rn_program p{};
    p.abi_version = RN_PROGRAM_ABI_VERSION;
    p.model_name = name;
    p.target = "host";
    p.input_channels = C;
    p.input_height = H;
    p.input_width = W;
    p.num_classes = K;
    p.compiled_batch = 64;
    p.fixed_bytes = layout.fixedBytes;
    p.per_sample_bytes = layout.perSampleBytes;
    p.images_offset = layout.images;
    p.labels_offset = layout.labels;
    p.loss_offset = layout.loss;
    p.correct_offset = layout.correct;
    p.logits_offset = layout.logits;
    p.num_variables = int32_t(std::size(variables)) - (Folded ? 0 : 2);
    p.variables = variables;
    p.optimizer = "sgd";
    p.recipe = recipe;
    p.train_kernels = 3;
    p.eval_kernels = 1;
    p.train_step = train;
    p.eval_step = eval;
    p.prepare_eval = Folded ? prepareEval : nullptr;
    p.alignment = 64;
    p.fingerprint = Folded ? "logistic-folded" : "logistic";
    return p;
  }
};

} // namespace

rn_recipe unsetRecipe() {
  rn_recipe recipe;
#define RN_RECIPE_UNSET_TEXT nullptr
#define RN_RECIPE_UNSET_REAL std::nan("")
#define RN_RECIPE_UNSET_INT RN_RECIPE_UNSET
#define RN_RECIPE_UNSET_BOOL RN_RECIPE_UNSET
#define RN_RECIPE_FIELD(kind, field, flag) recipe.field = RN_RECIPE_UNSET_##kind;
  RN_RECIPE_FIELDS(RN_RECIPE_FIELD)
#undef RN_RECIPE_FIELD
  return recipe;
}

namespace {

/// The recipe of an SGD run with these settings, the rest as resnetc
/// leaves them by default.
rn_recipe sgdRecipe(const char *dataset, int64_t batch, int64_t epochs,
                    double lr, double momentum, double weightDecay,
                    const char *schedule) {
  rn_recipe r = unsetRecipe();
  r.dataset = dataset;
  r.batch = batch;
  r.epochs = epochs;
  r.optimizer = "sgd";
  r.lr = lr;
  r.momentum = momentum;
  r.nesterov = 0;
  r.weight_decay = weightDecay;
  r.schedule = schedule;
  r.validation_split = 0;
  r.label_smoothing = 0;
  r.seed = 0;
  return r;
}

} // namespace

const rn_program &mnistLogistic() {
  static const rn_recipe recipe = [] {
    rn_recipe r =
        sgdRecipe("fashion_mnist", 64, 1, 0.02, 0.9, 0, "cosine");
    r.augment = "none";
    r.normalize = "0.286/0.353";
    return r;
  }();
  static const rn_program program =
      Logistic<28, 28, 1, 10>::program("logistic_mnist", &recipe);
  return program;
}

const rn_program &mnistLogisticFolded() {
  static const rn_program program = Logistic<28, 28, 1, 10, true>::program(
      mnistLogistic().model_name, mnistLogistic().recipe);
  return program;
}

const rn_program &cifarLogistic() {
  static const rn_recipe recipe = [] {
    rn_recipe r = sgdRecipe("cifar10", 128, 160, 0.1, 0.9, 1e-4, "step");
    r.schedule_at = "80,120";
    r.schedule_factor = 0.1;
    r.augment = "random_crop(32,pad=4),flip_horizontal";
    r.normalize = "0.4914,0.4822,0.4465/0.2470,0.2435,0.2616";
    return r;
  }();
  static const rn_program program =
      Logistic<32, 32, 3, 10>::program("logistic_cifar", &recipe);
  return program;
}

} // namespace resnetrt::test
