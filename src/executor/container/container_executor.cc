#include "executor/container/container_executor.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>

#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "executor/container/container_command.h"
#include "executor/container/runtime_process.h"
#include "executor/job_root.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr milliseconds kPollInterval{50};
// A `stop` that found no container yet (the `run` is still creating it) is tried again.
constexpr milliseconds kStopRetryInterval{500};
// After grace + margin, how much longer a stopped container may take before `rm -f`.
constexpr milliseconds kRemoveMargin{10'000};
constexpr char kDefaultSearchPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kRuntimeMessageLimit = 1024;

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

std::string Joined(const std::vector<std::string>& argv) {
  std::string text;
  for (size_t i = 1; i < argv.size(); ++i) text += (i > 1 ? " " : "") + argv[i];
  return text;
}

// The last lines the runtime printed: why it could not start the container.
std::string RuntimeMessage(const fs::path& console_file) {
  auto read = ReadFile(console_file);
  std::string text = Trim(read.ok() ? *read : "");
  if (text.size() > kRuntimeMessageLimit) text = text.substr(text.size() - kRuntimeMessageLimit);
  return text;
}

}  // namespace

ContainerExecutor::Job::Job(JobSpec job_spec, const fs::path& work_dir)
    : spec(std::move(job_spec)),
      root(fs::absolute(work_dir / spec.definition.job_name / "ml")),
      status(std::chrono::system_clock::now()) {}

Result<std::unique_ptr<ContainerExecutor>> ContainerExecutor::Create(
    ContainerExecutorOptions options) {
  if (options.runtime != "podman" && options.runtime != "docker") {
    return InvalidArgument("container runtime '" + options.runtime +
                           "' is not supported (podman or docker)");
  }
  if (options.runtime_path.empty()) {
    auto path = options.runtime_environment.find("PATH");
    std::string search_path =
        path == options.runtime_environment.end() ? kDefaultSearchPath : path->second;
    std::optional<fs::path> found = FindExecutable(options.runtime, search_path);
    if (!found) {
      return NotFound("container runtime '" + options.runtime + "' not found on PATH (" +
                      search_path + "); install it or give its path");
    }
    options.runtime_path = *found;
  } else if (::access(options.runtime_path.c_str(), X_OK) != 0) {
    return NotFound("container runtime '" + options.runtime_path.string() +
                    "' does not exist or is not executable");
  }
  if (!options.check_runtime) {
    return std::unique_ptr<ContainerExecutor>(
        new ContainerExecutor(std::move(options), "unchecked"));
  }
  std::vector<std::string> check = RuntimeCheckArguments(options);
  auto output =
      RunCommand(check, FormatEnvironment(options.runtime_environment), options.check_timeout);
  std::string command = "'" + options.runtime_path.string() + " " + Joined(check) + "'";
  if (!output.ok()) {
    return FailedPrecondition(command + " failed: " + output.status().message() +
                              "; the container runtime cannot run containers here");
  }
  std::string version = Trim(output->output);
  if (output->exit_code != 0 || version.empty() || version.find('\n') != std::string::npos) {
    if (version.size() > kRuntimeMessageLimit) version.resize(kRuntimeMessageLimit);
    return FailedPrecondition(command + " exited with " + std::to_string(output->exit_code) + ": " +
                              version + "; " + options.runtime +
                              " cannot run containers here (see docs/container.md)");
  }
  return std::unique_ptr<ContainerExecutor>(
      new ContainerExecutor(std::move(options), std::move(version)));
}

ContainerExecutor::ContainerExecutor(ContainerExecutorOptions options, std::string version)
    : options_(std::move(options)), runtime_version_(std::move(version)) {}

ContainerExecutor::~ContainerExecutor() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, job] : jobs_) names.push_back(name);
  }
  for (const std::string& name : names) {
    WarnIfFailed("executor", Stop(name), "job={} could not be stopped with the executor", name);
  }
  for (auto& [name, job] : jobs_) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Status ContainerExecutor::Submit(const JobSpec& spec) {
  TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
  if (spec.definition.training_image.empty() && options_.default_image.empty()) {
    return InvalidArgument("job '" + spec.definition.job_name +
                           "' names no image and the container executor has no default image");
  }
  std::lock_guard lock(mutex_);
  for (Job* finished : finished_threads_) finished->thread.join();
  finished_threads_.clear();
  if (jobs_.count(spec.definition.job_name)) {
    return AlreadyExists("job '" + spec.definition.job_name + "' was already submitted");
  }
  auto job = std::make_unique<Job>(spec, options_.work_dir);
  Job& started = *job;
  jobs_[spec.definition.job_name] = std::move(job);
  started.thread = std::thread([this, &started] { RunJob(started); });
  return Status::Ok();
}

