//===- Distributed.cpp - data-parallel training on MPI --------------------===//

#include "resnetrt/Distributed.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Device.h"
#include "resnetrt/Error.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace resnetrt {

//===----------------------------------------------------------------------===//
// Ranks
//===----------------------------------------------------------------------===//

Ranks::Ranks() {
  if (!launchedByMpi())
    return;
  // Only the main thread calls MPI (the batcher's thread never does).
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS)
    fail("MPI_Init failed: this train was started by an MPI launcher whose "
         "MPI it cannot join");
  initialised = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &index);
  MPI_Comm_size(MPI_COMM_WORLD, &count);
}

Ranks::~Ranks() {
  if (initialised)
    MPI_Finalize();
}

Shard Ranks::shard(int64_t total) const {
  return {total * index / count, total * (index + 1) / count};
}

void Ranks::sum(std::vector<double> &values) const {
  if (distributed())
    MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_DOUBLE,
                  MPI_SUM, MPI_COMM_WORLD);
}

void Ranks::broadcast(void *data, int64_t bytes) const {
  // In pieces: MPI counts are ints.
  constexpr int64_t piece = int64_t(1) << 30;
  for (int64_t done = 0; distributed() && done < bytes; done += piece)
    MPI_Bcast(static_cast<uint8_t *>(data) + done,
              int(std::min(piece, bytes - done)), MPI_BYTE, 0, MPI_COMM_WORLD);
}

/// Whether a variable is part of the trained model's state (derived
/// variables are recomputed from the others).
static bool isKept(const rn_variable &variable) {
  return variable.role != RN_DERIVED;
}

void Ranks::broadcastVariables(const rn_program &program, Arena &arena) const {
  if (!distributed())
    return;
  arena.downloadVariables();
  for (int32_t i = 0; i < program.num_variables; ++i)
    if (isKept(program.variables[i]))
      broadcast(arena.variable(program.variables[i]),
                int64_t(sizeof(float)) * elementCount(program.variables[i]));
  arena.uploadVariables();
}

void Ranks::averageState(const rn_program &program, Arena &arena) const {
  if (!distributed())
    return;
  arena.downloadVariables();
  const float share = 1.0f / float(count);
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_STATE)
      continue;
    float *values = arena.variable(variable);
    auto n = int(elementCount(variable));
    MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int j = 0; j < n; ++j)
      values[j] *= share;
  }
  arena.uploadVariables();
}

void Ranks::checkIdentical(const rn_program &program, Arena &arena) const {
  if (!distributed())
    return;
  arena.downloadVariables();
  // FNV-1a over the bytes of every kept variable.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    if (!isKept(program.variables[i]))
      continue;
    const auto *bytes = reinterpret_cast<const uint8_t *>(
        arena.variable(program.variables[i]));
    int64_t n = int64_t(sizeof(float)) * elementCount(program.variables[i]);
    for (int64_t j = 0; j < n; ++j)
      hash = (hash ^ bytes[j]) * 0x100000001b3ull;
  }
  std::vector<uint64_t> hashes(static_cast<size_t>(count));
  MPI_Allgather(&hash, 1, MPI_UINT64_T, hashes.data(), 1, MPI_UINT64_T,
                MPI_COMM_WORLD);
  for (int r = 1; r < count; ++r)
    if (hashes[size_t(r)] != hashes[0])
      fail("rank {}'s weights differ from rank 0's: the ranks' all-reduce "
           "gave them different sums. Run with fewer ranks, or report this "
           "with the mpirun line",
           r);
}

void Ranks::abort(int status) const {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status); // MPI_Abort does not return; if it did, stop here
}

//===----------------------------------------------------------------------===//
// GradientReducer
//===----------------------------------------------------------------------===//

namespace {

/// Bytes [begin, end) that a dense host buffer covers.
std::pair<const uint8_t *, const uint8_t *> span(const halide_buffer_t &b) {
  int64_t last = 0;
  for (int32_t d = 0; d < b.dimensions; ++d)
    last += int64_t(b.dim[d].extent - 1) * b.dim[d].stride;
  const int64_t size = (b.type.bits + 7) / 8;
  return {b.host, b.host + (last + 1) * size};
}
} // namespace

