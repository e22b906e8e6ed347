// LocalExecutor: runs each job as a local process, `trainyard-wrap [-- COMMAND]`, over a job
// root laid out exactly as SageMaker lays out /opt/ml, then packs model/ and output/data/ into
// model.tar.gz and output.tar.gz as SageMaker does.
//
// One thread per running job follows it from Downloading to its end; concurrency limits are the
// caller's (the sweep runner's). Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "executor/executor.h"

namespace trainyard::executor {

struct LocalExecutorOptions {
  std::filesystem::path work_dir;      // job roots go to <work_dir>/<job-name>/ml
  std::filesystem::path wrapper_path;  // the trainyard-wrap binary
  // The environment every wrapper starts from (the caller's own, usually), before the job's.
  std::map<std::string, std::string> environment;
  bool keep_job_roots = false;  // keep each job's root after it ends (debugging)
  // How often the wrapper reads the progress file. Shorter than the wrapper's 5 s default:
  // here the "report" is a local file that `trainyard run` shows live.
  std::chrono::milliseconds progress_interval{1'000};
  // How long after the grace period a wrapper that has not exited is killed outright.
  std::chrono::milliseconds wrapper_kill_margin{5'000};
};

class LocalExecutor : public Executor {
 public:
  explicit LocalExecutor(LocalExecutorOptions options);
  // Stops every running job and waits for them.
  ~LocalExecutor() override;

  std::string name() const override { return "local"; }
  Status Submit(const JobSpec& spec) override;
  Result<JobDescription> Describe(const std::string& job_name) override;
  Status Stop(const std::string& job_name) override;

 private:
  struct Job;
  void RunJob(Job& job);
  Status Download(Job& job);
  Status Train(Job& job, int* exit_code);
  void Upload(Job& job);
  void Finish(Job& job, int exit_code);
  Status Transition(Job& job, core::SecondaryStatus next, const std::string& message = "");

  LocalExecutorOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  // Jobs whose thread has returned; joined at the next Submit so that a long sweep does not
  // keep thousands of finished threads (and their stacks) around.
  std::vector<Job*> finished_threads_;
};

}  // namespace trainyard::executor
