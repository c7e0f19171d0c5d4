//===- Family.h - base class and registry of kernel families ----*- C++ -*-===//
//
// A family turns one KernelSpec into Halide Funcs (define: the algorithm,
// which never mentions a target) and then schedules them for the target:
// scheduleCPU for x86-64, scheduleGPU for a GPU (CUDA or OpenCL; Halide's GPU
// directives do not name the device API, so one schedule serves both). One
// Family object builds one kernel, so a family keeps the Funcs it defined as
// members for its schedules to refer to.
//
// Adding a family: subclass Family in the file of its group, then add one
// line to the group's register function (and that function to
// registerAllFamilies in Kernels.cpp if the group is new).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELS_FAMILY_H
#define RESNETC_CODEGEN_KERNELS_FAMILY_H

#include "resnetc/Codegen/Kernels.h"

#include <functional>
#include <memory>

namespace resnetc::kernels {

class Family {
public:
  explicit Family(const KernelSpec &spec) : spec(spec) {}
  virtual ~Family() = default;

  /// The algorithm: returns the output Funcs, one per spec output, in order.
  virtual std::vector<Halide::Func> define() = 0;

  /// The hand schedule for an x86-64 CPU target.
  virtual void scheduleCPU(const Halide::Target &target) = 0;

  /// The hand schedule for a GPU target. Every stage that is not inlined
  /// runs on the device: the buffers a kernel gets there have no host
  /// memory. Reductions are deterministic (each sum in a fixed order, no
  /// atomics), and in-place outputs (Kernels.h) are guarded, never
  /// recomputed over a shifted tile.
  virtual void scheduleGPU(const Halide::Target &target) = 0;

  const std::vector<Halide::ImageParam> &inputParams() const { return inputs; }
  const std::vector<Halide::Internal::Parameter> &scalarParams() const {
    return scalars;
  }

  /// Attribute `name`, which must exist and (if count > 0) have `count` values.
  /// Public so that the expression builders a family is made of can read them.
  std::vector<int64_t> ints(const std::string &name, size_t count = 0) const;
  int64_t intAttr(const std::string &name) const;
  double floatAttr(const std::string &name) const;

  /// Throws a CompileError naming the family and the problem.
  [[noreturn]] void fail(const std::string &message) const;

protected:
  /// Spec input `i` as an ImageParam constrained to the contract's layout and
  /// static extents. Call once per input, in order, from define().
  Halide::ImageParam input(size_t i, const std::string &name);

  /// A run-time scalar argument. Call in the family's documented order, after
  /// all inputs. `estimate` is a typical value, for the autoschedulers.
  Halide::Param<float> scalarF32(const std::string &name, float estimate);
  Halide::Param<int32_t> scalarI32(const std::string &name, int32_t estimate);
  Halide::Param<uint32_t> scalarU32(const std::string &name, uint32_t estimate);

