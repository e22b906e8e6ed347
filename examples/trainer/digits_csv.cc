#include "digits_csv.h"

#include <charconv>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trainyard::example {
namespace {

std::string_view Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

bool ParseNumber(std::string_view text, double& value) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  return result.ec == std::errc() && result.ptr == end;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.push_back(Trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

// Returns an empty string when the line is valid, otherwise what is wrong with it.
std::string ParseRow(std::string_view line, FeatureVector& features, int& label) {
  const auto fields = SplitFields(line);
  if (fields.size() != kDigitFeatures + 1) {
    return "expected " + std::to_string(kDigitFeatures + 1) +
           " comma-separated values (64 pixels, then the label), found " +
           std::to_string(fields.size());
  }
  for (int column = 0; column < kDigitFeatures; ++column) {
    double pixel = 0;
    if (!ParseNumber(fields[column], pixel) || pixel < 0 || pixel > kPixelScale) {
      return "column " + std::to_string(column + 1) +
             ": pixel value must be a number from 0 to 16, got '" + std::string(fields[column]) +
             "'";
    }
    features[column] = pixel / kPixelScale;
  }
  double label_value = 0;
  const auto label_text = fields[kDigitFeatures];
  if (!ParseNumber(label_text, label_value) || label_value != static_cast<int>(label_value) ||
      label_value < 0 || label_value >= kDigitClasses) {
    return "column 65: label must be an integer from 0 to 9, got '" + std::string(label_text) + "'";
  }
  label = static_cast<int>(label_value);
  return {};
}

}  // namespace

void DigitsDataset::Append(const DigitsDataset& other) {
  features.insert(features.end(), other.features.begin(), other.features.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
}

DigitsDataset LoadDigitsCsv(const std::filesystem::path& path) {
  std::ifstream input(path);
  if (!input) throw std::runtime_error("cannot open " + path.string());
  DigitsDataset dataset;
  std::string line;
  for (int line_number = 1; std::getline(input, line); ++line_number) {
    if (Trim(line).empty()) continue;
    FeatureVector features{};
    int label = 0;
    if (const auto problem = ParseRow(line, features, label); !problem.empty()) {
      throw std::runtime_error(path.string() + ":" + std::to_string(line_number) + ": " + problem);
    }
    dataset.features.push_back(features);
    dataset.labels.push_back(label);
  }
  if (input.bad()) throw std::runtime_error("error reading " + path.string());
  return dataset;
}

}  // namespace trainyard::example
