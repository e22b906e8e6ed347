// What log.cc, log_format.cc and log_capture.cc share; not for other modules (see log.h).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/log.h"

namespace trainyard::log_internal {

// The one sink every logger writes to: stderr, one write per line, or an in-memory buffer while
// a test captures the log (log_capture.h). Thread-safe (base_sink's mutex guards both).
class ProcessSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void StartCapture();
  // What was written since StartCapture.
  std::string Captured();
  void StopCapture();

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override;
  void flush_() override;

 private:
  bool capturing_ = false;
  std::string captured_;
};

// The process's sink, made on first use and never destroyed: a logger may still write while
// static objects are torn down at exit.
std::shared_ptr<ProcessSink> SharedSink();

// The options of the last successful ConfigureLogging (the defaults before it).
LogOptions CurrentOptions();

// Formats a line as LogOptions::format says ("text" or "json"), with its newline.
std::unique_ptr<spdlog::formatter> MakeLineFormatter(const std::string& format);

}  // namespace trainyard::log_internal
