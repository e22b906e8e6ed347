// The progress file: JSON Lines that the ML code appends to (docs/job-json.md#progress-file).
//
// Each line is an object with any of "progress" (0..1), "step", "total_steps", "epoch",
// "message" and "metrics" {name: number}. The writer is someone else's code, so the reader
// trusts nothing: torn lines wait for their newline, invalid lines are skipped and counted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard::contract {

struct ProgressRecord {
  std::optional<double> progress;
  std::optional<int64_t> step;
  std::optional<int64_t> total_steps;
  std::optional<double> epoch;
  std::optional<std::string> message;
  std::map<std::string, double> metrics;
};

// One line; nullopt when it is not a JSON object or a known field has the wrong type or range.
// Non-numeric metric values are dropped one by one (the rest of the line still counts).
std::optional<ProgressRecord> ParseProgressLine(std::string_view line);

// The latest value of each progress field, merged record by record.
struct ProgressSnapshot {
  std::optional<double> progress;
  std::optional<int64_t> step;
  std::optional<int64_t> total_steps;
  std::optional<double> epoch;
  std::optional<std::string> message;

  void Merge(const ProgressRecord& record);
  bool empty() const { return !progress && !step && !total_steps && !epoch && !message; }
  nlohmann::json ToJson() const;
};

// Reads what was appended since the last call. Not thread-safe.
class ProgressFileReader {
 public:
  explicit ProgressFileReader(std::filesystem::path path) : path_(std::move(path)) {}

  // New complete records. With `at_end` a last line without its newline counts too (the writer
  // has exited, so it will never be finished). A missing file is simply no news.
  std::vector<ProgressRecord> ReadNew(bool at_end = false);
  uint64_t skipped_lines() const { return skipped_lines_; }

 private:
  std::filesystem::path path_;
  uint64_t offset_ = 0;
  std::string partial_line_;
  uint64_t skipped_lines_ = 0;
};

}  // namespace trainyard::contract
