#include "common/log_capture.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/log_internal.h"

namespace trainyard {

LogCapture::LogCapture(const LogOptions& options) : previous_(log_internal::CurrentOptions()) {
  if (Status configured = ConfigureLogging(options); !configured.ok()) {
    std::fprintf(stderr, "LogCapture: %s\n", configured.message().c_str());
    std::abort();
  }
  log_internal::SharedSink()->StartCapture();
}

LogCapture::~LogCapture() {
  log_internal::SharedSink()->StopCapture();
  // The options it replaced were accepted once, so they are again.
  (void)ConfigureLogging(previous_);
}

std::string LogCapture::Text() const {
  return log_internal::SharedSink()->Captured();
}

std::vector<std::string> LogCapture::Lines() const {
  std::vector<std::string> lines;
  std::istringstream text(Text());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

}  // namespace trainyard
