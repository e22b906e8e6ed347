// Log handling inside the wrapper: the ML command's output split into lines, copied through,
// scanned for metrics with SageMaker MetricDefinitions.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.h"
#include "contract/job_definition.h"
#include "contract/metric_pattern.h"

namespace trainyard::wrapper {

enum class Stream { kStdout, kStderr };

struct LogLine {
  Stream stream;
  std::string text;
  TimePoint time;
};

struct MetricPoint {
  std::string name;
  double value;
  std::optional<int64_t> step;
  TimePoint time;
};

// Applies SageMaker MetricDefinitions to log lines: the first capture group of each regex that
// matches, read as a number, in time linear in the line's length (contract::MetricPattern, RE2).
// Invalid regexes are reported once and then ignored, as a job must not fail over a dashboard
// setting (they are refused at submit; a job.json written by hand may still hold one).
class MetricExtractor {
 public:
  MetricExtractor(const std::vector<contract::MetricDefinition>& definitions,
                  std::vector<std::string>* warnings);
  std::vector<MetricPoint> Extract(std::string_view line, TimePoint time) const;

 private:
  std::vector<std::pair<std::string, contract::MetricPattern>> patterns_;
};

// Receives raw output chunks of one process, splits them into lines per stream, and keeps the
// tail of stderr for the failure reason. Not thread-safe.
class LineSplitter {
 public:
  using LineHandler = std::function<void(LogLine)>;
  LineSplitter(LineHandler on_line, size_t stderr_tail_bytes = 4096)
      : on_line_(std::move(on_line)), stderr_tail_bytes_(stderr_tail_bytes) {}

  void Add(Stream stream, std::string_view chunk, TimePoint time);
  // Hands out partial last lines (the process has exited).
  void Finish(TimePoint time);
  // The last stderr_tail_bytes of stderr, starting at a line boundary where possible.
  std::string StderrTail() const;

 private:
  // A line longer than this is handed out in pieces so that memory stays bounded.
  static constexpr size_t kMaxLineBytes = 16 * 1024;
  LineHandler on_line_;
  size_t stderr_tail_bytes_;
  std::string partial_[2];
  std::string stderr_tail_;
};

}  // namespace trainyard::wrapper
