// ContainerExecutor: runs each job as SageMaker does, `<runtime> run <image> train` over a job
// root mounted at /opt/ml, with podman or docker. The root is laid out and the artifacts packed
// exactly as by the local executor (executor/job_root.h); inside the container the image's
// entrypoint, trainyard-wrap, runs the command and writes the same state files, which Describe
// reads through the mount. The exact command lines are in container_command.h.
//
// Stop is `<runtime> stop -t <grace + margin>`; the max runtime is enforced here, as by the
// local executor. The exit code is the wrapper's (output/trainyard-exit.json), or the runtime's
// when the image has no wrapper; a runtime that could not start the container (exit 125 and no
// exit file) fails the job with a ClientError quoting the runtime's message.
//
// One thread per running job; the runtime's `run` is a child of this process. Jobs do not
// outlive the executor: its destructor stops every running container and waits. Thread-safe.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/ml_root.h"
#include "executor/container/container_options.h"
#include "executor/executor.h"

namespace trainyard::executor {

class ContainerExecutor : public Executor {
 public:
  // Finds the runtime (options.runtime_path, or options.runtime on the runtime environment's
  // PATH) and checks that it can run containers (`podman info`, `docker version`).
  // InvalidArgument for an unknown runtime name; NotFound when the binary is missing;
  // FailedPrecondition with the runtime's own message when it cannot run containers.
  static Result<std::unique_ptr<ContainerExecutor>> Create(ContainerExecutorOptions options);

  ~ContainerExecutor() override;

  std::string name() const override { return "container"; }
  TrainerKind AcceptedTrainer() const override { return TrainerKind::kImage; }
  bool RunsImageItself() const override { return true; }
  // The runtime's version, as the check at start printed it ("4.3.1").
  const std::string& runtime_version() const { return runtime_version_; }

  // Also InvalidArgument when the job names no image and there is no default image.
  Status Submit(const JobSpec& spec) override;
  Result<JobDescription> Describe(const std::string& job_name) override;
  Status Stop(const std::string& job_name) override;

 private:
  struct Job {
    Job(JobSpec job_spec, const std::filesystem::path& work_dir);
    JobSpec spec;
    contract::MlRoot root;
    core::JobStatusTracker status;
    bool stop_requested = false;
    bool max_runtime_exceeded = false;
    std::optional<int> exit_code;
    nlohmann::json final_progress;
    std::map<std::string, double> final_metrics;
    std::thread thread;
  };

  ContainerExecutor(ContainerExecutorOptions options, std::string version);
  void RunJob(Job& job);
  Status Transition(Job& job, core::SecondaryStatus next, const std::string& message = "");
  // Runs the container and follows it to its end: stop requests, the max runtime.
  Status RunContainer(Job& job, int* exit_code);
  void Finish(Job& job, int exit_code, const std::string& runtime_error);
  std::vector<std::string> RuntimeEnvironment(const JobSpec& spec) const;
  std::filesystem::path ConsoleFile(const Job& job) const;

  ContainerExecutorOptions options_;
  std::string runtime_version_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::vector<Job*> finished_threads_;
};

}  // namespace trainyard::executor
