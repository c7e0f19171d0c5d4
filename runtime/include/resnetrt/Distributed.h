//===- Distributed.h - data-parallel training on MPI ------------*- C++ -*-===//
//
// `mpirun -np K ./train ...` trains one model with K ranks. Every rank holds
// the whole model and takes a disjoint shard of every global batch (the
// recipe's --batch stays the global batch); after the backward pass the
// gradients are summed with MPI all-reduce, so every rank applies the same
// update and the weights stay identical. Started without mpirun, train is
// one rank and never initialises MPI.
//
// The gradients are one dense run in the arena (Program.h). GradientReducer
// cuts it into a few large buckets at variable boundaries and, from the
// hook a CPU program calls after each kernel (rn_kernel_hook), starts a
// bucket's non-blocking all-reduce as soon as the backward pass has written
// all of it: the last layers' buckets travel while the first layers'
// gradients are still being computed, as in PyTorch DDP and Horovod. The
// optimizer update, train_step's last kernel, waits for all of them.
//
// BatchNorm uses each rank's own batch statistics (as DDP); the running
// statistics, which the ranks then update differently, are averaged over
// the ranks (averageState) before anything reads them: evaluation,
// checkpoints, export. Averaging is linear, so it may happen at any step.
// A program built with resnetc --sync-batch-norm has BatchNorm kernels
// split at their sums over the batch; the hook sums those over the ranks
// (sumOverRanks), so every rank normalises with the global batch's
// statistics and K ranks train as one process.
//
// A GPU program calls the hook too, with views of the device arena. Debian's
// Open MPI is not CUDA-aware, so on a GPU the gradients go through host
// memory: once train_step's last backward kernel is queued and has run,
// each bucket is copied to the host once and its all-reduce started, and
// when all are done each is copied back once, before the update is queued.
// The all-reduce overlaps the other buckets' copies, not the backward pass:
// the host queues the kernels far ahead of the device. Synchronised
// BatchNorm's sums go the same way.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_DISTRIBUTED_H
#define RESNETRT_DISTRIBUTED_H

#include "resnetrt/Launcher.h"
#include "resnetrt/KernelHook.h"
#include "resnetrt/Program.h"

#include <mpi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace resnetrt {

class Arena;

/// Images [begin, end) of `count`: the part of this rank.
struct Shard {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};

/// The ranks of a run: MPI's world when launched by MPI, else one rank.
class Ranks {
public:
  /// Initialises MPI when launchedByMpi(); finalises it when destroyed.
  Ranks();
  ~Ranks();
  Ranks(const Ranks &) = delete;
  Ranks &operator=(const Ranks &) = delete;

  int rank() const { return index; }
  int size() const { return count; }
  bool distributed() const { return count > 1; }
  /// Rank 0 prints, logs and writes checkpoints.
  bool primary() const { return index == 0; }

  /// This rank's part of `total` items: [total r / K, total (r + 1) / K),
  /// the same rule on every rank, so uneven totals split the same way.
  Shard shard(int64_t total) const;

  /// Element-wise sums over the ranks, in place (blocking).
  void sum(std::vector<double> &values) const;
  /// Rank 0's bytes, to every rank.
  void broadcast(void *data, int64_t bytes) const;
  /// Makes every rank's parameters, state and optimizer slots rank 0's.
  void broadcastVariables(const rn_program &program, Arena &arena) const;
  /// Replaces every rank's state variables (BatchNorm running statistics)
  /// by their mean over the ranks.
  void averageState(const rn_program &program, Arena &arena) const;
  /// Throws an Error naming the first rank whose parameters, state or
  /// optimizer slots differ from rank 0's (compared by a hash).
  void checkIdentical(const rn_program &program, Arena &arena) const;

  /// Ends every rank of the job with `status`: a failure on one rank must
  /// not leave the others waiting in a collective.
  [[noreturn]] void abort(int status) const;

private:
  int index = 0, count = 1;
  bool initialised = false;
};

/// What the hook returns when it finds the program unfit to reduce (see
/// GradientReducer::endStep).
constexpr int32_t kReduceFailedStatus = 0x4d5049; // "MPI"

/// train_step's kernel calls in a CPU program's rn_kernel_site table: its
/// last is the optimizer update, the only one that reads the gradients,
/// after every kernel that writes them (the contract the hooks below rely
/// on, and check).
struct TrainSites {
  /// Throws an Error if the program lists no train_step calls.
  explicit TrainSites(const rn_program &program);
  bool contains(int32_t site) const {
    return site >= 0 && site < int32_t(train.size()) && train[size_t(site)];
  }
  std::vector<bool> train;
  int32_t update = -1, lastBackward = -1;
};

