#include "minibatch_sampler.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace trainyard::example {

MinibatchSampler::MinibatchSampler(std::size_t dataset_size, std::uint64_t seed)
    : random_(seed), order_(dataset_size) {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  Shuffle();
}

std::span<const std::size_t> MinibatchSampler::Next(std::size_t batch_size) {
  if (order_.empty()) return {};
  if (cursor_ == order_.size()) {
    Shuffle();
    cursor_ = 0;
  }
  const std::size_t count = std::min(batch_size, order_.size() - cursor_);
  const std::span<const std::size_t> batch(order_.data() + cursor_, count);
  cursor_ += count;
  rows_seen_ += count;
  return batch;
}

double MinibatchSampler::epochs() const {
  return order_.empty() ? 0.0
                        : static_cast<double>(rows_seen_) / static_cast<double>(order_.size());
}

void MinibatchSampler::Shuffle() {
  // Fisher-Yates; the modulo bias is far below anything that matters for picking minibatches.
  for (std::size_t i = order_.size(); i > 1; --i) {
    std::swap(order_[i - 1], order_[random_() % i]);
  }
}

}  // namespace trainyard::example
