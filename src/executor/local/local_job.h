// LocalExecutor::Job: one job of the local executor, shared by its .cc files. Fields are guarded
// by LocalExecutor::mutex_ except `spec`, `root` (fixed once made) and `thread`.
#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "contract/ml_root.h"
#include "executor/job_root.h"
#include "executor/local/detached_process.h"
#include "executor/local/local_executor.h"

namespace trainyard::executor {

// For the status transitions the executor's own logic makes: they fail only on a bug (a
// transition the state machine forbids), logged with the job rather than dropped.
void LogIfRefused(const Status& status, const std::string& job_name);

struct LocalExecutor::Job {
  Job(JobSpec job_spec, const std::filesystem::path& work_dir)
      : spec(std::move(job_spec)),
        root(work_dir / spec.definition.job_name / "ml"),
        status(std::chrono::system_clock::now()) {}

  std::filesystem::path state_file() const {
    return root.root().parent_path() / kExecutorStateFileName;
  }
  // Created by the wrapper's process just before it execs, or by a recovery that fences the
  // launch off (detached_process.h): whoever creates it decides whether the command ran.
  std::filesystem::path launch_claim_file() const {
    return root.root().parent_path() / "launch-claim";
  }

  JobSpec spec;
  contract::MlRoot root;
  core::JobStatusTracker status;
  pid_t pid = -1;  // the wrapper, while it runs as our child (without detach_jobs)
  bool stop_requested = false;
  bool max_runtime_exceeded = false;
  std::optional<int> exit_code;
  nlohmann::json final_progress;  // what the wrapper reported last, kept after the root goes
  std::map<std::string, double> final_metrics;
  std::thread thread;

  // detach_jobs only.
  ProcessIdentity process;              // the detached wrapper, once started
  std::optional<TimePoint> started_at;  // when it started: max runtime counts from here
  bool adopted = false;                 // taken over from an earlier executor
  std::mutex persist_mutex;             // orders the writes of executor-state.json
};

}  // namespace trainyard::executor
