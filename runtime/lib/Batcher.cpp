//===- Batcher.cpp - batches prepared ahead of the compute ----------------===//

#include "resnetrt/Batcher.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Random.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace resnetrt {

std::vector<int64_t> allIndices(int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), 0);
  return indices;
}

/// Fisher-Yates with our own generator, so the order is the same with every
/// standard library.
static void shuffle(std::vector<int64_t> &indices, uint64_t key) {
  Rng rng(key);
  for (size_t i = indices.size(); i > 1; --i)
    std::swap(indices[i - 1], indices[rng.below(i)]);
}

TrainValidation splitValidation(int64_t count, double fraction) {
  std::vector<int64_t> indices = allIndices(count);
  // A constant key: the held-out images stay the same whatever --seed is,
  // so validation scores of different runs compare.
  shuffle(indices, streamKey(Stream::ValidationSplit, {}));
  auto held = int64_t(double(count) * fraction);
  TrainValidation split;
  split.validation.assign(indices.begin(), indices.begin() + held);
  split.train.assign(indices.begin() + held, indices.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

std::vector<int64_t> epochOrder(std::vector<int64_t> indices, uint64_t seed,
                                int64_t epoch) {
  shuffle(indices, streamKey(Stream::Shuffle, {seed, uint64_t(epoch)}));
  return indices;
}

int64_t Pass::batches() const {
  auto count = int64_t(order.size());
  return training ? count / batch : (count + batch - 1) / batch;
}

Batcher::Batcher(const Augmenter &augmenter, int32_t maxBatch, int32_t depth)
    : augmenter(augmenter),
      sampleFloats(size_t(augmenter.outputShape().height) *
                   augmenter.outputShape().width *
                   augmenter.outputShape().channels),
      slots(size_t(depth)) {
  for (Slot &slot : slots) {
    slot.images.resize(sampleFloats * maxBatch);
    slot.labels.resize(size_t(maxBatch));
  }
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  if (worker.joinable())
    worker.join();
}

void Batcher::start(Pass next) {
  stop();
  pass = std::move(next);
  consumed = 0;
  for (Slot &slot : slots)
    slot.full = false;
  stopping = false;
  worker = std::thread([this] { produce(); });
}

void Batcher::produce() {
  const int64_t end = pass.batches();
  for (int64_t b = pass.firstBatch; b < end; ++b) {
    Slot &slot = slots[size_t(b - pass.firstBatch) % slots.size()];
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return stopping || !slot.full; });
      if (stopping)
        return;
    }
    // The consumer leaves a slot alone until it is marked full.
    size_t first = size_t(b) * pass.batch;
    size_t count = std::min(pass.order.size() - first, size_t(pass.batch));
    if (pass.shardEnd >= 0) {
      first += size_t(pass.shardBegin);
      count = size_t(pass.shardEnd - pass.shardBegin);
    }
    for (size_t i = 0; i < count; ++i) {
      int64_t index = pass.order[first + i];
      uint64_t key =
          pass.training
              ? streamKey(Stream::Augment,
                          {pass.seed, uint64_t(pass.epoch), uint64_t(index)})
              : 0;
      augmenter.apply(pass.data->image(index),
                      slot.images.data() + i * sampleFloats, pass.training,
                      key);
      slot.labels[i] = pass.data->labels[size_t(index)];
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      slot.count = int32_t(count);
      slot.full = true;
    }
    changed.notify_all();
  }
}

int32_t Batcher::next(Arena &arena) {
  if (pass.firstBatch + consumed >= pass.batches())
    return 0;
  Slot &slot = slots[size_t(consumed) % slots.size()];
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return slot.full; });
  }
  int32_t count = slot.count;
  std::memcpy(arena.images(count), slot.images.data(),
              sizeof(float) * sampleFloats * count);
  std::memcpy(arena.labels(count), slot.labels.data(), sizeof(int32_t) * count);
  arena.uploadBatch(count);
  {
    std::lock_guard<std::mutex> lock(mutex);
    slot.full = false;
  }
  changed.notify_all();
  ++consumed;
  return count;
}

} // namespace resnetrt
