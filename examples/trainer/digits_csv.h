// Loading the digits CSV format: no header, 64 pixel values (0-16, an 8x8 image), then the label.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <vector>

namespace trainyard::example {

inline constexpr int kDigitFeatures = 64;
inline constexpr int kDigitClasses = 10;
// Pixels are 0..16; dividing keeps features in [0, 1] so one learning rate suits every pixel.
inline constexpr double kPixelScale = 16.0;

using FeatureVector = std::array<double, kDigitFeatures>;

struct DigitsDataset {
  std::vector<FeatureVector> features;  // already scaled by 1/kPixelScale
  std::vector<int> labels;              // 0..9, one per row of features

  std::size_t size() const { return labels.size(); }
  void Append(const DigitsDataset& other);
};

// Throws std::runtime_error naming the file and 1-based line number of the first malformed line.
// Blank lines are skipped so a trailing newline or CRLF endings do not matter.
DigitsDataset LoadDigitsCsv(const std::filesystem::path& path);

}  // namespace trainyard::example
