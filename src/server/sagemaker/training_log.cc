#include "server/sagemaker/training_log.h"

#include <algorithm>
#include <fstream>

namespace trainyard::server::sagemaker {
namespace fs = std::filesystem;

void LogIndex::Observe(const fs::path& file, int64_t now_ms) {
  std::error_code error;
  uintmax_t size = fs::file_size(file, error);
  if (error || size <= offset) return;
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(offset));
  // Only up to the last newline counts: a partial line is read again next time.
  std::string chunk(static_cast<size_t>(size - offset), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  size_t last_newline = chunk.rfind('\n');
  if (last_newline == std::string::npos) return;
  uint64_t added = static_cast<uint64_t>(std::count(chunk.begin(), chunk.end(), '\n'));
  offset += last_newline + 1;
  NoteLines(lines + added, now_ms);
}

void LogIndex::NoteLines(uint64_t total_lines, int64_t now_ms) {
  if (total_lines <= lines) return;
  lines = total_lines;
  // One checkpoint per second at most, so that a chatty day-long job keeps a small index: lines
  // seen within a second of a checkpoint share its time.
  if (!checkpoints.empty() && now_ms - checkpoints.back().second < 1000) {
    checkpoints.back().first = lines;
  } else {
    checkpoints.emplace_back(
        lines, std::max(now_ms, checkpoints.empty() ? now_ms : checkpoints.back().second));
  }
}

int64_t LogIndex::TimeOfLine(uint64_t index, int64_t fallback_ms) const {
  // The first checkpoint that covers the line: it had been seen by then.
  auto covering = std::upper_bound(
      checkpoints.begin(), checkpoints.end(), index,
      [](uint64_t line, const std::pair<uint64_t, int64_t>& point) { return line < point.first; });
  return covering == checkpoints.end() ? fallback_ms : covering->second;
}

nlohmann::json LogIndex::ToJson() const {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& [count, ms] : checkpoints) points.push_back({count, ms});
  return {{"lines", lines}, {"checkpoints", points}};
}

LogIndex LogIndex::FromJson(const nlohmann::json& json) {
  LogIndex index;
  if (!json.is_object()) return index;
  if (json.contains("lines") && json["lines"].is_number_unsigned()) {
    index.lines = json["lines"].get<uint64_t>();
  }
  const nlohmann::json& points = json.value("checkpoints", nlohmann::json::array());
  if (!points.is_array()) return index;
  for (const nlohmann::json& point : points) {
    if (!point.is_array() || point.size() != 2 || !point[0].is_number_unsigned() ||
        !point[1].is_number_integer()) {
      continue;
    }
    std::pair<uint64_t, int64_t> entry{point[0].get<uint64_t>(), point[1].get<int64_t>()};
    if (!index.checkpoints.empty() && (entry.first <= index.checkpoints.back().first ||
                                       entry.second < index.checkpoints.back().second)) {
      continue;
    }
    index.checkpoints.push_back(entry);
  }
  return index;
}

std::vector<LogEvent> SplitLogEvents(const std::string& text, const LogIndex& index,
                                     int64_t fallback_ms) {
  std::vector<LogEvent> events;
  uint64_t line = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string message = text.substr(start, end - start);
    if (!message.empty() && message.back() == '\r') message.pop_back();
    if (!message.empty()) {
      events.push_back({index.TimeOfLine(line, fallback_ms), std::move(message), line});
    }
    ++line;
    start = end + 1;
  }
  // Timestamps never go back, even when a fallback (a restart's time) meets older checkpoints.
  for (size_t i = 1; i < events.size(); ++i) {
    events[i].timestamp_ms = std::max(events[i].timestamp_ms, events[i - 1].timestamp_ms);
  }
  return events;
}

}  // namespace trainyard::server::sagemaker
