//===- Random.cpp - counter-based randomness for reproducible runs --------===//
//
// splitmix64 (Steele, Lea and Flood) mixes keys and seeds xoshiro256**
// (Blackman and Vigna), as the latter's authors recommend.
//
//===----------------------------------------------------------------------===//

#include "resnetrt/Random.h"

#include <cmath>

namespace resnetrt {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t streamKey(Stream stream, std::initializer_list<uint64_t> words) {
  uint64_t key = mix64(static_cast<uint64_t>(stream));
  for (uint64_t word : words)
    key = mix64(key ^ word);
  return key;
}

uint64_t hashName(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : name)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

Rng::Rng(uint64_t key) {
  for (uint64_t &word : state) {
    key = mix64(key);
    word = key;
  }
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next() {
  uint64_t result = rotl(state[1] * 5, 7) * 9;
  uint64_t t = state[1] << 17;
  state[2] ^= state[0];
  state[3] ^= state[1];
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = rotl(state[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t n) {
  // Lemire: the high word of x * n is uniform once the low word is past the
  // short interval that would bias it.
  unsigned __int128 product = (unsigned __int128)next() * n;
  uint64_t low = uint64_t(product);
  if (low < n) {
    uint64_t threshold = -n % n;
    while (low < threshold) {
      product = (unsigned __int128)next() * n;
      low = uint64_t(product);
    }
  }
  return uint64_t(product >> 64);
}

double Rng::normal() {
  // 1 - uniform() is in (0, 1], so the log is finite.
  double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  return radius * std::cos(2.0 * M_PI * uniform());
}

} // namespace resnetrt
