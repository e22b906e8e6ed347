#include "executor/local/local_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "contract/ml_root.h"
#include "executor/job_root.h"
#include "executor/local/local_job.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using nlohmann::json;

namespace {

// Waits for `pid` to exit until `deadline`; true with *wait_status set when it did.
bool WaitUntil(pid_t pid, int pidfd, std::chrono::steady_clock::time_point deadline,
               int* wait_status) {
  while (true) {
    pid_t done = ::waitpid(pid, wait_status, WNOHANG);
    if (done == pid) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (pidfd >= 0) {
      pollfd fd{pidfd, POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(std::min<int64_t>(wait, 1'000)));
    } else {
      ::usleep(20'000);
    }
  }
}

}  // namespace

void LogIfRefused(const Status& status, const std::string& job_name) {
  if (!status.ok()) {
    Logger("executor").error("job={} status change refused: {}", job_name, status.message());
  }
}

LocalExecutor::LocalExecutor(LocalExecutorOptions options) : options_(std::move(options)) {}

LocalExecutor::~LocalExecutor() {
  if (options_.detach_jobs) {
    shutting_down_ = true;
    for (auto& [name, job] : jobs_) {
      if (job->thread.joinable()) job->thread.join();
    }
    return;
  }
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, job] : jobs_) names.push_back(name);
  }
  for (const std::string& name : names) {
    if (Status stopped = Stop(name); !stopped.ok()) {
      Logger("executor").error("job={} could not be stopped: {}", name, stopped.message());
    }
  }
  for (auto& [name, job] : jobs_) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Status LocalExecutor::Submit(const JobSpec& spec) {
  const contract::JobDefinition& definition = spec.definition;
  TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
  std::lock_guard lock(mutex_);
  for (Job* finished : finished_threads_) finished->thread.join();
  finished_threads_.clear();
  if (jobs_.count(definition.job_name)) {
    return AlreadyExists("job '" + definition.job_name + "' was already submitted");
  }
  auto job = std::make_unique<Job>(spec, options_.work_dir);
  Job& started = *job;
  jobs_[definition.job_name] = std::move(job);
  started.thread = std::thread([this, &started] { RunJob(started); });
  return Status::Ok();
}

Result<JobDescription> LocalExecutor::Describe(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_name);
  if (it == jobs_.end()) return NotFound("job '" + job_name + "' not found");
  Job& job = *it->second;
  JobDescription description{job_name, job.status, job.final_progress, job.final_metrics,
                             job.exit_code};
  if (!core::IsTerminal(job.status.status())) {
    ReadWrapperState(job.root, &description.progress, &description.metrics);
  }
  return description;
}

Status LocalExecutor::Stop(const std::string& job_name) {
  Job* stopped = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(job_name);
    if (it == jobs_.end()) return NotFound("job '" + job_name + "' not found");
    Job& job = *it->second;
    if (core::IsTerminal(job.status.status()) || job.stop_requested) return Status::Ok();
    job.stop_requested = true;
    LogIfRefused(job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                       "Stopping the training job"),
                 job_name);
    if (job.pid > 0) ::kill(job.pid, SIGTERM);
    // The wrapper leads its own process group; SIGKILL follows from FollowDetached. False
    // (nothing sent) only when it has ended meanwhile, which FollowDetached sees.
    if (job.process.pid > 0) SignalProcessGroup(job.process, SIGTERM);
    stopped = &job;
  }
  Persist(*stopped);
  return Status::Ok();
}

Status LocalExecutor::Transition(Job& job, SecondaryStatus next, const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return Unavailable("the executor is shutting down");
    if (job.stop_requested && next != SecondaryStatus::kStopped &&
        next != SecondaryStatus::kMaxRuntimeExceeded) {
      return Cancelled("job '" + job.spec.definition.job_name + "' was stopped");
    }
    TY_RETURN_IF_ERROR(job.status.Transition(next, std::chrono::system_clock::now(), message));
  }
  NotifyStatusChanged(job.spec.definition.job_name);
  return Status::Ok();
}

void LocalExecutor::RunJob(Job& job) {
  int exit_code = -1;
  Status status = Status::Ok();
  const std::string& name = job.spec.definition.job_name;
  if (!job.adopted) {
    status = Transition(job, SecondaryStatus::kDownloading, "Downloading input data");
    if (status.ok()) Persist(job);  // the first record: a job dir without one never ran
    if (status.ok()) ReachStep(options_.on_step, "executor.recorded", name);
    if (status.ok()) status = Download(job);
    if (status.ok()) ReachStep(options_.on_step, "executor.staged", name);
    if (status.ok()) status = Transition(job, SecondaryStatus::kTraining, "Training in progress");
    if (status.ok()) status = options_.detach_jobs ? StartDetached(job) : Train(job, &exit_code);
  }
  if (status.ok() && options_.detach_jobs) status = FollowDetached(job, &exit_code);
  if (shutting_down_) {
    // This executor is going away: what it has persisted lets the next one finish the job.
    std::lock_guard lock(mutex_);
    finished_threads_.push_back(&job);
    return;
  }
  Upload(job);
  ReachStep(options_.on_step, "executor.packed", name);
  if (!status.ok() && status.code() != StatusCode::kCancelled) {
    std::lock_guard lock(mutex_);
    LogIfRefused(
        job.status.Fail("ClientError: " + status.message(), std::chrono::system_clock::now()),
        name);
  } else {
    Finish(job, exit_code);
  }
  // Durable: after a power loss the next executor must not take a finished job for a live one.
  Persist(job, Durability::kDurable);
  NotifyStatusChanged(name);
  if (!options_.keep_job_roots) {
    std::error_code ignored;
    fs::remove_all(job.root.root(), ignored);
  }
  std::lock_guard lock(mutex_);
  finished_threads_.push_back(&job);
}

