// Supervisor: runs the ML command to its end and everything around it, in one poll loop on one
// thread: copies its output to our stdout/stderr and the training log, forwards SIGTERM/SIGINT to
// its process group and sends SIGKILL after the grace period, reaps it (and orphans, as PID 1),
// and every progress interval reads the progress file, records metrics and hands an update to
// the reporter.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/job_definition.h"
#include "contract/progress_file.h"
#include "wrapper/child_process.h"
#include "wrapper/progress_reporter.h"

namespace trainyard::wrapper {

// Blocks the signals the supervisor takes through its signalfd. Call before any thread starts,
// so that no other thread receives them with the default action (which would kill the wrapper).
void BlockSupervisedSignals();
// SIGTERM or SIGINT when one arrived (and waits, blocked) before the supervisor runs, else 0.
int PendingStopSignal();

struct SupervisorOptions {
  std::chrono::milliseconds grace_period{120'000};
  std::chrono::milliseconds progress_interval{5'000};
  // After the command exits, how long to wait for its pipes to close (a background grandchild may
  // hold them open forever).
  std::chrono::milliseconds drain_timeout{2'000};
  int log_fd = -1;  // the training log, opened for appending
  std::filesystem::path progress_file;
  std::filesystem::path state_file;    // latest progress and metrics, rewritten each interval
  std::filesystem::path metrics_file;  // every metric point, JSON Lines, appended
  std::vector<contract::MetricDefinition> metric_definitions;
  int echo_stdout_fd = 1;
  int echo_stderr_fd = 2;
};

struct ChildOutcome {
  int exit_code = 0;            // the command's, or 128+N when killed by signal N
  int signal = 0;               // N when killed by a signal
  bool stop_requested = false;  // we forwarded SIGTERM/SIGINT
  std::string stderr_tail;
  std::vector<std::string> warnings;
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, ProgressReporter* reporter)
      : options_(std::move(options)), reporter_(reporter) {}

  // Runs the command to its end. Errors only when it could not be started at all.
  Result<ChildOutcome> Run(const SpawnRequest& request);
  // The update that Run has not yet handed to the reporter (the last one, for Finish).
  ProgressUpdate TakeFinalUpdate() { return std::move(final_update_); }

 private:
  ProgressUpdate CollectUpdate(bool at_end);

  SupervisorOptions options_;
  ProgressReporter* reporter_;
  contract::ProgressFileReader* progress_reader_ = nullptr;
  contract::ProgressSnapshot snapshot_;
  std::map<std::string, double> latest_metrics_;
  bool progress_changed_ = false;
  std::vector<LogLine> pending_log_;
  uint64_t dropped_log_lines_ = 0;
  std::vector<MetricPoint> pending_metrics_;
  ProgressUpdate final_update_;
};

}  // namespace trainyard::wrapper
