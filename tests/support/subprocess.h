// Running the built binaries from tests: argv, extra environment, captured output, a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace trainyard::testing {

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N; -1 when it timed out (and was killed)
  std::string output;  // stdout and stderr together
  std::chrono::milliseconds elapsed{0};
};

// A started process; its output goes to a temp file read by Wait.
class Process {
 public:
  Process(const std::vector<std::string>& argv,
          const std::map<std::string, std::string>& extra_environment = {},
          const std::string& working_directory = "");
  ~Process();
  pid_t pid() const { return pid_; }
  void Signal(int signal_number);
  ProcessResult Wait(std::chrono::milliseconds timeout);
  // What it has printed so far, while it runs.
  std::string OutputSoFar() const;

 private:
  pid_t pid_ = -1;
  std::string output_path_;
  std::chrono::steady_clock::time_point started_;
  bool waited_ = false;
};

inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                const std::map<std::string, std::string>& extra_environment = {},
                                std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return Process(argv, extra_environment).Wait(timeout);
}

}  // namespace trainyard::testing
