/*===- Program.h - what a compiled program tells the runtime ----*- C -*-===//
 *
 * resnetc compiles a model into one object file that defines
 * `rn_program_info`: the model's variables and where they live, the size of
 * its memory arena, its training recipe, and the generated step functions.
 * libresnetrt (data, training loop, checkpoints, the command line) reads that
 * table and nothing else, so the runtime never changes with the model. The
 * same object linked with libresnetrt-classify.a makes `classify`, which
 * runs eval_step on a checkpoint's weights.
 *
 * The arena is one allocation: a fixed region of `fixed_bytes`, then a
 * per-sample region of `per_sample_bytes` for every image of the batch.
 *   fixed offset o        -> arena + o
 *   per-sample offset o   -> arena + fixed_bytes + batch * o
 * where `batch` is the batch of the call (train_step's or eval_step's
 * argument), so one arena, sized by the runtime for the largest batch of the
 * run (its --batch, which may differ from compiled_batch), serves every
 * smaller call too, such as the last batch of an evaluation. Every offset is
 * a multiple of `alignment`: 64 for the CPU, where the variables are
 * multiples of 4 instead, each kind (parameters, gradients, optimizer
 * states) one dense run; 256 for a GPU, the variables included (each kind
 * is then one run with zeros between its tensors, which every update keeps
 * zero). Tensors are laid out as the kernels expect (see
 * compiler/include/resnetc/Codegen/Kernels.h): images NHWC f32, labels i32,
 * weights OIHW f32. Every variable is a dense f32 tensor of its shape.
 *
 * A call reads `batch` images and labels from their slots; it may use every
 * per-sample slot as scratch, the image and label slots included (the
 * runtime fills them before each call). train_step runs forward, backward
 * and the optimizer update, updating parameters, state and slots in place,
 * and writes the loss (mean over the batch, from the forward pass) and the
 * count of correct predictions. eval_step runs the forward pass in
 * inference mode, writes the loss and the count, and changes no variable.
 * Inference may read derived variables (RN_DERIVED: BatchNorm folded into
 * the preceding convolution's weights and bias) instead of the parameters
 * and state they come from; prepare_eval computes them, and the runtime
 * calls it before eval_step whenever those changed.
 *
 * A program built for a GPU (device_api "cuda" or "opencl") keeps the arena
 * in device memory: the step functions take the device arena, a
 * halide_buffer_t (runtime/include/resnetrt/Device.h), instead of host
 * memory, and the runtime copies to and from it what it reads and writes.
 *
 *===----------------------------------------------------------------------===*/

#ifndef RESNETRT_PROGRAM_H
#define RESNETRT_PROGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RN_PROGRAM_ABI_VERSION 12

/* What a variable is for: the optimizer updates parameters; state is
 * updated by the step itself (BatchNorm running statistics); slots are the
 * optimizer's own (momentum, Adam moments). All three go into checkpoints.
 * Derived variables are computed from the others by prepare_eval (BatchNorm
 * folded into a convolution's weights and bias): they are never initialised
 * from their init (they stay zero until prepare_eval), never saved to a
 * checkpoint and never loaded from one, so checkpoints do not depend on
 * whether a program folds. */
enum rn_variable_role {
  RN_PARAMETER = 0, RN_STATE = 1, RN_OPTIMIZER_SLOT = 2, RN_DERIVED = 3
};

/* Same order as the rn dialect's InitKind and FanMode enums. */
enum rn_init_kind {
  RN_INIT_ZEROS, RN_INIT_ONES, RN_INIT_CONSTANT, RN_INIT_NORMAL,
  RN_INIT_UNIFORM, RN_INIT_HE_NORMAL, RN_INIT_HE_UNIFORM,
  RN_INIT_GLOROT_NORMAL, RN_INIT_GLOROT_UNIFORM, RN_INIT_LECUN_NORMAL
};
enum rn_fan_mode { RN_FAN_IN, RN_FAN_OUT, RN_FAN_AVG };

typedef struct rn_variable {
  const char *name;      /* e.g. "stem.conv.weight" */
  int32_t role;          /* rn_variable_role */
  int32_t rank;
  int64_t shape[4];      /* logical (rn) shape, first `rank` entries */
  int64_t offset;        /* byte offset in the fixed region */
  int32_t init_kind;     /* rn_init_kind */
  int32_t init_mode;     /* rn_fan_mode */
  double init_value;     /* constant, stddev (normal) or half-width (uniform) */
  int64_t init_seed;     /* -1: derive from the run's seed and the name */
  int64_t fan_in, fan_out;
} rn_variable;

/* Run-time hyperparameters of one training step. */
typedef struct rn_step_params {
  float lr, momentum, weight_decay;  /* SGD and the shared ones */
  int32_t nesterov;
  float beta1, beta2, epsilon;       /* Adam / AdamW */
  float label_smoothing;
  int32_t step;                      /* 1-based count of optimizer steps */
  uint32_t seed;                     /* dropout / dropblock masks */
} rn_step_params;