TrainSites::TrainSites(const rn_program &program) {
  for (int32_t site = 0; site < program.num_kernel_sites; ++site) {
    train.push_back(
        std::strcmp(program.kernel_sites[site].step, RN_TRAIN_STEP) == 0);
    if (train.back()) {
      lastBackward = update;
      update = site;
    }
  }
  if (lastBackward < 0)
    fail("program {} lists no kernel calls of train_step, which training on "
         "several ranks or micro-batches needs; rebuild it with this resnetc",
         program.model_name);
}

GradientReducer::GradientReducer(const rn_program &program, Arena &arena,
                                 int64_t bucketBytes)
    : program(program), arena(arena), sites(program),
      gradients(arena.data() + program.gradients_offset) {

  // The parameters' places in the gradient run, which has their layout
  // (Program.h); the run may end in padding that no kernel writes.
  std::vector<Range> parameters;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_PARAMETER)
      continue;
    int64_t begin = variable.offset - program.parameters_offset;
    parameters.push_back(
        {begin, begin + int64_t(sizeof(float)) * elementCount(variable)});
  }
  std::sort(parameters.begin(), parameters.end(),
            [](const Range &a, const Range &b) { return a.begin < b.begin; });
  if (bucketBytes <= 0)
    bucketBytes =
        std::min<int64_t>(25 << 20, (program.parameters_bytes + 3) / 4);
  // The backward pass writes the last layers' gradients first: buckets are
  // cut from the end, each whole parameters.
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    if (bucketRanges.empty() ||
        bucketRanges.back().end - it->begin > bucketBytes) {
      bucketRanges.push_back(*it);
      expected.push_back(0);
    }
    bucketRanges.back().begin = it->begin;
    expected.back() += it->size();
  }
  written.assign(bucketRanges.size(), 0);
  started.assign(bucketRanges.size(), false);
  requests.assign(bucketRanges.size(), MPI_REQUEST_NULL);
  startTimes.assign(bucketRanges.size(), 0);
}

bool GradientReducer::synchronisesBatchNorm() const {
  for (int32_t site = 0; site < program.num_kernel_sites; ++site)
    if (program.kernel_sites[site].rank_sum != RN_RANK_SUM_NONE)
      return true;
  return false;
}

void GradientReducer::beginStep(int64_t localImages, int64_t globalImages) {
  scale = float(double(localImages) / double(globalImages));
  std::fill(written.begin(), written.end(), 0);
  std::fill(started.begin(), started.end(), false);
  reduced = false;
}

void GradientReducer::start(size_t bucket) {
  auto *values =
      reinterpret_cast<float *>(gradients + bucketRanges[bucket].begin);
  auto n = int((bucketRanges[bucket].end - bucketRanges[bucket].begin) /
               int64_t(sizeof(float)));
  if (scale != 1.0f)
    for (int i = 0; i < n; ++i)
      values[i] *= scale;
  startTimes[bucket] = MPI_Wtime();
  MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                 &requests[bucket]);
  started[bucket] = true;
}

void GradientReducer::sumOverRanks(halide_buffer_t &output, bool gradients) {
  const auto n = int64_t(output.number_of_elements());
  const double start = MPI_Wtime();
  // A GPU kernel's output is a view of the device arena: summed in host
  // memory.
  auto *values = reinterpret_cast<float *>(output.host);
  if (program.device_api) {
    scratch.resize(size_t(n));
    values = scratch.data();
    if (int status = copyViewToHost(output, values))
      fail("cannot copy synchronised BatchNorm's sums from the device "
           "(Halide error {})",
           status);
  }
  // A rank's gradients are in the scale of its mean loss: the global
  // batch's for the sum, then its own again for the kernels after.
  if (gradients)
    for (int64_t i = 0; i < n; ++i)
      values[i] *= scale;
  MPI_Allreduce(MPI_IN_PLACE, values, int(n), MPI_FLOAT, MPI_SUM,
                MPI_COMM_WORLD);
  if (gradients)
    for (int64_t i = 0; i < n; ++i)
      values[i] /= scale;
  if (program.device_api)
    if (int status = copyViewToDevice(values, output))
      fail("cannot copy synchronised BatchNorm's sums to the device "
           "(Halide error {})",
           status);
  totals.batchNormSeconds += MPI_Wtime() - start;
}

