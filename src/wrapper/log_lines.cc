#include "wrapper/log_lines.h"

#include <charconv>
#include <cmath>

namespace trainyard::wrapper {

MetricExtractor::MetricExtractor(const std::vector<contract::MetricDefinition>& definitions,
                                 std::vector<std::string>* warnings) {
  for (const contract::MetricDefinition& definition : definitions) {
    Result<contract::MetricPattern> pattern = contract::MetricPattern::Compile(definition.regex);
    if (pattern.ok()) {
      patterns_.emplace_back(definition.name, std::move(pattern).value());
    } else if (warnings) {
      warnings->push_back("metric '" + definition.name + "': regex '" + definition.regex + "' " +
                          pattern.status().message());
    }
  }
}

std::vector<MetricPoint> MetricExtractor::Extract(std::string_view line, TimePoint time) const {
  std::vector<MetricPoint> points;
  for (const auto& [name, pattern] : patterns_) {
    std::optional<std::string_view> group = pattern.FirstGroup(line);
    if (!group) continue;
    std::string text(*group);
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size() && std::isfinite(value)) {
      points.push_back({name, value, std::nullopt, time});
    }
  }
  return points;
}

void LineSplitter::Add(Stream stream, std::string_view chunk, TimePoint time) {
  if (stream == Stream::kStderr) {
    stderr_tail_.append(chunk);
    if (stderr_tail_.size() > 2 * stderr_tail_bytes_) {
      stderr_tail_.erase(0, stderr_tail_.size() - stderr_tail_bytes_);
    }
  }
  std::string& partial = partial_[static_cast<int>(stream)];
  size_t start = 0;
  for (size_t newline; (newline = chunk.find('\n', start)) != std::string_view::npos;
       start = newline + 1) {
    partial.append(chunk.substr(start, newline - start));
    if (!partial.empty() && partial.back() == '\r') partial.pop_back();
    on_line_({stream, std::move(partial), time});
    partial.clear();
  }
  partial.append(chunk.substr(start));
  while (partial.size() > kMaxLineBytes) {
    on_line_({stream, partial.substr(0, kMaxLineBytes), time});
    partial.erase(0, kMaxLineBytes);
  }
}

void LineSplitter::Finish(TimePoint time) {
  for (Stream stream : {Stream::kStdout, Stream::kStderr}) {
    std::string& partial = partial_[static_cast<int>(stream)];
    if (!partial.empty()) on_line_({stream, std::move(partial), time});
    partial.clear();
  }
}

std::string LineSplitter::StderrTail() const {
  if (stderr_tail_.size() <= stderr_tail_bytes_) return stderr_tail_;
  std::string tail = stderr_tail_.substr(stderr_tail_.size() - stderr_tail_bytes_);
  if (size_t newline = tail.find('\n'); newline != std::string::npos && newline + 1 < tail.size()) {
    tail.erase(0, newline + 1);
  }
  return tail;
}

}  // namespace trainyard::wrapper
