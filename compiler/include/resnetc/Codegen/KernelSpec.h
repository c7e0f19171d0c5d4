//===- KernelSpec.h - what one kernel computes ------------------*- C++ -*-===//
//
// The description of one kernel that the compiler (MLIR side) hands to the
// kernel families (Halide side): a family, its tensors, its attributes. No
// Halide and no MLIR here, so both sides include it. The layouts and the
// families are documented in Kernels.h.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELSPEC_H
#define RESNETC_CODEGEN_KERNELSPEC_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace resnetc::kernels {

using Shape = std::vector<int64_t>;

enum class ElemType { F32, I32, U32 };

/// Activations (and labels) have the run-time batch as their first logical
/// dimension and the NHWC layout of Kernels.h; weights (filters, dense weights,
/// per-channel vectors, flat optimizer buffers, scalars) have only static
/// extents and Halide dims in the reverse of their logical order.
enum class TensorKind { Activation, Weight };

struct TensorSpec {
  Shape shape;
  TensorKind kind = TensorKind::Activation;
  ElemType type = ElemType::F32;
};

/// What one kernel computes: its family, tensors and attributes.
struct KernelSpec {
  std::string family;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::map<std::string, std::vector<int64_t>> ints;
  std::map<std::string, double> floats;

  /// Canonical text of everything above. Equal keys mean one shared kernel.
  std::string key() const;
  /// C symbol of the generated function: the family and a hash of key().
  std::string symbolName() const;
};

/// How a kernel is scheduled: by hand, or by one of Halide's autoschedulers.
/// Hand schedules take any run-time batch; the autoschedulers split the
/// batch loop with tails that shift inwards, so their kernels need a
/// run-time batch of at least the one compiled for.
enum class Scheduler { Hand, Adams2019, Li2018, Mullapudi2016 };

/// The scheduler's name as resnetc's --scheduler spells it.
const char *schedulerName(Scheduler scheduler);

/// Extents of a tensor's buffer in Halide dimension order (the layouts
/// of Kernels.h). An activation's batch extent is its logical (estimate) value.
std::vector<int> halideExtents(const TensorSpec &tensor);

/// One Halide dimension of a tensor's buffer as every kernel and its caller
/// agree on it: dense (each stride the product of the extents inside it),
/// and for an activation the outermost one, the batch, given at run time
/// (`extent` is then the compiled batch, an estimate).
struct BufferDimension {
  int extent;
  int64_t stride;
  bool runtimeExtent;
};
/// The dimensions of `tensor`'s buffer, innermost first: the layout the
/// kernels are compiled for (constrainLayout) and the step's lowering
/// describes at each call (rn-lower-to-llvm).
std::vector<BufferDimension> bufferLayout(const TensorSpec &tensor);

} // namespace resnetc::kernels

#endif // RESNETC_CODEGEN_KERNELSPEC_H
