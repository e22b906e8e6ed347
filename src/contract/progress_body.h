// The body of trainyard-wrap's progress callback, trainyard.progress/v1
// (docs/progress-callback.md): one codec for both ends, the wrapper that sends it and the server
// that reads it. A public contract: fields are only ever added within v1.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::contract {

inline constexpr char kProgressSchema[] = "trainyard.progress/v1";

struct ProgressMetric {
  std::string name;
  double value = 0;
  std::optional<int64_t> step;
  TimePoint timestamp;
  bool operator==(const ProgressMetric&) const = default;
};

enum class LogStream { kStdout, kStderr };

struct ProgressLogLine {
  LogStream stream = LogStream::kStdout;
  std::string line;
  TimePoint timestamp;
  bool operator==(const ProgressLogLine&) const = default;
};

// How the command ended; only in the last request.
struct ProgressExit {
  int code = 0;
  std::optional<std::string> signal;  // "SIGKILL" when a signal ended it
  bool operator==(const ProgressExit&) const = default;
};

struct ProgressBody {
  std::string job_name;
  uint64_t sequence = 0;  // increases with every request
  TimePoint sent_at;
  std::optional<nlohmann::json> progress;  // the latest snapshot (an object), when it changed
  std::vector<ProgressMetric> metrics;
  std::vector<ProgressLogLine> log;
  uint64_t dropped_log_lines = 0;
  uint64_t dropped_metric_points = 0;
  std::optional<ProgressExit> exit;
  bool operator==(const ProgressBody&) const = default;
};

// The body as the wrapper sends it: timestamps as FormatIso8601 writes them (to the
// millisecond), "metrics" and "log" always, "progress", the dropped counts and "exit" only when
// there is something to say.
nlohmann::json EncodeProgressBody(const ProgressBody& body);

// InvalidArgument("field 'metrics[2]': ...") for a field the server records ("progress",
// "metrics", "log") of the wrong shape. Unknown fields are ignored (the format only grows within
// v1), and so are the fields only logs and clients read ("schema", "job_name", "sequence",
// "sent_at", the dropped counts, "exit") when they are not of their documented shape: they are
// left at their defaults. A timestamp that cannot be read (or is absent) is taken as now; a
// metric's step that is not an integer is no step; a log line's stream other than "stderr" is
// stdout.
Result<ProgressBody> DecodeProgressBody(const nlohmann::json& body);

}  // namespace trainyard::contract
