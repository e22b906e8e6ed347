#include "contract/progress_body.h"

#include <chrono>
#include <limits>

namespace trainyard::contract {
namespace {

using nlohmann::json;

Status FieldError(const std::string& field, const std::string& reason) {
  return InvalidArgument("field '" + field + "': " + reason);
}

const char* StreamName(LogStream stream) {
  return stream == LogStream::kStderr ? "stderr" : "stdout";
}

// The member `key` of the object `value`, or null when it has none.
const json& Member(const json& value, const char* key) {
  static const json kAbsent;
  auto found = value.find(key);
  return found == value.end() ? kAbsent : *found;
}

TimePoint ReadTimestamp(const json& value) {
  if (value.is_string()) {
    if (auto time = ParseIso8601(value.get_ref<const std::string&>())) return *time;
  }
  return std::chrono::system_clock::now();
}

std::optional<uint64_t> ReadCount(const json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  return value.get<uint64_t>();
}

std::optional<ProgressExit> ReadExit(const json& value) {
  if (!value.is_object()) return std::nullopt;
  const json& code = Member(value, "code");
  if (!code.is_number_integer()) return std::nullopt;
  bool fits = code.is_number_unsigned()
                  ? code.get<uint64_t>() <= uint64_t{std::numeric_limits<int>::max()}
                  : code.get<int64_t>() >= std::numeric_limits<int>::min();
  if (!fits) return std::nullopt;
  ProgressExit exit{.code = static_cast<int>(code.get<int64_t>())};
  const json& signal = Member(value, "signal");
  if (signal.is_string()) exit.signal = signal.get<std::string>();
  return exit;
}

}  // namespace

json EncodeProgressBody(const ProgressBody& body) {
  json metrics = json::array();
  for (const ProgressMetric& point : body.metrics) {
    json entry = {{"name", point.name},
                  {"value", point.value},
                  {"timestamp", FormatIso8601(point.timestamp)}};
    if (point.step) entry["step"] = *point.step;
    metrics.push_back(std::move(entry));
  }
  json log = json::array();
  for (const ProgressLogLine& line : body.log) {
    log.push_back({{"stream", StreamName(line.stream)},
                   {"line", line.line},
                   {"timestamp", FormatIso8601(line.timestamp)}});
  }
  json encoded = {{"schema", kProgressSchema},     {"job_name", body.job_name},
                  {"sequence", body.sequence},     {"sent_at", FormatIso8601(body.sent_at)},
                  {"metrics", std::move(metrics)}, {"log", std::move(log)}};
  if (body.progress) encoded["progress"] = *body.progress;
  if (body.dropped_log_lines) encoded["dropped_log_lines"] = body.dropped_log_lines;
  if (body.dropped_metric_points) encoded["dropped_metric_points"] = body.dropped_metric_points;
  if (body.exit) {
    json exit = {{"code", body.exit->code}};
    if (body.exit->signal) exit["signal"] = *body.exit->signal;
    encoded["exit"] = std::move(exit);
  }
  return encoded;
}

namespace {

// The snapshot's fields within the progress file's ranges (docs/job-json.md), which the wrapper
// keeps: a body outside them was not sent by trainyard-wrap.
Status CheckProgressSnapshot(const json& progress) {
  if (!progress.is_object()) return FieldError("progress", "must be an object");
  if (auto it = progress.find("progress"); it != progress.end()) {
    if (!it->is_number() || !(it->get<double>() >= 0.0 && it->get<double>() <= 1.0)) {
      return FieldError("progress.progress", "must be a number from 0 to 1");
    }
  }
  for (const char* name : {"step", "total_steps"}) {
    if (auto it = progress.find(name); it != progress.end()) {
      if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
        return FieldError(std::string("progress.") + name, "must be a non-negative integer");
      }
    }
  }
  if (auto it = progress.find("epoch"); it != progress.end() && !it->is_number()) {
    return FieldError("progress.epoch", "must be a number");
  }
  if (auto it = progress.find("message"); it != progress.end() && !it->is_string()) {
    return FieldError("progress.message", "must be a string");
  }
  return Status::Ok();
}

}  // namespace

Result<ProgressBody> DecodeProgressBody(const json& body) {
  if (!body.is_object()) return InvalidArgument("the progress body must be a JSON object");
  ProgressBody decoded;
  if (body.contains("progress")) {
    const json& progress = body["progress"];
    TY_RETURN_IF_ERROR(CheckProgressSnapshot(progress));
    decoded.progress = progress;
  }
  if (body.contains("metrics")) {
    const json& metrics = body["metrics"];
    if (!metrics.is_array()) return FieldError("metrics", "must be a list");
    for (size_t i = 0; i < metrics.size(); ++i) {
      const json& point = metrics[i];
      if (!point.is_object() || !Member(point, "name").is_string() ||
          !Member(point, "value").is_number()) {
        return FieldError("metrics[" + std::to_string(i) + "]",
                          "needs a string name and a numeric value");
      }
      ProgressMetric parsed{.name = point["name"].get<std::string>(),
                            .value = point["value"].get<double>()};
      const json& step = Member(point, "step");
      if (step.is_number_integer()) {
        bool in_range = step.is_number_unsigned()
                            ? step.get<uint64_t>() <= std::numeric_limits<int64_t>::max()
                            : step.get<int64_t>() >= 0;
        if (!in_range) {
          return FieldError("metrics[" + std::to_string(i) + "].step",
                            "must be a non-negative integer");
        }
        parsed.step = step.get<int64_t>();
      }
      parsed.timestamp = ReadTimestamp(Member(point, "timestamp"));
      decoded.metrics.push_back(std::move(parsed));
    }
  }
  if (body.contains("log")) {
    const json& log = body["log"];
    if (!log.is_array()) return FieldError("log", "must be a list");
    for (size_t i = 0; i < log.size(); ++i) {
      const json& entry = log[i];
      if (!entry.is_object() || !Member(entry, "line").is_string()) {
        return FieldError("log[" + std::to_string(i) + "]", "needs a string line");
      }
      decoded.log.push_back(
          {.stream = Member(entry, "stream") == "stderr" ? LogStream::kStderr : LogStream::kStdout,
           .line = entry["line"].get<std::string>(),
           .timestamp = ReadTimestamp(Member(entry, "timestamp"))});
    }
  }
  if (const json& job_name = Member(body, "job_name"); job_name.is_string()) {
    decoded.job_name = job_name.get<std::string>();
  }
  decoded.sequence = ReadCount(Member(body, "sequence")).value_or(0);
  decoded.sent_at = ReadTimestamp(Member(body, "sent_at"));
  decoded.dropped_log_lines = ReadCount(Member(body, "dropped_log_lines")).value_or(0);
  decoded.dropped_metric_points = ReadCount(Member(body, "dropped_metric_points")).value_or(0);
  decoded.exit = ReadExit(Member(body, "exit"));
  return decoded;
}

}  // namespace trainyard::contract
