// A training job's log as CloudWatch log events. training.log has no timestamps, so the
// endpoint's log watcher (job_logs.cc) notes when it first saw each line (LogIndex, a few
// checkpoints per job) and each event takes that time; lines it never saw (written after its last
// look, or before a restart) take a fallback time. Empty lines are dropped: CloudWatch stores no
// empty messages. Internal; a LogIndex is a plain value (callers lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace trainyard::server::sagemaker {

struct LogIndex {
  // (number of complete lines seen, epoch milliseconds when they had all been seen), both
  // increasing.
  std::vector<std::pair<uint64_t, int64_t>> checkpoints;
  uint64_t lines = 0;   // complete lines seen so far
  uint64_t offset = 0;  // bytes of the live file read so far

  // Reads what was appended to `file` since the last call and notes its complete lines as seen
  // at `now_ms`. A missing file, or one shorter than before (replaced), changes nothing.
  void Observe(const std::filesystem::path& file, int64_t now_ms);
  // Notes that `total_lines` complete lines had been seen by `now_ms` (the lines of a whole log
  // read at once); fewer than already seen changes nothing.
  void NoteLines(uint64_t total_lines, int64_t now_ms);
  // When line `index` (0-based, counting every line) was first seen, or `fallback_ms`.
  int64_t TimeOfLine(uint64_t index, int64_t fallback_ms) const;

  // {"lines": N, "checkpoints": [[lines, ms], ...]} (log-times.json).
  nlohmann::json ToJson() const;
  static LogIndex FromJson(const nlohmann::json& json);  // lenient: bad entries are skipped
};

struct LogEvent {
  int64_t timestamp_ms = 0;
  std::string message;  // the line without its end of line; never empty
  uint64_t line = 0;    // 0-based line number in the log
};

// The events of a whole log text, in order.
std::vector<LogEvent> SplitLogEvents(const std::string& text, const LogIndex& index,
                                     int64_t fallback_ms);

}  // namespace trainyard::server::sagemaker