/* The step functions' names, as rn_kernel_site.step gives them. */
#define RN_TRAIN_STEP "train_step"
#define RN_EVAL_STEP "eval_step"
#define RN_PREPARE_EVAL "prepare_eval"

/* What a run on several ranks does with one output of a kernel right after
 * it (synchronised BatchNorm, resnetc --sync-batch-norm): nothing, or sum
 * it over the ranks in place, as is (statistics of the forward pass) or as
 * gradients (each rank's in the scale of its own loss, a mean over its
 * images: multiplied by its share of the global batch before the sum and
 * divided by it after). */
enum rn_rank_sum {
  RN_RANK_SUM_NONE = 0, RN_RANK_SUM_STATISTICS = 1, RN_RANK_SUM_GRADIENTS = 2
};

/* One kernel call of a step function: which step, the kernel's symbol, the
 * DSL layer(s) it serves (names joined by " + " for fused kernels) and
 * where in the DSL file (file:line:col), empty strings where unknown; which
 * of its outputs (rank_sum_output) the ranks sum how (rank_sum); and what
 * it costs (train --profile): multiply-adds per image (0 for kernels that
 * do none), and the bytes of the tensors it reads and writes, those that
 * do not depend on the batch and those per image. */
typedef struct rn_kernel_site {
  const char *step, *kernel, *layer, *location;
  int32_t rank_sum;        /* rn_rank_sum */
  int32_t rank_sum_output;
  int64_t multiply_adds;   /* per image */
  int64_t fixed_bytes, per_image_bytes;
} rn_kernel_site;

/* The training recipe compiled into the program: the DSL's train block with
 * every default filled in (resnetc --emit=mlir's module attribute
 * rn.recipe), which are the defaults of train's flags; the command line
 * overrides them. RN_RECIPE_FIELDS lists each field once, as
 * X(KIND, field, "flag"): the compiler fills `field` from rn.recipe's entry
 * of that name, the runtime reads it as the default of --flag. KIND is TEXT
 * (a string; lists in the flag's syntax, e.g. schedule_at "80,120"), REAL,
 * INT or BOOL (0 or 1). A field the recipe leaves out is unset (null text,
 * NaN, RN_RECIPE_UNSET): the flag keeps the runtime's default. Every field
 * is 8 bytes, so field i lies at offset 8 * i. */
#define RN_RECIPE_FIELDS(X)                                                   \
  X(TEXT, dataset, "dataset")                                                 \
  X(TEXT, data_path, "data")                                                  \
  X(TEXT, resize, "resize")                                                   \
  X(TEXT, augment, "augment")                                                 \
  X(TEXT, normalize, "normalize")                                             \
  X(REAL, validation_split, "validation-split")                               \
  X(INT, validation_steps, "validation-steps")                                \
  X(INT, batch, "batch")                                                      \
  X(INT, epochs, "epochs")                                                    \
  X(INT, steps, "steps")                                                      \
  X(INT, steps_per_epoch, "steps-per-epoch")                                  \
  X(TEXT, optimizer, "optimizer")                                             \
  X(REAL, lr, "lr")                                                           \
  X(REAL, momentum, "momentum")                                               \
  X(BOOL, nesterov, "nesterov")                                               \
  X(REAL, weight_decay, "weight-decay")                                       \
  X(REAL, beta1, "beta1")                                                     \
  X(REAL, beta2, "beta2")                                                     \
  X(REAL, epsilon, "eps")                                                     \
  X(BOOL, keras_epsilon, "keras-epsilon")                                     \
  X(REAL, label_smoothing, "label-smoothing")                                 \
  X(TEXT, schedule, "schedule")                                               \
  X(TEXT, schedule_at, "schedule-at")                                         \
  X(REAL, schedule_factor, "schedule-factor")                                 \
  X(REAL, warmup_epochs, "warmup-epochs")                                     \
  X(REAL, min_lr, "min-lr")                                                   \
  X(INT, cosine_period, "cosine-period")                                      \
  X(INT, cosine_period_mult, "cosine-period-mult")                            \
  X(REAL, max_lr, "max-lr")                                                   \
  X(REAL, pct_start, "pct-start")                                             \
  X(TEXT, early_stopping, "early-stopping")                                   \
  X(INT, early_stopping_patience, "early-stopping-patience")                  \
  X(REAL, early_stopping_min_delta, "early-stopping-min-delta")               \
  X(BOOL, restore_best, "restore-best")                                       \
  X(TEXT, reduce_lr_on_plateau, "reduce-lr-on-plateau")                       \
  X(REAL, plateau_factor, "plateau-factor")                                   \
  X(INT, plateau_patience, "plateau-patience")                                \
  X(REAL, plateau_min_delta, "plateau-min-delta")                             \
  X(REAL, plateau_min_lr, "plateau-min-lr")                                   \
  X(INT, plateau_cooldown, "plateau-cooldown")                                \
  X(INT, seed, "seed")                                                        \
  X(TEXT, log_dir, "log-dir")

