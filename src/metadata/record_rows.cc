#include "metadata/record_rows.h"

#include <algorithm>
#include <limits>

namespace trainyard::metadata {

using nlohmann::json;

int64_t ToMillis(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

TimePoint FromMillis(int64_t millis) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(millis)));
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseJson(const std::string& text, std::string_view what) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Internal(std::string(what) + ": stored value is not valid JSON");
  }
  return value;
}

std::string DumpStringMap(const std::map<std::string, std::string>& map) {
  return DumpJson(json(map));
}

std::string DumpMetricMap(const std::map<std::string, double>& map) {
  return DumpJson(json(map));
}

std::vector<MetricPoint> MergeMetricPoints(const std::vector<MetricPoint>& points, size_t max_names,
                                           std::map<std::string, double>& latest,
                                           uint64_t& dropped) {
  std::vector<MetricPoint> kept;
  kept.reserve(points.size());
  for (const MetricPoint& point : points) {
    if (max_names != 0 && latest.size() >= max_names && !latest.contains(point.name)) {
      ++dropped;
      continue;
    }
    latest[point.name] = point.value;
    kept.push_back(point);
  }
  return kept;
}

Result<std::map<std::string, double>> ParseMetricMap(const std::string& text,
                                                     std::string_view what) {
  TY_ASSIGN_OR_RETURN(json value, ParseJson(text, what));
  if (!value.is_object()) return Internal(std::string(what) + ": not an object");
  std::map<std::string, double> map;
  for (const auto& [key, number] : value.items()) {
    if (number.is_null()) {
      map[key] = std::numeric_limits<double>::quiet_NaN();
    } else if (number.is_number()) {
      map[key] = number.get<double>();
    } else {
      return Internal(std::string(what) + ": metric '" + key + "' is not a number");
    }
  }
  return map;
}

json MetricPointJson(const MetricPoint& point) {
  json entry = {{"name", point.name}, {"value", point.value}};
  if (point.step) entry["step"] = *point.step;
  entry["timestamp"] = FormatIso8601(point.timestamp);
  return entry;
}

std::optional<ClaimResult::Outcome> ReachedLimit(const std::vector<RunningJob>& running,
                                                 const JobRecord& job, const ClaimLimits& limits) {
  int all = 0, executor = 0, sweep = 0;
  for (const RunningJob& other : running) {
    if (std::find(limits.ending.begin(), limits.ending.end(), other.name) != limits.ending.end()) {
      continue;
    }
    ++all;
    if (other.executor == job.executor) ++executor;
    if (other.sweep_id == job.sweep_id) ++sweep;
  }
  if (limits.max_running > 0 && all >= limits.max_running) {
    return ClaimResult::Outcome::kAtMaxRunning;
  }
  if (limits.executor_limit > 0 && executor >= limits.executor_limit) {
    return ClaimResult::Outcome::kAtExecutorLimit;
  }
  if (limits.sweep_limit > 0 && sweep >= limits.sweep_limit) {
    return ClaimResult::Outcome::kAtSweepLimit;
  }
  return std::nullopt;
}

}  // namespace trainyard::metadata