void GradientReducer::reduceThroughHost() {
  arena.synchronize(); // the backward pass, apart from the copies' time
  double copyStart = MPI_Wtime();
  for (size_t b = 0; b < bucketRanges.size(); ++b) {
    arena.download(program.gradients_offset + bucketRanges[b].begin,
                   bucketRanges[b].size());
    start(b);
  }
  totals.deviceCopySeconds += MPI_Wtime() - copyStart;
  waitAll();
  copyStart = MPI_Wtime();
  for (const Range &bucket : bucketRanges)
    arena.upload(program.gradients_offset + bucket.begin, bucket.size());
  totals.deviceCopySeconds += MPI_Wtime() - copyStart;
}

void GradientReducer::waitAll() {
  double waitStart = MPI_Wtime();
  for (size_t b = 0; b < requests.size(); ++b)
    if (requests[b] != MPI_REQUEST_NULL)
      totals.inFlightSeconds += waitStart - startTimes[b];
  MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
  totals.exposedSeconds += MPI_Wtime() - waitStart;
  reduced = true;
}

int32_t GradientReducer::afterKernel(int32_t site, halide_buffer_t *outputs,
                                     int32_t count) {
  if (!sites.contains(site))
    return 0;
  // Called from the step function's frame, so problems are returned, not
  // thrown: endStep() reports them.
  if (site == sites.update) {
    if (reduced)
      return 0;
    failure = fmt::format("kernel {} of train_step, the update, ran before "
                          "the gradients were all-reduced",
                          program.kernel_sites[site].kernel);
    return kReduceFailedStatus;
  }
  const rn_kernel_site &where = program.kernel_sites[site];
  try {
    if (where.rank_sum != RN_RANK_SUM_NONE)
      sumOverRanks(outputs[where.rank_sum_output],
                   where.rank_sum == RN_RANK_SUM_GRADIENTS);
    // A GPU program's views have no host bytes to count: its buckets go
    // once the backward pass is queued.
    if (program.device_api) {
      if (site == sites.lastBackward)
        reduceThroughHost();
      return 0;
    }
  } catch (...) {
    thrown = std::current_exception();
    return kReduceFailedStatus;
  }
  // Count the gradient bytes this kernel wrote, per bucket.
  const uint8_t *region = gradients;
  const uint8_t *regionEnd = gradients + program.parameters_bytes;
  for (int32_t i = 0; i < count; ++i) {
    auto [begin, end] = span(outputs[i]);
    if (end <= region || begin >= regionEnd)
      continue;
    for (size_t b = 0; b < bucketRanges.size(); ++b) {
      const uint8_t *lo = std::max(begin, region + bucketRanges[b].begin);
      const uint8_t *hi = std::min(end, region + bucketRanges[b].end);
      if (lo < hi)
        written[b] += hi - lo;
    }
  }
  for (size_t b = 0; b < bucketRanges.size(); ++b)
    if (!started[b] && written[b] >= expected[b])
      start(b);
  // Open MPI moves a non-blocking collective along only inside MPI calls.
  for (size_t b = 0; b < requests.size(); ++b)
    if (requests[b] != MPI_REQUEST_NULL) {
      int done = 0;
      double now = MPI_Wtime();
      MPI_Test(&requests[b], &done, MPI_STATUS_IGNORE);
      if (done)
        totals.inFlightSeconds += now - startTimes[b];
    }
  if (site != sites.lastBackward)
    return 0;
  // The next kernel is the update: every bucket must be on its way.
  for (size_t b = 0; b < bucketRanges.size(); ++b)
    if (!started[b]) {
      failure = fmt::format(
          "the backward pass wrote {} of the {} bytes of gradient bucket "
          "[{}, {}) before the update",
          written[b], expected[b], bucketRanges[b].begin,
          bucketRanges[b].end);
      return kReduceFailedStatus;
    }
  waitAll();
  return 0;
}

