#include "app/results_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/sweep.h"

namespace trainyard::app {

namespace {

std::optional<double> MetricOf(const JobResult& result, const std::string& metric) {
  if (!result.description) return std::nullopt;
  auto it = result.description->metrics.find(metric);
  if (it == result.description->metrics.end()) return std::nullopt;
  return it->second;
}

std::string FormatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

std::string StatusText(const JobResult& result) {
  if (!result.description) return "NotStarted";
  const core::JobStatusTracker& status = result.description->status;
  if (status.status() == core::JobStatus::kStopped &&
      status.secondary_status() == core::SecondaryStatus::kMaxRuntimeExceeded) {
    return "Stopped (MaxRuntimeExceeded)";
  }
  return core::ToString(status.status());
}

}  // namespace

void SortBestFirst(std::vector<JobResult>& results,
                   const std::optional<core::Objective>& objective) {
  if (!objective) return;
  std::stable_sort(results.begin(), results.end(), [&](const JobResult& a, const JobResult& b) {
    auto left = MetricOf(a, objective->metric), right = MetricOf(b, objective->metric);
    if (!left || !right) return left.has_value() && !right.has_value();
    return objective->minimize() ? *left < *right : *left > *right;
  });
}

std::string FormatResultsTable(const std::vector<JobResult>& results,
                               const std::optional<core::Objective>& objective) {
  std::vector<core::HyperparameterMap> all;
  std::set<std::string> metric_names;
  for (const JobResult& result : results) {
    all.push_back(result.hyperparameters);
    if (result.description) {
      for (const auto& [name, value] : result.description->metrics) metric_names.insert(name);
    }
  }
  std::vector<std::string> varying = core::VaryingKeys(all);
  std::vector<std::string> metrics;
  if (objective && metric_names.count(objective->metric)) metrics.push_back(objective->metric);
  for (const std::string& name : metric_names) {
    if (!objective || name != objective->metric) metrics.push_back(name);
  }

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"JOB", "STATUS"};
  header.insert(header.end(), varying.begin(), varying.end());
  header.insert(header.end(), metrics.begin(), metrics.end());
  header.push_back("DURATION");
  rows.push_back(header);
  for (const JobResult& result : results) {
    std::vector<std::string> row = {result.job_name, StatusText(result)};
    for (const std::string& key : varying) {
      auto it = result.hyperparameters.find(key);
      row.push_back(it == result.hyperparameters.end() ? "-" : it->second);
    }
    for (const std::string& metric : metrics) {
      auto value = MetricOf(result, metric);
      row.push_back(value ? FormatNumber(*value) : "-");
    }
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.1fs", result.duration_seconds);
    row.push_back(result.description ? duration : "-");
    rows.push_back(row);
  }

  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string table;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    table += line + "\n";
  }
  return table;
}

}  // namespace trainyard::app
