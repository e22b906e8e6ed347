#include "contract/progress_file.h"

#include <cmath>
#include <fstream>

namespace trainyard::contract {
using nlohmann::json;

namespace {
// A line longer than this is not progress; it is someone writing the wrong file.
constexpr size_t kMaxLineBytes = 64 * 1024;
}  // namespace

std::optional<ProgressRecord> ParseProgressLine(std::string_view line) {
  json value = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  ProgressRecord record;
  if (auto it = value.find("progress"); it != value.end()) {
    if (!it->is_number()) return std::nullopt;
    double progress = it->get<double>();
    if (!(progress >= 0.0 && progress <= 1.0)) return std::nullopt;
    record.progress = progress;
  }
  for (auto [key, field] :
       {std::pair{"step", &record.step}, {"total_steps", &record.total_steps}}) {
    if (auto it = value.find(key); it != value.end()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0) return std::nullopt;
      *field = it->get<int64_t>();
    }
  }
  if (auto it = value.find("epoch"); it != value.end()) {
    if (!it->is_number()) return std::nullopt;
    record.epoch = it->get<double>();
  }
  if (auto it = value.find("message"); it != value.end()) {
    if (!it->is_string()) return std::nullopt;
    record.message = it->get<std::string>();
  }
  if (auto it = value.find("metrics"); it != value.end()) {
    if (!it->is_object()) return std::nullopt;
    for (const auto& [name, metric] : it->items()) {
      if (metric.is_number() && std::isfinite(metric.get<double>())) {
        record.metrics[name] = metric.get<double>();
      }
    }
  }
  return record;
}

void ProgressSnapshot::Merge(const ProgressRecord& record) {
  if (record.progress) progress = record.progress;
  if (record.step) step = record.step;
  if (record.total_steps) total_steps = record.total_steps;
  if (record.epoch) epoch = record.epoch;
  if (record.message) message = record.message;
}

json ProgressSnapshot::ToJson() const {
  json value = json::object();
  if (progress) value["progress"] = *progress;
  if (step) value["step"] = *step;
  if (total_steps) value["total_steps"] = *total_steps;
  if (epoch) value["epoch"] = *epoch;
  if (message) value["message"] = *message;
  return value;
}

std::vector<ProgressRecord> ProgressFileReader::ReadNew(bool at_end) {
  std::vector<ProgressRecord> records;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return records;
  in.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(in.tellg());
  if (size < offset_) {  // truncated or replaced: start over
    offset_ = 0;
    partial_line_.clear();
  }
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk(size - offset_, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<size_t>(in.gcount()));
  offset_ += chunk.size();

  std::string data = std::move(partial_line_) + chunk;
  partial_line_.clear();
  size_t start = 0;
  auto take_line = [&](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    if (line.size() > kMaxLineBytes) {
      ++skipped_lines_;
      return;
    }
    if (auto record = ParseProgressLine(line)) {
      records.push_back(std::move(*record));
    } else {
      ++skipped_lines_;
    }
  };
  for (size_t newline; (newline = data.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    take_line(std::string_view(data).substr(start, newline - start));
  }
  std::string_view rest = std::string_view(data).substr(start);
  if (at_end) {
    take_line(rest);
  } else if (rest.size() <= kMaxLineBytes) {
    partial_line_ = rest;
  } else {
    ++skipped_lines_;
  }
  return records;
}

}  // namespace trainyard::contract