void GradientReducer::endStep(int32_t status) {
  if (thrown)
    std::rethrow_exception(std::exchange(thrown, nullptr));
  if (status == 0 && !reduced)
    failure = "train_step ended without reaching its update";
  if (!failure.empty())
    fail("{}: program {} cannot train on several ranks (a resnetc bug: "
         "please report it with the model)",
         failure, program.model_name);
  if (status == 0)
    ++totals.steps;
}

//===----------------------------------------------------------------------===//
// GradientAccumulator
//===----------------------------------------------------------------------===//

namespace {
/// What the hook returns to stop a micro-batch's step before its update.
constexpr int32_t kMicroBatchDone = 0x4d4221; // "MB!"
} // namespace

GradientAccumulator::GradientAccumulator(const rn_program &program,
                                         Arena &arena, int32_t microBatches)
    : program(program), arena(arena), microBatches(microBatches),
      sites(program),
      gradients(reinterpret_cast<float *>(arena.data() +
                                          program.gradients_offset)),
      sum(size_t(program.parameters_bytes) / sizeof(float)) {}

void GradientAccumulator::copyState(std::vector<float> &to) const {
  arena.downloadVariables();
  to.clear();
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_STATE)
      continue;
    const float *values = arena.variable(variable);
    to.insert(to.end(), values, values + elementCount(variable));
  }
}

void GradientAccumulator::setState(const std::vector<float> &from) {
  size_t next = 0;
  for (int32_t i = 0; i < program.num_variables; ++i) {
    const rn_variable &variable = program.variables[i];
    if (variable.role != RN_STATE)
      continue;
    std::copy_n(from.begin() + int64_t(next), elementCount(variable),
                arena.variable(variable));
    next += size_t(elementCount(variable));
  }
  arena.uploadVariables();
}

void GradientAccumulator::beginMicroBatch(int32_t micro, int64_t images,
                                          int64_t batchImages) {
  index = micro;
  scale = float(double(images) / double(batchImages));
  if (index == 0) {
    copyState(stateBefore);
    stateSum.assign(stateBefore.size(), 0.0f);
    return;
  }
  // Each micro-batch starts from the statistics the batch started from.
  copyState(scratch);
  for (size_t i = 0; i < scratch.size(); ++i)
    stateSum[i] += scratch[i];
  setState(stateBefore);
}

int32_t GradientAccumulator::endMicroBatch(int32_t status) {
  if (thrown)
    std::rethrow_exception(std::exchange(thrown, nullptr));
  if (index < microBatches - 1) {
    if (status == 0)
      fail("train_step of micro-batch {} ran its update, which the hook "
           "should have stopped: program {} cannot accumulate gradients (a "
           "resnetc bug: please report it with the model)",
           index + 1, program.model_name);
    if (status != kMicroBatchDone)
      return status;
    arena.downloadResults(); // the step stopped before it did
    return 0;
  }
  if (status)
    return status;
  copyState(scratch);
  const float share = 1.0f / float(microBatches);
  for (size_t i = 0; i < scratch.size(); ++i)
    scratch[i] = (stateSum[i] + scratch[i]) * share;
  setState(scratch);
  return 0;
}

int32_t GradientAccumulator::afterKernel(int32_t site,
                                         halide_buffer_t *outputs,
                                         int32_t count) {
  if (site != sites.lastBackward)
    return 0;
  try {
    arena.download(program.gradients_offset, program.parameters_bytes);
    const size_t n = sum.size();
    if (index == 0) {
      for (size_t i = 0; i < n; ++i)
        sum[i] = gradients[i] * scale;
    } else if (index < microBatches - 1) {
      for (size_t i = 0; i < n; ++i)
        sum[i] += gradients[i] * scale;
    } else {
      // As the all-reduce adds the ranks' scaled gradients.
      for (size_t i = 0; i < n; ++i)
        gradients[i] = sum[i] + gradients[i] * scale;
      arena.upload(program.gradients_offset, program.parameters_bytes);
      return 0;
    }
  } catch (...) {
    thrown = std::current_exception();
    return kReduceFailedStatus;
  }
  return kMicroBatchDone;
}

} // namespace resnetrt