Status LocalExecutor::Download(Job& job) {
  return PrepareJobRoot(job.root, job.spec);
}

void LocalExecutor::WrapperInvocation(const Job& job, std::vector<std::string>* argv,
                                      std::vector<std::string>* environment_entries) const {
  const JobSpec& spec = job.spec;
  *argv = {options_.wrapper_path.string()};
  if (!spec.command.empty()) {
    argv->push_back("--");
    argv->insert(argv->end(), spec.command.begin(), spec.command.end());
  }
  EnvironmentMap environment = options_.environment;
  for (const auto& [key, value] : spec.definition.environment) environment[key] = value;
  for (const auto& [key, value] : spec.secret_environment) environment[key] = value;
  environment["TRAINYARD_ML_ROOT"] = job.root.root().string();
  environment["TRAINING_JOB_NAME"] = spec.definition.job_name;
  environment["TRAINYARD_STOP_GRACE_SECONDS"] =
      std::to_string(static_cast<double>(spec.stop_grace_period.count()) / 1000.0);
  environment["TRAINYARD_PROGRESS_INTERVAL_SECONDS"] =
      std::to_string(static_cast<double>(options_.progress_interval.count()) / 1000.0);
  *environment_entries = FormatEnvironment(environment);
}

Status LocalExecutor::Train(Job& job, int* exit_code) {
  const JobSpec& spec = job.spec;
  std::vector<std::string> argv, entries;
  WrapperInvocation(job, &argv, &entries);

  std::vector<char*> argv_pointers, envp;
  for (std::string& argument : argv) argv_pointers.push_back(argument.data());
  argv_pointers.push_back(nullptr);
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);

  // The wrapper gets its own process group so that a Ctrl-C meant for `trainyard run` does not
  // reach it: stopping is the runner's decision, delivered as SIGTERM.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  std::string console = (job.root.root().parent_path() / "console.log").string();
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, console.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);

  pid_t pid = -1;
  int error = 0;
  {
    std::lock_guard lock(mutex_);
    if (job.stop_requested) return Cancelled("stopped before training started");
    error =
        posix_spawn(&pid, argv_pointers[0], &files, &attributes, argv_pointers.data(), envp.data());
    if (error == 0) job.pid = pid;
  }
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    return Internal("cannot start '" + argv[0] + "': " + std::strerror(error));
  }

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto started = std::chrono::steady_clock::now();
  auto runtime_deadline = started + std::chrono::seconds(spec.definition.max_runtime_seconds);
  int wait_status = 0;
  if (!WaitUntil(pid, pidfd, runtime_deadline, &wait_status)) {
    {
      std::lock_guard lock(mutex_);
      if (!job.stop_requested) {
        job.stop_requested = true;
        job.max_runtime_exceeded = true;
        LogIfRefused(
            job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                  "Stopping: MaxRuntimeInSeconds reached"),
            spec.definition.job_name);
        ::kill(pid, SIGTERM);
      }
    }
    // The wrapper sends SIGKILL to the command after the grace period; it gets a margin more.
    auto kill_deadline =
        std::chrono::steady_clock::now() + spec.stop_grace_period + options_.wrapper_kill_margin;
    if (!WaitUntil(pid, pidfd, kill_deadline, &wait_status)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &wait_status, 0);
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  std::lock_guard lock(mutex_);
  job.pid = -1;
  *exit_code = WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
  job.exit_code = *exit_code;
  return Status::Ok();
}

void LocalExecutor::Upload(Job& job) {
  const contract::MlRoot& root = job.root;
  if (!fs::exists(root.root())) return;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    ReadWrapperState(root, &job.final_progress, &job.final_metrics);
    stopping = job.stop_requested;
  }
  // Refused only while this executor shuts down or the job is being stopped: it packs anyway.
  if (!stopping) {
    Status uploading =
        Transition(job, SecondaryStatus::kUploading, "Uploading generated training model");
    if (!uploading.ok()) {
      Logger("executor")
          .debug("job={} not Uploading: {}", job.spec.definition.job_name, uploading.message());
    }
  }
  // Files written to model/ before a stop are still uploaded, as SageMaker does.
  PackArtifacts(root, job.spec.artifact_dir);
}

void LocalExecutor::Finish(Job& job, int exit_code) {
  auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  Status ended;
  if (job.stop_requested) {
    ended = job.max_runtime_exceeded
                ? job.status.Transition(SecondaryStatus::kMaxRuntimeExceeded, now,
                                        "Training job exceeded MaxRuntimeInSeconds")
                : job.status.Transition(SecondaryStatus::kStopped, now, "Training job stopped");
  } else if (exit_code == 0) {
    ended = job.status.Transition(SecondaryStatus::kCompleted, now, "Training job completed");
  } else {
    ended = job.status.Fail(FailureReason(job.root, exit_code), now);
  }
  LogIfRefused(ended, job.spec.definition.job_name);
}

}  // namespace trainyard::executor
