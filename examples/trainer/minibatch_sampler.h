// Deterministic minibatches: shuffle the rows each epoch, then hand them out in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace trainyard::example {

class MinibatchSampler {
 public:
  MinibatchSampler(std::size_t dataset_size, std::uint64_t seed);

  // Up to batch_size row indices. A batch never spans two epochs, so the last batch of an epoch
  // may be smaller; every row is seen exactly once per epoch.
  std::span<const std::size_t> Next(std::size_t batch_size);

  // Rows handed out so far divided by the dataset size.
  double epochs() const;

 private:
  void Shuffle();

  // mt19937_64 is specified bit for bit by the standard, unlike std::shuffle and the standard
  // distributions, so the same seed gives the same batches with any compiler.
  std::mt19937_64 random_;
  std::vector<std::size_t> order_;
  std::size_t cursor_ = 0;
  std::size_t rows_seen_ = 0;
};

}  // namespace trainyard::example
