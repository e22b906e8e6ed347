// How `trainyard run` shows a sweep while it runs: on a terminal, one live line per running job
// (redrawn in place) under a summary line; elsewhere, plain lines when a job changes status.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace trainyard::app {

struct DisplayedJob {
  std::string job_name;
  const executor::JobDescription* description;  // null while queued
  double elapsed_seconds;
};

class ProgressDisplay {
 public:
  ProgressDisplay(std::FILE* out, bool interactive) : out_(out), interactive_(interactive) {}

  // Called a few times a second with every job of the sweep.
  void Update(const std::vector<DisplayedJob>& jobs, const std::string& note);
  // Leaves the live area as it is, so the table can follow it.
  void Close();

  // "[#######.............]  35%"
  static std::string ProgressBar(double fraction, int width);
  // One job's live line: name, bar, secondary status, latest metrics, time.
  static std::string JobLine(const DisplayedJob& job);

 private:
  std::FILE* out_;
  bool interactive_;
  int lines_drawn_ = 0;
  std::map<std::string, std::string> last_status_;
};

}  // namespace trainyard::app