  const KernelSpec &spec;

private:
  std::vector<Halide::ImageParam> inputs;
  std::vector<Halide::Internal::Parameter> scalars;
};

/// Makes the family object for a spec. The target is there for a family
/// that has more than one algorithm, to pick the one that suits it (the
/// convolutions' Winograd form is for CPUs); define() itself never reads it.
using FamilyFactory = std::function<std::unique_ptr<Family>(
    const KernelSpec &, const Halide::Target &)>;

/// The table from family name to factory.
class FamilyRegistry {
public:
  template <typename F> void add(const std::string &name) {
    factories[name] = [](const KernelSpec &spec, const Halide::Target &) {
      return std::unique_ptr<Family>(new F(spec));
    };
  }
  void add(const std::string &name, FamilyFactory factory) {
    factories[name] = std::move(factory);
  }
  const FamilyFactory *find(const std::string &name) const;
  std::vector<std::string> names() const;

private:
  std::map<std::string, FamilyFactory> factories;
};

/// One register function per group of families (one source file each).
void registerElementwiseFamilies(FamilyRegistry &registry);
void registerBatchNormFamilies(FamilyRegistry &registry);
void registerPoolingFamilies(FamilyRegistry &registry);
void registerDataMovementFamilies(FamilyRegistry &registry);
void registerRegularizationFamilies(FamilyRegistry &registry);
void registerLossFamilies(FamilyRegistry &registry);
void registerOptimizerFamilies(FamilyRegistry &registry);
void registerConvFamilies(FamilyRegistry &registry);
void registerDenseFamilies(FamilyRegistry &registry);

//===----------------------------------------------------------------------===//
// Layout helpers shared by the algorithms
//===----------------------------------------------------------------------===//

/// Constrains a buffer (input or output) to the contract's layout: dense,
/// dim 0 innermost, static extents everywhere but an activation's batch.
void constrainLayout(Halide::OutputImageParam buffer, const TensorSpec &tensor);

/// Sets Halide's size estimates (for the autoschedulers) on a buffer.
void setEstimates(Halide::OutputImageParam buffer, const TensorSpec &tensor);

/// The run-time batch extent of an activation buffer (its last dimension).
/// Reductions over the batch use it, never the spec's estimate.
Halide::Expr batchExtent(const Halide::OutputImageParam &activation);

/// One Var per dimension of a tensor of `rank` dimensions, innermost first.
std::vector<Halide::Var> pointVars(size_t rank);

/// The Vars as Exprs, to index a buffer or Func with.
std::vector<Halide::Expr> asExprs(const std::vector<Halide::Var> &vars);

//===----------------------------------------------------------------------===//
// Schedule helpers shared by the families
//===----------------------------------------------------------------------===//

/// Vectorises dim 0 (the channels) with a guarded tail, so any channel count
/// works, and runs the outermost dim (the batch) on threads.
void schedulePointwise(Halide::Func f, const std::vector<Halide::Var> &vars,
                       const Halide::Target &target);

/// Schedules an update that reduces over `r` into a buffer indexed by
/// `channel` first: for each step of `r`, all channels in vectors (with a
/// guarded tail for channel counts that are not a multiple of the vector),
/// accumulating into the small, L1-resident buffer of the reduction.
void scheduleChannelReduction(Halide::Stage update, Halide::Var channel,
                              const Halide::RDom &r,
                              const Halide::Target &target);
/// Per image and channel, the sum and the sum of squared deviations from
/// the image's mean (M2) of an activation (c, x, y, n) of width x height
/// pixels: what conv2d_stats and add_stats return for batch_norm_apply.
/// Sums of values and squares in double: squares of floats are exact
/// there, so M2 = sum x^2 - (sum x)^2 / P loses nothing measurable for the
/// spreads activations have.
class ImageMoments {
public:
  ImageMoments(Halide::Func activation, int width, int height);
  /// The two outputs, f32, (c, n).
  Halide::Func sum() const { return imageSum; }
  Halide::Func m2() const { return imageM2; }
  /// Reduces the moments of a task's images at `task`, where `activation`
  /// is computed, channel vectors innermost, and stores them in the same
  /// loop over tasks as `out` (compute_with at `taskVar`: n, or nt where
  /// `out` runs `imagesPerTask` > 1 images a task, split as taskLoop does),
  /// so the activation is read from cache, not memory.
  void schedule(Halide::Func out, Halide::LoopLevel task, Halide::Var taskVar,
                int imagesPerTask, const Halide::Target &target);
  /// GPU: the moments as a stage of their own (a thread per channel and
  /// image, the pixels in order), reading the activation again.
  void scheduleGPU(int channels);

private:
  Halide::Var c{"c"}, n{"n"}, nt{"nt"}, ni{"ni"};
  Halide::RDom px;
  Halide::Func moments{"moments"}, imageSum{"image_sum"}, imageM2{"image_m2"};
};

/// GPU: threads per block of the pointwise and per-channel schedules (eight
/// warps).
constexpr int kGpuBlockThreads = 256;

/// GPU: runs the pure Func `f` over `vars` (dim 0 innermost) as one flat
/// index, all dims fused: consecutive threads take consecutive elements (a
/// warp's accesses coalesce), kGpuBlockThreads to a block, the tail guarded
/// (so in-place outputs are safe). A Func of no dims runs on one thread.
/// Returns the loop of one thread, where a stage that only that element
/// needs (a window's reduction) is computed.
Halide::LoopLevel schedulePointwiseGPU(Halide::Func f,
                                       const std::vector<Halide::Var> &vars);
/// The same for an update stage over its pure Vars `vars`; its reduction
/// loops run inside each thread, in order.
void schedulePointwiseGPU(Halide::Stage stage,
                          const std::vector<Halide::Var> &vars);

/// GPU: a thread per element of `out` (schedulePointwiseGPU), which computes
/// the element of `reduction` (a window, a dot product) it reads, alone.
void scheduleElementReductionGPU(Halide::Func out, Halide::Func reduction,
                                 const std::vector<Halide::Var> &vars);

/// GPU: computes the reduction `f` (a pure definition, then updates over
/// its RDoms) at the root, every stage with scheduleChannelsGPU.
void scheduleChannelReductionGPU(Halide::Func f, Halide::Var channel,
                                 int channels,
                                 const std::vector<Halide::Var> &across = {});

/// GPU: runs `stage`, of a Func whose dim `channel` (of `channels` values)
/// is innermost in memory, with a thread per channel (blocks of up to
/// kGpuBlockThreads channels, guarded) and a block per value of each of the
/// pure Vars `across` (at most two: an image, say). The stage's reduction
/// loops run inside each thread in their order, so every sum is taken in
/// one fixed order: the first level of a deterministic reduction whose next
/// level (over `across`) is another stage scheduled the same way.
void scheduleChannelsGPU(Halide::Stage stage, Halide::Var channel,
                         int channels,
                         const std::vector<Halide::Var> &across = {});

/// How many vector registers a register-tiled CPU schedule gives to
/// accumulators: half of them (16 of AVX-512's 32, 8 of AVX2's 16); the
/// rest hold the operands of one step.
inline int accumulatorRegisters(const Halide::Target &target) {
  return target.has_feature(Halide::Target::AVX512) ? 16 : 8;
}

} // namespace resnetc::kernels

#endif // RESNETC_CODEGEN_KERNELS_FAMILY_H
