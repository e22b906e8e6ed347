// Text for the client commands' table output: aligned tables and the short forms of sizes,
// durations, progress and metrics that their cells hold.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::app {

// Rows under a header, each column as wide as its widest cell, two spaces apart.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string ToString() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "512 B", "1.5 KiB", "3.2 GiB".
std::string FormatBytes(int64_t bytes);
// "42s", "3m05s", "2h01m"; "-" for a negative value.
std::string FormatDuration(double seconds);
// A JSON value as a cell: strings bare, null/missing as "-", others as JSON.
std::string Cell(const nlohmann::json& object, const std::string& key);
// The job's progress 0..1 (its "progress" number, or the "progress" field of its snapshot);
// Completed counts as 1. nullopt when it reported none.
std::optional<double> JobProgress(const nlohmann::json& job);
// "Queued" for a job waiting for a slot, else its status.
std::string JobStatus(const nlohmann::json& job);
// "eval_accuracy=0.9512 loss=0.12"; "-" when there are none.
std::string MetricsText(const nlohmann::json& metrics);
// "[#######.............]  35%" for a fraction 0..1.
std::string ProgressBarText(double fraction, int width);
// "35%" for a fraction 0..1.
std::string PercentText(double fraction);
// "2 Completed, 1 Failed" from a {"Completed": 2, ...} object.
std::string CountsText(const nlohmann::json& counts);
// The jobs that have ended (Completed, Failed or Stopped) in such an object.
int64_t EndedJobCount(const nlohmann::json& counts);
// The number of jobs a sweep answer describes, whichever of its fields says it (its `jobs`
// list, `job_count`, or the sum of its `counts`); nullopt when none does.
std::optional<int64_t> SweepJobCount(const nlohmann::json& sweep);
// The whole job list as a table: NAME STATUS SECONDARY PROGRESS METRICS DURATION.
std::string JobsTable(const nlohmann::json& jobs);

}  // namespace trainyard::app
