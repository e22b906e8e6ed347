#include "server/api/progress_decoder.h"

#include <cstdio>
#include <ctime>

#include "control/sweep_request.h"

namespace trainyard::server {
namespace {

using nlohmann::json;

Result<TimePoint> ParseTimestamp(const json& value) {
  // The wrapper sends FormatIso8601's form; anything unreadable is taken as now.
  std::tm parts{};
  int milliseconds = 0;
  if (!value.is_string()) return std::chrono::system_clock::now();
  std::string text = value.get<std::string>();
  if (sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &parts.tm_year, &parts.tm_mon,
             &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &milliseconds) < 6) {
    return std::chrono::system_clock::now();
  }
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&parts)) +
         std::chrono::milliseconds(milliseconds);
}

}  // namespace

Result<metadata::ProgressUpdate> DecodeProgress(const json& body) {
  if (!body.is_object()) return InvalidArgument("the progress body must be a JSON object");
  metadata::ProgressUpdate update;
  if (body.contains("progress")) {
    if (!body["progress"].is_object()) {
      return control::FieldError("progress", "must be an object");
    }
    update.progress = body["progress"];
  }
  if (body.contains("metrics")) {
    const json& metrics = body["metrics"];
    if (!metrics.is_array()) return control::FieldError("metrics", "must be a list");
    for (size_t i = 0; i < metrics.size(); ++i) {
      const json& point = metrics[i];
      std::string field = "metrics[" + std::to_string(i) + "]";
      if (!point.is_object() || !point.contains("name") || !point["name"].is_string() ||
          !point.contains("value") || !point["value"].is_number()) {
        return control::FieldError(field, "needs a string name and a numeric value");
      }
      metadata::MetricPoint parsed;
      parsed.name = point["name"];
      parsed.value = point["value"];
      if (point.contains("step") && point["step"].is_number_integer()) {
        parsed.step = point["step"].get<int64_t>();
      }
      TY_ASSIGN_OR_RETURN(parsed.timestamp, ParseTimestamp(point.value("timestamp", json())));
      update.metrics.push_back(std::move(parsed));
    }
  }
  if (body.contains("log")) {
    const json& log = body["log"];
    if (!log.is_array()) return control::FieldError("log", "must be a list");
    for (size_t i = 0; i < log.size(); ++i) {
      const json& entry = log[i];
      if (!entry.is_object() || !entry.contains("line") || !entry["line"].is_string()) {
        return control::FieldError("log[" + std::to_string(i) + "]", "needs a string line");
      }
      metadata::LogLine line;
      line.stream = entry.contains("stream") && entry["stream"] == "stderr" ? "stderr" : "stdout";
      line.line = entry["line"];
      TY_ASSIGN_OR_RETURN(line.timestamp, ParseTimestamp(entry.value("timestamp", json())));
      update.log.push_back(std::move(line));
    }
  }
  return update;
}

}  // namespace trainyard::server