/// Communication of the training steps so far, for --benchmark and the
/// run's result.
struct ReduceTimes {
  double exposedSeconds = 0; ///< waiting for all-reduces, kernels stopped
  double inFlightSeconds = 0; ///< buckets in flight while kernels ran
  double batchNormSeconds = 0; ///< in synchronised BatchNorm's sums
  double deviceCopySeconds = 0; ///< GPU: buckets to host memory and back
  int64_t steps = 0;
};

/// The bucketed, overlapped all-reduce of the gradients (see above), done
/// from a KernelHook.
class GradientReducer : public KernelHook {
public:
  /// Buckets of at most `bucketBytes` (0: a quarter of the gradients, at
  /// most 25 MiB), at variable boundaries, the last variables first.
  /// MPI must be initialised (a distributed Ranks).
  GradientReducer(const rn_program &program, Arena &arena,
                  int64_t bucketBytes = 0);

  /// Before train_step: this rank's images and the global batch's. Each
  /// rank's mean gradient is scaled by its share of the global batch, so
  /// the sum is the global batch's mean gradient.
  void beginStep(int64_t localImages, int64_t globalImages);
  /// After train_step returned `status`: throws what went wrong in the
  /// hook (kReduceFailedStatus: a device copy that failed, or a program
  /// unfit to reduce), or if a step that succeeded reduced nothing.
  void endStep(int32_t status);

  int64_t buckets() const { return int64_t(bucketRanges.size()); }
  /// Whether the program sums BatchNorm statistics over the ranks (built
  /// with resnetc --sync-batch-norm).
  bool synchronisesBatchNorm() const;
  int64_t gradientBytes() const { return program.parameters_bytes; }
  const ReduceTimes &times() const { return totals; }

  /// The hook's work for kernel call `site`.
  int32_t afterKernel(int32_t site, struct halide_buffer_t *outputs,
                      int32_t count) override;

private:
  struct Range {
    int64_t begin, end; ///< bytes from the start of the gradients
    int64_t size() const { return end - begin; }
  };
  void start(size_t bucket);
  void waitAll();
  /// A GPU program's buckets, after its backward pass: to host memory, all
  /// reduced, back to the device.
  void reduceThroughHost();
  /// Synchronised BatchNorm: a kernel output that the ranks sum (Program.h,
  /// rn_rank_sum), in place, before any other kernel reads it.
  void sumOverRanks(struct halide_buffer_t &output, bool gradients);

  const rn_program &program;
  Arena &arena;
  TrainSites sites;
  uint8_t *gradients; ///< in host memory (a GPU program's mirror)
  std::vector<Range> bucketRanges;
  std::vector<int64_t> expected; ///< parameter bytes in each bucket

  // This step.
  float scale = 1;
  std::vector<int64_t> written;  ///< bytes of each bucket written
  std::vector<bool> started;
  std::vector<MPI_Request> requests; ///< of each started bucket
  std::vector<double> startTimes; ///< MPI_Wtime() of each start
  bool reduced = false;
  std::string failure; ///< what the hook found wrong
  std::exception_ptr thrown; ///< in the hook, which must not throw
  std::vector<float> scratch; ///< a GPU output summed over the ranks
  ReduceTimes totals;
};

/// --accumulate=M: each batch as M micro-batches run one after another on
/// one process. From the kernel hook, after each micro-batch's backward
/// pass but the last, its gradients, scaled by its share of the batch, are
/// added to a buffer and the step stops before the update; the last one's
/// are added to the buffer's and the update runs: the arithmetic of M
/// ranks' all-reduce. BatchNorm sees each micro-batch alone (as on M ranks,
/// or PyTorch's gradient accumulation), and the running statistics each
/// micro-batch would have left are averaged (as the ranks' are).
class GradientAccumulator : public KernelHook {
public:
  GradientAccumulator(const rn_program &program, Arena &arena,
                      int32_t microBatches);

  /// Before train_step on micro-batch `index` of `images` out of a batch of
  /// `batchImages`.
  void beginMicroBatch(int32_t index, int64_t images, int64_t batchImages);
  /// After it: 0 where the step did what it should (stopped before the
  /// update, or updated after the last micro-batch), else its status.
  int32_t endMicroBatch(int32_t status);

  int32_t afterKernel(int32_t site, struct halide_buffer_t *outputs,
                      int32_t count) override;

private:
  /// The state variables (BatchNorm running statistics), in table order.
  void copyState(std::vector<float> &to) const;
  void setState(const std::vector<float> &from);

  const rn_program &program;
  Arena &arena;
  const int32_t microBatches;
  TrainSites sites;
  float *gradients; ///< in host memory (a GPU program's mirror)
  std::exception_ptr thrown; ///< in the hook, which must not throw
  std::vector<float> sum;             ///< of the scaled gradients so far
  std::vector<float> stateBefore, stateSum, scratch;
  int32_t index = 0;
  float scale = 1;
};

} // namespace resnetrt

#endif // RESNETRT_DISTRIBUTED_H
