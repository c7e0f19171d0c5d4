//===- Checkpoint.h - saving and resuming a training run --------*- C++ -*-===//
//
// A checkpoint holds everything a run needs to continue as if it had never
// stopped: every variable (parameters, BatchNorm state, optimizer slots) by
// name with its shape, where the run is in its data order, and the settings
// that decide that order. All randomness is counter-based (Random.h), so the
// run's seed is the whole generator state. Derived variables (RN_DERIVED,
// recomputed by prepare_eval) are neither saved nor loaded.
//
// File format (little-endian), version 1:
//   "RNCKPT\0\0"                    8-byte magic
//   u32 version
//   str model, str optimizer        (str: u32 length, then the bytes)
//   u64 seed, i32 batch, f64 validation split
//   i64 step, i64 epoch, i64 batch in epoch
//   f64 epoch loss sum, i64 epoch correct, i64 epoch images
//   f64 best validation accuracy    (-1: none yet)
//   u32 variable count, then per variable:
//     str name, i32 role, i32 rank, i64 shape[rank], f32 values[product]
//   u32 CRC-32 (zlib) of every byte before it
// Files are written to a temporary file in the same directory, synced and
// renamed over the old one, so a crash leaves the previous checkpoint whole.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_CHECKPOINT_H
#define RESNETRT_CHECKPOINT_H

#include "resnetrt/Program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace resnetrt {

class Arena;

/// Where a run is: what has been done, and the running totals of the epoch
/// in progress (for its report).
struct TrainingState {
  int64_t step = 0;         ///< optimizer steps done
  int64_t epoch = 0;        ///< 0-based epoch in progress
  int64_t batchInEpoch = 0; ///< batches of that epoch done
  double epochLossSum = 0;  ///< sum over those batches of the batch loss
  int64_t epochCorrect = 0;
  int64_t epochImages = 0;
  double bestValAccuracy = -1;
};

struct CheckpointInfo {
  std::string model, optimizer;
  uint64_t seed = 0;
  int32_t batch = 0;
  double validationSplit = 0;
  TrainingState state;
};

struct StoredVariable {
  std::string name;
  int32_t role = 0;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct Checkpoint {
  CheckpointInfo info;
  std::vector<StoredVariable> variables;
};

/// Writes the program's variables but the derived ones from the arena,
/// atomically.
void saveCheckpoint(const std::string &path, const rn_program &program,
                    Arena &arena, const CheckpointInfo &info);

/// Reads and verifies (magic, version, checksum) a checkpoint file.
Checkpoint readCheckpoint(const std::string &path);

/// Reads a checkpoint, checks it is for this program (model, optimizer,
/// every variable's name, role and shape) and copies its variables into the
/// arena; derived variables are left as they are, on both sides. Throws an
/// Error that lists what does not match.
CheckpointInfo loadCheckpoint(const std::string &path,
                              const rn_program &program, Arena &arena);

} // namespace resnetrt

#endif // RESNETRT_CHECKPOINT_H
