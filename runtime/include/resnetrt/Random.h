//===- Random.h - counter-based randomness ----------------------*- C++ -*-===//
//
// Every random choice of a run (the shuffle of an epoch, the crop of one
// sample, the initial value of a weight, the dropout seed of a step) is drawn
// from a generator seeded by a hash of (run seed, purpose, counters), never
// from a generator carried across the run. So a result depends only on where
// it is in the run, not on thread timing or on what ran before it, and a
// resumed run needs no generator state beyond the run's seed.
//
// The generators are written out here rather than taken from <random>,
// whose distributions differ between standard libraries.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_RANDOM_H
#define RESNETRT_RANDOM_H

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace resnetrt {

/// What a stream of random numbers is for; part of every stream's key so
/// that two purposes never share numbers.
enum class Stream : uint64_t {
  Shuffle = 1,
  Augment,
  StepSeed,
  Init,
  ValidationSplit,
  Synthetic
};

/// splitmix64's finaliser: a bijection of 64-bit words that mixes every input
/// bit into every output bit.
uint64_t mix64(uint64_t x);

/// A key for a stream: mixes the words in order.
uint64_t streamKey(Stream stream, std::initializer_list<uint64_t> words);

/// FNV-1a of a string, to key a stream by a variable's name.
uint64_t hashName(std::string_view name);

/// xoshiro256**: small, fast, and the same numbers everywhere.
class Rng {
public:
  explicit Rng(uint64_t key);
  uint64_t next();
  /// Uniform in [0, 1), 53 random bits.
  double uniform();
  /// Uniform integer in [0, n); n > 0. Unbiased (Lemire's method).
  uint64_t below(uint64_t n);
  /// Standard normal (Box-Muller, one value per two uniforms).
  double normal();

private:
  uint64_t state[4];
};

} // namespace resnetrt

#endif // RESNETRT_RANDOM_H
