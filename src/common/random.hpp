#pragma once
// Injected randomness: jitter uses a seeded generator in tests, identifiers use a CSPRNG.
#include <cstdint>
#include <random>

namespace cg {

class Random {
  public:
    virtual ~Random() = default;
    // Uniform double in [0, 1). Not required to be thread-safe; use one per thread.
    virtual double uniform() = 0;
};

class SeededRandom final : public Random {
  public:
    explicit SeededRandom(uint64_t seed) : gen_(seed) {}
    double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(gen_); }

  private:
    std::mt19937_64 gen_;
};

}  // namespace cg