#define RN_RECIPE_UNSET INT64_MIN
#define RN_RECIPE_TYPE_TEXT const char *
#define RN_RECIPE_TYPE_REAL double
#define RN_RECIPE_TYPE_INT int64_t
#define RN_RECIPE_TYPE_BOOL int64_t

typedef struct rn_recipe {
#define RN_RECIPE_FIELD(kind, field, flag) RN_RECIPE_TYPE_##kind field;
  RN_RECIPE_FIELDS(RN_RECIPE_FIELD)
#undef RN_RECIPE_FIELD
} rn_recipe;

typedef struct rn_program {
  int32_t abi_version;               /* RN_PROGRAM_ABI_VERSION */
  const char *model_name;
  const char *target;                /* Halide target the kernels were built for */
  int32_t input_channels, input_height, input_width;
  int32_t num_classes;
  int32_t compiled_batch;            /* the recipe's batch */
  int64_t fixed_bytes;
  int64_t per_sample_bytes;
  int64_t images_offset;             /* per-sample: [batch, H, W, C] f32 */
  int64_t labels_offset;             /* per-sample: [batch] i32 */
  int64_t loss_offset;               /* fixed: f32, mean loss of the batch */
  int64_t correct_offset;            /* fixed: i32, correct predictions */
  int32_t num_variables;
  const rn_variable *variables;
  const char *optimizer;             /* "sgd", "adam" or "adamw" */
  const rn_recipe *recipe;           /* defaults of train's flags */
  int32_t train_kernels, eval_kernels; /* kernel calls per step, for reports */
  /* The trainable parameters the optimizer updates are one dense run of
   * parameters_bytes at parameters_offset (fixed), in the order of the
   * variable table; after a training step their gradients are the run of the
   * same layout at gradients_offset (one all-reduce covers them). */
  int64_t parameters_offset, gradients_offset, parameters_bytes;
  /* Each returns 0, or a Halide error code. `arena` is the host arena, or
   * for a GPU program the device arena's halide_buffer_t. A GPU step only
   * queues its kernels: the runtime's next copy from the device waits for
   * them. */
  int32_t (*train_step)(void *arena, int32_t batch,
                        const rn_step_params *params);
  int32_t (*eval_step)(void *arena, int32_t batch);
  /* Recomputes the derived variables from the parameters and state. The
   * runtime calls it before a series of eval_step calls whenever parameters
   * or state changed (after initialising or loading them, after training
   * steps). `batch` is ignored (pass 0). Returns 0 or a Halide error code.
   * Null when the program has no derived variables. */
  int32_t (*prepare_eval)(void *arena, int32_t batch);
  int64_t alignment;                 /* of every offset (see above) */
  /* Null for the CPU; for a GPU program its device API ("cuda", "opencl")
   * and Halide's interface to it, from the Halide runtime linked in. */
  const char *device_api;
  const struct halide_device_interface_t *(*device_interface)(void);
  /* What makes this program's training steps what they are, as 32 hex
   * digits: a hash of the planned training module (topology, fusion,
   * memory plan; not the recipe's defaults) and of the kernels' Halide
   * target and scheduler. A checkpoint records it, and --resume continues
   * only a checkpoint of the same fingerprint (Checkpoint.h). */
  const char *fingerprint;
  /* Every kernel call of the step functions, in order: the index
   * rn_kernel_hook receives. */
  int32_t num_kernel_sites;
  const rn_kernel_site *kernel_sites;
  /* Per-sample: eval_step's logits, [batch, num_classes] f32, still there
   * after the call (classify --image turns them into probabilities). */
  int64_t logits_offset;
  /* The DSL's `classes [...]` names, joined by newlines; null when the
   * model gives only a count. */
  const char *class_names;
} rn_program;

struct halide_buffer_t;

/* Defined by the runtime, null unless it wants to look at every kernel's
 * results (train --check-numerics, training on several ranks): the step
 * functions call it after each kernel with the kernel's site and its output
 * descriptors (halide_buffer_t): host memory in a CPU program; in a GPU
 * program views of the device arena with no host memory, whose kernel is
 * queued, not necessarily finished. A non-zero return stops the step, which
 * returns that status. */
extern int32_t (*rn_kernel_hook)(int32_t site,
                                 struct halide_buffer_t *outputs,
                                 int32_t count);

extern const rn_program rn_program_info;

#ifdef __cplusplus
}
#endif

#endif /* RESNETRT_PROGRAM_H */
