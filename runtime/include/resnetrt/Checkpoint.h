//===- Checkpoint.h - saving and resuming a training run --------*- C++ -*-===//
//
// A checkpoint holds everything a run needs to continue as if it had never
// stopped: every variable (parameters, BatchNorm state, optimizer slots) by
// name with its shape, where the run is in its data order, and what made
// the run what it is: the program's fingerprint (rn_program.fingerprint:
// its planned training module and kernel target) and every flag that shapes
// the trajectory (trajectoryFlags() in Flags.h), so that --resume refuses a
// checkpoint of another build or recipe, naming what differs. All randomness
// is counter-based (Random.h), so the run's seed is the whole generator
// state. Derived variables (RN_DERIVED, recomputed by prepare_eval) are
// neither saved nor loaded.
//
// File format (little-endian), version 3 (version 2, without the callback
// state and the best weights, is read too):
//   "RNCKPT\0\0"                    8-byte magic
//   u32 version
//   str model, str optimizer        (str: u32 length, then the bytes)
//   str target, str fingerprint     (rn_program's)
//   u32 flag count, then per flag: str name, str value
//   i64 step, i64 epoch, i64 batch in epoch
//   f64 epoch loss sum, i64 epoch correct, i64 epoch images
//   f64 best validation accuracy    (-1: none yet)
//   callbacks (Callbacks.h): f64 stop best, i64 stop wait, i64 best epoch,
//     u8 stopped, f64 plateau best, i64 plateau wait, i64 cooldown,
//     f64 learning-rate scale
//   u32 variable count, then per variable:
//     str name, i32 role, i32 rank, i64 shape[rank], f32 values[product]
//   u32 best-weights count (early stopping's restore_best; 0 without it),
//     then per variable: str name, f32 values[its variable's product]
//   u32 CRC-32 (zlib) of every byte before it
// Files are written to a temporary file in the same directory (PATH.tmp.PID),
// synced and renamed over the old one, and the directory is synced, so a
// crash at any moment leaves the previous checkpoint whole. With --keep=K
// the K-1 before it stay too, as PATH.1 (the newest) .. PATH.(K-1): each
// is moved (or, for PATH.1, hard-linked) into place with one rename, so PATH
// exists at every moment once the first save is done.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_CHECKPOINT_H
#define RESNETRT_CHECKPOINT_H

#include "resnetrt/Callbacks.h"
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
  CallbackState callbacks;
};

/// One flag's value as text, as trajectoryFlags() gives it.
struct FlagValue {
  std::string name, value;
  bool operator==(const FlagValue &other) const {
    return name == other.name && value == other.value;
  }
};

struct StoredVariable {
  std::string name;
  int32_t role = 0;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct CheckpointInfo {
  std::string model, optimizer;
  std::string target, fingerprint; ///< of the program that wrote it
  std::vector<FlagValue> flags;     ///< what shaped the run
  TrainingState state;
  /// The weights (parameters and BatchNorm state) of early stopping's best
  /// epoch, kept for restore_best; empty otherwise. Their roles and shapes
  /// are the program's.
  std::vector<StoredVariable> bestWeights;
};

struct Checkpoint {
  CheckpointInfo info;
  std::vector<StoredVariable> variables;
};

/// Writes the program's variables but the derived ones from the arena,
/// atomically, keeping the `keep` - 1 checkpoints before it (see above).
void saveCheckpoint(const std::string &path, const rn_program &program,
                    Arena &arena, const CheckpointInfo &info, int keep = 1);

/// Makes sure checkpoints can be written to `path` before a run starts:
/// creates its directory, tries a file there, and removes temporaries that
/// earlier processes killed in mid-write left behind. Throws an Error
/// naming the directory and the cause.
void prepareCheckpointPath(const std::string &path);

/// Reads and verifies (magic, version, checksum) a checkpoint file.
Checkpoint readCheckpoint(const std::string &path);
/// The same on the file's bytes (`path` names them in errors).
Checkpoint parseCheckpoint(const std::string &path, std::vector<uint8_t> data);

/// Reads a checkpoint, checks it is for this program (model, optimizer,
/// every variable's name, role and shape) and copies its variables into the
/// arena; derived variables are left as they are, on both sides. Throws an
/// Error that lists what does not match.
CheckpointInfo loadCheckpoint(const std::string &path,
                              const rn_program &program, Arena &arena);

} // namespace resnetrt

#endif // RESNETRT_CHECKPOINT_H
