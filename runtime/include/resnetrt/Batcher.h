//===- Batcher.h - batches prepared ahead of the compute --------*- C++ -*-===//
//
// A Batcher turns a pass over a data set (an order of image indices, a batch
// size, training or evaluation) into batches of model inputs on a
// background thread, a few batches ahead of the consumer, so that
// augmentation overlaps the training step. The consumer copies each batch
// into the arena's image and label slots; the copy is small next to a step.
//
// A batch's contents depend only on the pass (its order, seed and epoch),
// never on which thread prepared it or when.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_BATCHER_H
#define RESNETRT_BATCHER_H

#include "resnetrt/Augment.h"
#include "resnetrt/Data.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace resnetrt {

class Arena;

/// The training and validation indices of a training set of `count` images:
/// `fraction` of them, drawn with a fixed seed (the split never changes
/// between runs), are held out. Both lists are in increasing order.
struct TrainValidation {
  std::vector<int64_t> train, validation;
};
TrainValidation splitValidation(int64_t count, double fraction);

/// `indices` in the order of epoch `epoch` of a run seeded `seed`.
std::vector<int64_t> epochOrder(std::vector<int64_t> indices, uint64_t seed,
                                int64_t epoch);

/// 0, 1, .., count - 1.
std::vector<int64_t> allIndices(int64_t count);

/// One pass over images of a data set.
struct Pass {
  const Dataset *data = nullptr;
  std::vector<int64_t> order; ///< indices into data, in batch order
  int32_t batch = 1;
  /// Training: random augmentation keyed by (seed, epoch, image index), and
  /// only full batches. Evaluation: the deterministic transform, and a
  /// smaller last batch.
  bool training = false;
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t firstBatch = 0; ///< batches of the pass to skip (resuming)
  /// The images [shardBegin, shardEnd) of each batch of a training pass
  /// (whose batches are full) are the ones yielded:
  /// this rank's shard of a global batch (Distributed.h). -1: all.
  int32_t shardBegin = 0, shardEnd = -1;

  /// Batches the pass yields, counting the skipped ones.
  int64_t batches() const;
};

class Batcher {
public:
  /// Prepares up to `depth` batches of up to `maxBatch` images ahead.
  Batcher(const Augmenter &augmenter, int32_t maxBatch, int32_t depth = 3);
  ~Batcher();
  Batcher(const Batcher &) = delete;
  Batcher &operator=(const Batcher &) = delete;

  /// Starts a pass, abandoning the one in flight.
  void start(Pass pass);
  /// Copies the next batch of the pass, n images, into the arena's image
  /// and label slots for a call with batch n, and returns n; 0 once the pass
  /// is over.
  int32_t next(Arena &arena);
  /// Stops the background thread (start() restarts it).
  void stop();

private:
  struct Slot {
    std::vector<float> images;
    std::vector<int32_t> labels;
    int32_t count = 0;
    bool full = false;
  };
  void produce();

  const Augmenter &augmenter;
  const size_t sampleFloats;
  std::vector<Slot> slots;
  Pass pass;
  int64_t consumed = 0; ///< batches handed out (after firstBatch)
  std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
  std::thread worker;
};

} // namespace resnetrt

#endif // RESNETRT_BATCHER_H
