// LogCapture: for tests, what every logger (log.h) writes while it lives, instead of stderr.
//
//   LogCapture log({.level = "debug", .format = "json"});
//   ... code that logs ...
//   EXPECT_THAT(log.Lines(), Contains(HasSubstr("job=sw-1-001")));
//
// One at a time per process. Its options apply while it lives; the ones before come back after.
#pragma once

#include <string>
#include <vector>

#include "common/log.h"

namespace trainyard {

class LogCapture {
 public:
  // Aborts the test binary on options ConfigureLogging refuses: a bug in the test.
  explicit LogCapture(const LogOptions& options = {});
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Everything written so far, and the same split into lines (without their '\n').
  std::string Text() const;
  std::vector<std::string> Lines() const;

 private:
  LogOptions previous_;
};

}  // namespace trainyard
