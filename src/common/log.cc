#include "common/log.h"

#include <cstdio>
#include <map>
#include <optional>

#include "common/log_internal.h"

namespace trainyard {
namespace {

using log_internal::ProcessSink;

struct LogState {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
  LogOptions options;
  spdlog::level::level_enum level = spdlog::level::info;
};

// Never destroyed, as the sink (log_internal.h says why).
LogState& State() {
  static LogState* state = new LogState;
  return *state;
}

std::optional<spdlog::level::level_enum> ParseLevel(const std::string& name) {
  static const std::map<std::string, spdlog::level::level_enum> kLevels = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  auto it = kLevels.find(name);
  if (it == kLevels.end()) return std::nullopt;
  return it->second;
}

}  // namespace

namespace log_internal {

void ProcessSink::StartCapture() {
  std::lock_guard lock(mutex_);
  capturing_ = true;
  captured_.clear();
}

std::string ProcessSink::Captured() {
  std::lock_guard lock(mutex_);
  return captured_;
}

void ProcessSink::StopCapture() {
  std::lock_guard lock(mutex_);
  capturing_ = false;
  captured_.clear();
}

void ProcessSink::sink_it_(const spdlog::details::log_msg& message) {
  spdlog::memory_buf_t line;
  formatter_->format(message, line);
  if (capturing_) {
    captured_.append(line.data(), line.size());
    return;
  }
  // stderr is unbuffered: one fwrite is one write(2), so lines of processes that share the
  // terminal or a log file do not interleave within a line.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void ProcessSink::flush_() {
  std::fflush(stderr);
}

std::shared_ptr<ProcessSink> SharedSink() {
  static auto* sink = new std::shared_ptr<ProcessSink>([] {
    auto made = std::make_shared<ProcessSink>();
    made->set_formatter(MakeLineFormatter(LogOptions().format));
    return made;
  }());
  return *sink;
}

LogOptions CurrentOptions() {
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  return state.options;
}

}  // namespace log_internal

spdlog::logger& Logger(const std::string& module) {
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  std::shared_ptr<spdlog::logger>& logger = state.loggers[module];
  if (!logger) {
    logger = std::make_shared<spdlog::logger>(module, log_internal::SharedSink());
    logger->set_level(state.level);
  }
  return *logger;
}

Status CheckLogOptions(const LogOptions& options) {
  if (!ParseLevel(options.level)) {
    return InvalidArgument("log level '" + options.level +
                           "' is not one of trace, debug, info, warn, error, off");
  }
  if (options.format != "text" && options.format != "json") {
    return InvalidArgument("log format '" + options.format + "' is not one of text, json");
  }
  return Status::Ok();
}

Status ConfigureLogging(const LogOptions& options) {
  TY_RETURN_IF_ERROR(CheckLogOptions(options));
  std::optional<spdlog::level::level_enum> level = ParseLevel(options.level);
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  state.options = options;
  state.level = *level;
  for (auto& [name, logger] : state.loggers) logger->set_level(*level);
  log_internal::SharedSink()->set_formatter(log_internal::MakeLineFormatter(options.format));
  return Status::Ok();
}

}  // namespace trainyard