Result<JobDescription> ContainerExecutor::Describe(const std::string& job_name) {
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

Status ContainerExecutor::Stop(const std::string& job_name) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(job_name);
  if (it == jobs_.end()) return NotFound("job '" + job_name + "' not found");
  Job& job = *it->second;
  if (core::IsTerminal(job.status.status()) || job.stop_requested) return Status::Ok();
  // The job's thread sends `<runtime> stop`: it knows whether the container exists yet.
  job.stop_requested = true;
  WarnIfFailed("executor",
               job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                     "Stopping the training job"),
               "job={} is stopping but could not be marked Stopping", job_name);
  return Status::Ok();
}

Status ContainerExecutor::Transition(Job& job, SecondaryStatus next, const std::string& message) {
  std::lock_guard lock(mutex_);
  if (job.stop_requested && next != SecondaryStatus::kStopped &&
      next != SecondaryStatus::kMaxRuntimeExceeded) {
    return Cancelled("job '" + job.spec.definition.job_name + "' was stopped");
  }
  return job.status.Transition(next, std::chrono::system_clock::now(), message);
}

fs::path ContainerExecutor::ConsoleFile(const Job& job) const {
  return job.root.root().parent_path() / "console.log";
}

std::vector<std::string> ContainerExecutor::RuntimeEnvironment(const JobSpec& spec) const {
  // The secrets reach the container by name (`--env NAME`): the runtime copies them from here.
  EnvironmentMap environment = options_.runtime_environment;
  for (const auto& [key, value] : spec.secret_environment) environment[key] = value;
  return FormatEnvironment(environment);
}

void ContainerExecutor::RunJob(Job& job) {
  int exit_code = -1;
  Status status = Transition(job, SecondaryStatus::kDownloading, "Downloading input data");
  if (status.ok()) status = PrepareJobRoot(job.root, job.spec);
  if (status.ok()) status = Transition(job, SecondaryStatus::kTraining, "Training in progress");
  if (status.ok()) status = RunContainer(job, &exit_code);

  std::string runtime_error;
  if (status.ok()) {
    std::optional<int> wrapper_exit = ReadWrapperExitCode(job.root);
    // 125: the runtime itself failed (no image, bad flag); 126/127: the entrypoint could not be
    // run. Without an exit file from the wrapper, no job code ran.
    if (!wrapper_exit && (exit_code == 125 || exit_code == 126 || exit_code == 127) &&
        !fs::exists(job.root.failure_file())) {
      runtime_error = RuntimeMessage(ConsoleFile(job));
    }
    exit_code = wrapper_exit.value_or(exit_code);
    std::lock_guard lock(mutex_);
    job.exit_code = exit_code;
  }
  if (fs::exists(job.root.root())) {
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      ReadWrapperState(job.root, &job.final_progress, &job.final_metrics);
      stopping = job.stop_requested;
    }
    if (!stopping && runtime_error.empty() && status.ok()) {
      Status uploading =
          Transition(job, SecondaryStatus::kUploading, "Uploading generated training model");
      // Cancelled: a stop came meanwhile, and Finish records the job Stopped.
      if (uploading.code() != StatusCode::kCancelled) {
        WarnIfFailed("executor", uploading, "job={} could not be marked Uploading",
                     job.spec.definition.job_name);
      }
    }
    PackArtifacts(job.root, job.spec.artifact_dir);
  }
  if (!status.ok() && status.code() != StatusCode::kCancelled) {
    std::lock_guard lock(mutex_);
    WarnIfFailed(
        "executor",
        job.status.Fail("ClientError: " + status.message(), std::chrono::system_clock::now()),
        "job={} failed ({}) but could not be marked Failed", job.spec.definition.job_name,
        status.message());
  } else {
    Finish(job, exit_code, runtime_error);
  }
  if (!options_.keep_job_roots) {
    std::error_code ignored;
    fs::remove_all(job.root.root(), ignored);
  }
  std::lock_guard lock(mutex_);
  finished_threads_.push_back(&job);
}

