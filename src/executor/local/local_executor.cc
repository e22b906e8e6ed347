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

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;

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

LocalExecutor::LocalExecutor(LocalExecutorOptions options)
    : RecordedJobsExecutor(RecordedJobsOptions{.work_dir = options.work_dir,
                                               .keep_job_roots = options.keep_job_roots,
                                               .record_jobs = options.detach_jobs,
                                               .detach_jobs = options.detach_jobs,
                                               .record_every_transition = false,
                                               .process_field = "pid",
                                               .launch_marker_variable = "TRAINYARD_ML_ROOT",
                                               .on_step = options.on_step}),
      options_(std::move(options)) {}

LocalExecutor::~LocalExecutor() {
  ShutDownJobs();
}

Status LocalExecutor::AdoptRunningJobs() {
  return AdoptRecordedJobs().status();
}

std::unique_ptr<RecordedJobsExecutor::Job> LocalExecutor::NewJob(JobSpec spec) const {
  return std::make_unique<LocalJob>(std::move(spec), options_.work_dir);
}

Status LocalExecutor::Launch(Job& job) {
  if (options_.checkpoint_presigner) {
    // The job starts now: the URLs need no margin for a queue, only for the last store after
    // a stop (the kill margin) and a slow store.
    TY_RETURN_IF_ERROR(
        KeepCheckpointBehindUrls(*options_.checkpoint_presigner, std::chrono::hours(1), job.spec)
            .WithContext("the job's checkpoint in the object store"));
  }
  return options_.detach_jobs ? StartDetached(job) : Train(static_cast<LocalJob&>(job));
}

Status LocalExecutor::Follow(Job& job) {
  return options_.detach_jobs ? FollowDetached(job) : Status::Ok();
}

RecordedJobsExecutor::Outcome LocalExecutor::Settle(Job& job) {
  std::lock_guard lock(mutex_);
  return Outcome{.exit_code = job.exit_code.value_or(-1)};
}

void LocalExecutor::SignalStop(Job& job) {
  pid_t child = static_cast<LocalJob&>(job).pid;
  if (child > 0) ::kill(child, SIGTERM);
  // The wrapper leads its own process group; SIGKILL follows from FollowDetached. False
  // (nothing sent) only when it has ended meanwhile, which FollowDetached sees.
  if (job.process.pid > 0) SignalProcessGroup(job.process, SIGTERM);
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
  AddCheckpointVariables(spec, CheckpointStoreRoot(fs::absolute(options_.work_dir)), &environment);
  *environment_entries = FormatEnvironment(environment);
}

Status LocalExecutor::Train(LocalJob& job) {
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
        WarnIfFailed(
            "executor",
            job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                  "Stopping: MaxRuntimeInSeconds reached"),
            "job={} reached its max runtime but could not be marked Stopping",
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
  job.exit_code = WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
  return Status::Ok();
}

}  // namespace trainyard::executor
