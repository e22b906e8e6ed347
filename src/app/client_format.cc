#include "app/client_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trainyard::app {

std::string TextTable::ToString() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    text += line + "\n";
  }
  return text;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "-";
  auto total = static_cast<int64_t>(std::llround(seconds));
  char text[32];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(total));
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total % 3600 / 60));
  }
  return text;
}

std::string Cell(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return "-";
  const nlohmann::json& value = object[key];
  if (value.is_string()) return value.get<std::string>().empty() ? "-" : value.get<std::string>();
  return value.dump();
}

std::optional<double> JobProgress(const nlohmann::json& job) {
  if (job.value("status", "") == "Completed") return 1.0;
  if (!job.contains("progress")) return std::nullopt;
  const nlohmann::json& progress = job["progress"];
  if (progress.is_number()) return progress.get<double>();
  if (progress.is_object() && progress.contains("progress") && progress["progress"].is_number()) {
    return progress["progress"].get<double>();
  }
  return std::nullopt;
}

std::string JobStatus(const nlohmann::json& job) {
  if (job.value("queued", false)) return "Queued";
  return Cell(job, "status");
}

std::string MetricsText(const nlohmann::json& metrics) {
  if (!metrics.is_object() || metrics.empty()) return "-";
  std::string text;
  for (const auto& [name, value] : metrics.items()) {
    if (!text.empty()) text += " ";
    if (value.is_number()) {
      char number[64];
      std::snprintf(number, sizeof number, "%.4g", value.get<double>());
      text += name + "=" + number;
    } else {
      text += name + "=" + value.dump();
    }
  }
  return text;
}

std::string ProgressBarText(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  int filled = static_cast<int>(std::lround(fraction * width));
  char percent[8];
  std::snprintf(percent, sizeof percent, "%4d%%", static_cast<int>(std::lround(fraction * 100)));
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]" + percent;
}

std::string PercentText(double fraction) {
  return std::to_string(static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 100))) + "%";
}

int64_t EndedJobCount(const nlohmann::json& counts) {
  int64_t ended = 0;
  for (const char* status : {"Completed", "Failed", "Stopped"}) {
    if (counts.is_object() && counts.contains(status) && counts[status].is_number_integer()) {
      ended += counts[status].get<int64_t>();
    }
  }
  return ended;
}

std::optional<int64_t> SweepJobCount(const nlohmann::json& sweep) {
  if (sweep.contains("jobs") && sweep["jobs"].is_array()) return sweep["jobs"].size();
  for (const char* key : {"job_count", "jobs"}) {
    if (sweep.contains(key) && sweep[key].is_number_integer()) return sweep[key].get<int64_t>();
  }
  if (sweep.contains("counts") && sweep["counts"].is_object()) {
    int64_t total = 0;
    for (const auto& [status, count] : sweep["counts"].items()) {
      if (count.is_number_integer()) total += count.get<int64_t>();
    }
    return total;
  }
  return std::nullopt;
}

std::string CountsText(const nlohmann::json& counts) {
  if (!counts.is_object()) return "-";
  std::string text;
  for (const auto& [status, count] : counts.items()) {
    if (!count.is_number() || count.get<double>() == 0) continue;
    if (!text.empty()) text += ", ";
    text += count.dump() + " " + status;
  }
  return text.empty() ? "-" : text;
}

std::string JobsTable(const nlohmann::json& jobs) {
  TextTable table({"NAME", "STATUS", "SECONDARY", "PROGRESS", "METRICS", "DURATION"});
  for (const nlohmann::json& job : jobs) {
    std::optional<double> progress = JobProgress(job);
    std::string percent = progress ? PercentText(*progress) : "-";
    std::string duration = job.contains("duration_seconds") && job["duration_seconds"].is_number()
                               ? FormatDuration(job["duration_seconds"].get<double>())
                               : "-";
    table.AddRow({Cell(job, "name"), JobStatus(job), Cell(job, "secondary_status"), percent,
                  MetricsText(job.value("metrics", nlohmann::json::object())), duration});
  }
  return table.ToString();
}

}  // namespace trainyard::app