Status ContainerExecutor::RunContainer(Job& job, int* exit_code) {
  const JobSpec& spec = job.spec;
  std::vector<std::string> argv = ContainerRunArguments(options_, spec, job.root.root());
  std::vector<std::string> environment = RuntimeEnvironment(spec);
  fs::path console = ConsoleFile(job);
  pid_t pid = -1;
  {
    std::lock_guard lock(mutex_);
    if (job.stop_requested) return Cancelled("stopped before training started");
    TY_ASSIGN_OR_RETURN(pid, SpawnRuntime(argv, environment, console));
  }
  auto runtime_deadline =
      steady_clock::now() + std::chrono::seconds(spec.definition.max_runtime_seconds);
  pid_t stop_pid = -1;
  std::optional<steady_clock::time_point> next_stop_at, remove_at;
  bool stop_succeeded = false, removed = false;
  std::optional<int> code;
  while (!(code = WaitForChild(pid, kPollInterval))) {
    auto now = steady_clock::now();
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      if (!job.stop_requested && now >= runtime_deadline) {
        job.stop_requested = true;
        job.max_runtime_exceeded = true;
        WarnIfFailed(
            "executor",
            job.status.Transition(SecondaryStatus::kStopping, std::chrono::system_clock::now(),
                                  "Stopping: MaxRuntimeInSeconds reached"),
            "job={} reached its max runtime but could not be marked Stopping",
            spec.definition.job_name);
      }
      stopping = job.stop_requested;
    }
    if (!stopping) continue;
    if (!remove_at) {
      remove_at = now + spec.stop_grace_period + options_.stop_margin + kRemoveMargin;
      next_stop_at = now;
    }
    if (stop_pid > 0) {
      if (std::optional<int> stopped = WaitForChild(stop_pid, milliseconds(0))) {
        stop_pid = -1;
        stop_succeeded = *stopped == 0;
        next_stop_at = now + kStopRetryInterval;
      }
    }
    if (stop_pid < 0 && !stop_succeeded && now >= *next_stop_at) {
      auto started = SpawnRuntime(
          ContainerStopArguments(options_, spec.definition.job_name, spec.stop_grace_period),
          environment, console);
      if (started.ok()) stop_pid = *started;
    }
    if (!removed && now >= *remove_at) {
      // The container outlived its stop: remove it, and the `run` that waits on it.
      auto removal = RunCommand(ContainerRemoveArguments(options_, spec.definition.job_name),
                                environment, options_.check_timeout);
      WarnIfFailed("executor", removal.status(),
                   "job={} outlived its stop, and its container could not be removed",
                   spec.definition.job_name);
      ::kill(-pid, SIGKILL);
      removed = true;
    }
  }
  if (stop_pid > 0 && !WaitForChild(stop_pid, options_.check_timeout)) {
    ::kill(-stop_pid, SIGKILL);
    // Only reaps the `stop`: the container's own exit code below is what counts.
    (void)WaitForChild(stop_pid, std::chrono::seconds(5));
  }
  *exit_code = *code;
  return Status::Ok();
}

void ContainerExecutor::Finish(Job& job, int exit_code, const std::string& runtime_error) {
  auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  Status ended;
  if (job.stop_requested) {
    if (job.max_runtime_exceeded) {
      ended = job.status.Transition(SecondaryStatus::kMaxRuntimeExceeded, now,
                                    "Training job exceeded MaxRuntimeInSeconds");
    } else {
      ended = job.status.Transition(SecondaryStatus::kStopped, now, "Training job stopped");
    }
  } else if (!runtime_error.empty()) {
    ended =
        job.status.Fail("ClientError: " + options_.runtime + " could not run the container (exit " +
                            std::to_string(exit_code) + "): " + runtime_error,
                        now);
  } else if (exit_code == 0) {
    ended = job.status.Transition(SecondaryStatus::kCompleted, now, "Training job completed");
  } else {
    ended = job.status.Fail(FailureReason(job.root, exit_code), now);
  }
  WarnIfFailed("executor", ended, "job={} ended (exit code {}) but its end could not be recorded",
               job.spec.definition.job_name, exit_code);
}

}  // namespace trainyard::executor
