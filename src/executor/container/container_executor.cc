#include "executor/container/container_executor.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <thread>

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

constexpr milliseconds kFirstInspectDelay{500};
// A `stop` that found no container yet (the `run` is still creating it) is tried again.
constexpr milliseconds kStopRetryInterval{500};
// After grace + margin, how much longer a stopped container may take before `rm -f`.
constexpr milliseconds kRemoveMargin{10'000};
constexpr char kDefaultSearchPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kRuntimeMessageLimit = 1024;
// Exit codes with which the runtime says that it, not the job, failed: 125 the runtime itself
// (no image, bad flag), 126/127 the entrypoint could not be run.
constexpr int kRuntimeFailed = 125;
// Names the job root in the environment of the `run` process (never passed into the
// container), so that a recovery can tell that process from a reused pid.
constexpr char kLaunchMarker[] = "TRAINYARD_CONTAINER_LAUNCH";

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

// What `run --detach` prints when it has started the container: its 64-hex-digit id.
bool IsContainerId(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Whether the runtime started the container: `run --detach` printed its id last (a warning may
// come before it). Then every exit code is the container's own, 125 to 127 included.
bool RunPrintedContainerId(const std::string& console_text) {
  size_t newline = console_text.find_last_of('\n');
  return IsContainerId(newline == std::string::npos ? console_text
                                                    : console_text.substr(newline + 1));
}

// A ContainerEntrypoint of the job's own that is not trainyard-wrap: nothing in the container
// writes the job's log, so the executor makes the container's output the log. (Without one,
// the image's ENTRYPOINT may or may not be the wrapper: the log is copied at the end if empty.)
bool RunsWithoutWrapper(const JobSpec& spec) {
  const std::vector<std::string>& entrypoint = spec.definition.container_entrypoint;
  return !entrypoint.empty() && fs::path(entrypoint.front()).filename() != "trainyard-wrap";
}

// The last lines the runtime printed: why it could not start the container.
std::string RuntimeMessage(const fs::path& console_file) {
  auto read = ReadFile(console_file);
  std::string text = Trim(read.ok() ? *read : "");
  if (text.size() > kRuntimeMessageLimit) text = text.substr(text.size() - kRuntimeMessageLimit);
  return text;
}

}  // namespace

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
  if (!options.auth_file.empty()) {
    // Checked now, so that a wrong path stops the server rather than failing every pull. Its
    // contents are credentials: only their shape is looked at, and nothing of them is quoted.
    auto text = ReadFile(options.auth_file);
    if (!text.ok()) {
      return InvalidArgument("field 'container_auth_file': cannot read '" +
                             options.auth_file.string() + "': " + text.status().message());
    }
    nlohmann::json auth = nlohmann::json::parse(*text, nullptr, false);
    if (!auth.is_object() || !auth.contains("auths") || !auth["auths"].is_object()) {
      return InvalidArgument("field 'container_auth_file': '" + options.auth_file.string() +
                             "' is no auth file: a JSON object with an \"auths\" object "
                             "(podman's auth.json, docker's config.json)");
    }
    if (options.runtime == "docker" && options.auth_file.filename() != "config.json") {
      return InvalidArgument(
          "field 'container_auth_file': docker reads its credentials from a "
          "directory's config.json; name the file config.json");
    }
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
    // Absolute: the job roots are mounted into containers. An empty work_dir is this directory.
    : RecordedJobsExecutor(RecordedJobsOptions{.work_dir = options.work_dir.empty()
                                                               ? fs::current_path()
                                                               : fs::absolute(options.work_dir),
                                               .keep_job_roots = options.keep_job_roots,
                                               .record_jobs = true,
                                               .detach_jobs = options.detach_jobs,
                                               .record_every_transition = true,
                                               .process_field = "launch_pid",
                                               .launch_marker_variable = kLaunchMarker,
                                               .on_step = options.on_step}),
      options_(std::move(options)),
      runtime_version_(std::move(version)),
      puller_(options_.image_puller ? options_.image_puller : std::make_shared<ImagePuller>()),
      pins_(recorded_jobs_options().work_dir / ImagePins::kFileName, options_.image_pin_retention) {
}

ContainerExecutor::~ContainerExecutor() {
  ShutDownJobs();
}

Status ContainerExecutor::Submit(const JobSpec& spec) {
  if (object_store_staging() && !options_.job_staging) {
    return FailedPrecondition("the container executor's object-store staging has no object store");
  }
  if (spec.definition.training_image.empty() && options_.default_image.empty()) {
    TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
    return InvalidArgument("job '" + spec.definition.job_name +
                           "' names no image and the container executor has no default image");
  }
  if (object_store_staging() && RunsWithoutWrapper(spec)) {
    TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
    return InvalidArgument("job '" + spec.definition.job_name + "': container_entrypoint '" +
                           spec.definition.container_entrypoint.front() +
                           "' is not trainyard-wrap, which object-store staging needs in the "
                           "container to fetch the input and send the outputs back");
  }
  return RecordedJobsExecutor::Submit(spec);
}

std::unique_ptr<RecordedJobsExecutor::Job> ContainerExecutor::NewJob(JobSpec spec) const {
  return std::make_unique<ContainerJob>(std::move(spec), recorded_jobs_options().work_dir);
}

fs::path ContainerExecutor::ConsoleFile(const Job& job) const {
  return job.job_dir() / "console.log";
}

std::vector<std::string> ContainerExecutor::RuntimeEnvironment(const JobSpec& spec) const {
  // The secrets reach the container by name (`--env NAME`): the runtime copies them from here.
  EnvironmentMap environment = options_.runtime_environment;
  for (const auto& [key, value] : spec.secret_environment) environment[key] = value;
  return FormatEnvironment(environment);
}

Status ContainerExecutor::Follow(Job& job) {
  auto& container_job = static_cast<ContainerJob&>(job);
  return FollowContainer(container_job, &container_job.followed_exit_code,
                         &container_job.runtime_error);
}

void ContainerExecutor::AfterFollow(Job& job) {
  StopFollowingOutput(static_cast<ContainerJob&>(job));
}

RecordedJobsExecutor::Outcome ContainerExecutor::Settle(Job& job) {
  const auto& container_job = static_cast<const ContainerJob&>(job);
  if (object_store_staging()) {
    // No record: the wrapper never finished in the container; its exit code says the rest.
    Status fetched = StagedJobOf(job).FetchExitRecord();
    if (!fetched.ok() && fetched.code() != StatusCode::kNotFound) {
      Logger("executor").warn("job={} exit record not fetched: {}", job.name(), fetched.message());
    }
  }
  int exit_code = container_job.followed_exit_code;
  std::string runtime_error = container_job.runtime_error;
  if (runtime_error.empty()) {
    std::optional<int> wrapper_exit = ReadWrapperExitCode(job.root);
    // 125-127 without an exit file from the wrapper: the runtime's failure, unless it started
    // the container (then it is the command's: `sh -c missing` exits 127 too).
    if (!wrapper_exit && (exit_code == kRuntimeFailed || exit_code == 126 || exit_code == 127) &&
        !fs::exists(job.root.failure_file())) {
      std::string message = RuntimeMessage(ConsoleFile(job));
      if (!RunPrintedContainerId(message)) runtime_error = message;
    }
    exit_code = wrapper_exit.value_or(exit_code);
  }
  Outcome outcome{.exit_code = exit_code};
  if (!runtime_error.empty() && !container_job.image_reference.empty()) {
    // Maybe the image left the store since it was found: the next job looks again.
    puller_->Forget(ImageRuntimeOf(), container_job.image_reference);
  }
  if (!runtime_error.empty()) {
    outcome.launch_failure = "ClientError: " + options_.runtime +
                             " could not run the container (exit " + std::to_string(exit_code) +
                             "): " + runtime_error;
  }
  return outcome;
}

void ContainerExecutor::BeforePack(Job& job) {
  if (object_store_staging()) StagedJobOf(job).FetchOutputs();
  CopyContainerOutputToLog(job);
}

StagedJob ContainerExecutor::StagedJobOf(const Job& job) const {
  return StagedJob(*options_.job_staging, job.name(), job.root);
}

void ContainerExecutor::AfterEnd(Job& job) {
  if (object_store_staging()) StagedJobOf(job).Remove();
  // Only now that the end is recorded: until then, a container that is absent is one that was
  // never created.
  bool launched = false;
  {
    std::lock_guard lock(mutex_);
    launched = job.started_at.has_value();
  }
  if (launched) RemoveContainer(job.name());
}

ImageRuntime ContainerExecutor::ImageRuntimeOf() const {
  return ImageRuntime{.runtime = options_.runtime,
                      .runtime_path = options_.runtime_path,
                      .environment = options_.runtime_environment,
                      .auth_file = options_.auth_file,
                      .credentials = options_.registry_credentials,
                      .inspect_timeout = options_.check_timeout,
                      .pull_timeout = options_.pull_timeout};
}

Status ContainerExecutor::CheckTrainerImage(const std::string& image) {
  if (options_.pull != PullPolicy::kNever) return Status::Ok();
  const std::string reference =
      MapEcrReference(image.empty() ? options_.default_image : image, options_.ecr_registry);
  if (reference.empty()) return Status::Ok();  // Submit refuses it, saying why
  auto present = ImagePuller::Inspect(ImageRuntimeOf(), reference);
  if (present.ok()) return Status::Ok();
  if (present.status().code() == StatusCode::kNotFound) {
    return FailedPrecondition("training image " + reference + " is not on this host and " +
                              options_.runtime +
                              " may not pull it (--container-pull never): pull it first, or "
                              "let the server pull it (--container-pull missing)");
  }
  return present.status();
}

Result<std::string> ContainerExecutor::ResolveImage(Job& job) {
  const JobSpec& spec = job.spec;
  const std::string requested =
      MapEcrReference(spec.definition.training_image.empty() ? options_.default_image
                                                             : spec.definition.training_image,
                      options_.ecr_registry);
  const std::string reference = pins_.Find(spec.sweep_id, requested).value_or(requested);
  TY_RETURN_IF_ERROR(SetStatusMessage(job, "Downloading the training image"));
  auto stopped = [&] {
    std::lock_guard lock(mutex_);
    return job.stop_requested || shutting_down();
  };
  TY_ASSIGN_OR_RETURN(PresentImage image,
                      puller_->Ensure(ImageRuntimeOf(), reference, options_.pull, stopped));
  static_cast<ContainerJob&>(job).image_reference = reference;
  // A reference by digest (a sweep's pin) is itself what runs: the store may know the same
  // image by another digest too (another manifest of it), which would only confuse.
  const std::string& ran = reference.find('@') != std::string::npos ? reference
                           : image.digest_reference.empty()         ? image.id
                                                                    : image.digest_reference;
  pins_.Add(spec.sweep_id, requested, ran);
  {
    std::lock_guard lock(mutex_);
    job.image = requested;
    job.image_digest = ran;
  }
  // Recorded (and told to the listener) with the message that names it, just below.
  Logger("executor")
      .info("job={} image={} runs={} id={} pulled={}", job.name(), requested, ran, image.id,
            image.pulled);
  TY_RETURN_IF_ERROR(
      SetStatusMessage(job, std::string(image.pulled ? "Training image download completed: "
                                                     : "Training image present: ") +
                                ran + ". Training in progress."));
  return image.id;
}

Status ContainerExecutor::Launch(Job& job) {
  const JobSpec& spec = job.spec;
  TY_ASSIGN_OR_RETURN(std::string image_id, ResolveImage(job));
  if (!object_store_staging() && options_.checkpoint_presigner) {
    // Its container starts at once: the URLs' margin is for the last store after a stop.
    TY_RETURN_IF_ERROR(KeepCheckpointBehindUrls(*options_.checkpoint_presigner,
                                                options_.staging_url_margin, job.spec)
                           .WithContext("the job's checkpoint in the object store"));
  }
  ContainerLaunch launch{.host_root = job.root.root(), .image = image_id};
  std::vector<std::string> environment = RuntimeEnvironment(spec);
  if (object_store_staging()) {
    // Nothing of this machine is mounted: the manifest, passed by name as the secrets are,
    // tells the wrapper inside where its input, outputs and checkpoint go.
    TY_ASSIGN_OR_RETURN(std::string manifest,
                        StagedJobOf(job).PublishInput(spec, options_.staging_url_margin));
    launch.host_root.clear();
    launch.passed = {kStagingManifestVariable};
    launch.staging_url = StagingManifestUrl(manifest);
    environment.push_back(std::string(kStagingManifestVariable) + "=" + manifest);
  } else {
    // A checkpoint behind URLs (the presigner's, or a SageMaker CheckpointConfig's S3Uri) needs
    // a network that reaches the store.
    launch.staging_url = CheckpointStoreUrl(spec);
    launch.checkpoint_stores = HostCheckpointStores(options_, spec);
    // A volume's directory must exist before the runtime mounts it.
    for (const fs::path& store : launch.checkpoint_stores) {
      TY_RETURN_IF_ERROR(MakeDirectories(store));
    }
  }
  std::vector<std::string> argv = ContainerRunArguments(options_, spec, launch);
  environment.push_back(std::string(kLaunchMarker) + "=" + job.root.root().string());
  {
    std::lock_guard lock(mutex_);
    if (shutting_down()) return Unavailable("the executor is shutting down");
    if (job.stop_requested) return Cancelled("stopped before training started");
    // Under the lock, so that a Stop either comes before (and is seen above) or after the
    // launch, which the following then stops.
    TY_ASSIGN_OR_RETURN(
        job.process, SpawnDetached(argv, environment, ConsoleFile(job), job.launch_claim_file()));
    job.started_at = std::chrono::system_clock::now();
  }
  ReachStep(options_.on_step, "executor.launched", spec.definition.job_name);
  Persist(job, Durability::kDurable);
  return Status::Ok();
}

namespace {

// A container whose process has ended for good ("stopped": podman's, before its cleanup).
bool HasEnded(const std::string& status) {
  return status == "exited" || status == "stopped" || status == "dead";
}

// A container that was created but never started: none of the job's code ran.
bool NeverStarted(const std::string& status) {
  return status == "created" || status == "configured" || status == "initialized";
}

}  // namespace

Status ContainerExecutor::FollowContainer(ContainerJob& job, int* exit_code,
                                          std::string* runtime_error) {
  const JobSpec& spec = job.spec;
  const std::string& name = spec.definition.job_name;
  ProcessIdentity launch;
  {
    std::lock_guard lock(mutex_);
    launch = job.process;
  }
  // The `run --detach` ends once the container runs, or once it failed to make or start it.
  {
    ProcessWaiter waiter(launch);
    while (!waiter.WaitForExit(kDetachedPollInterval)) {
      if (shutting_down()) return Unavailable("the executor is shutting down");
    }
  }
  // A first look only once the container's own start is past: `inspect` is a runtime process of
  // its own, which would compete with that start for the CPU.
  for (auto look_at = steady_clock::now() + kFirstInspectDelay;
       steady_clock::now() < look_at && !ReadWrapperExitCode(job.root);) {
    if (shutting_down()) return Unavailable("the executor is shutting down");
    std::this_thread::sleep_for(kDetachedPollInterval);
  }
  TY_ASSIGN_OR_RETURN(ContainerState state, InspectContainer(job));
  if (!state.exists && ReadWrapperExitCode(job.root)) {
    // It ran and ended, and its container was removed by someone else: the exit file says how.
    *exit_code = kKilledExitCode;
    return Status::Ok();
  }
  if (!state.exists || NeverStarted(state.status)) {
    std::string message = RuntimeMessage(ConsoleFile(job));
    if (!state.exists && IsContainerId(message)) {
      // The `run` printed the id of the container it started, which is gone since.
      message = "container " + message.substr(0, 12) + " was removed outside trainyard";
    }
    *runtime_error = message.empty() ? "no container was created" : message;
    *exit_code = state.exists && state.exit_code != 0 ? state.exit_code : kRuntimeFailed;
    return Status::Ok();
  }

  // It started: what it prints is the job's log from now on (when no wrapper writes one).
  StartFollowingOutput(job);
  // Followed by its first process's pid (no child of ours, no polling of the runtime) while
  // it is visible; otherwise, and once it has ended, by `inspect`.
  std::optional<ProcessWaiter> waiter;
  if (!HasEnded(state.status) && state.pid > 0) {
    auto start_time = ProcessStartTime(state.pid);
    if (start_time.ok()) waiter.emplace(ProcessIdentity{state.pid, *start_time});
  }
  // Without a pid to wait on (it ended between the two looks, or lives in another pid
  // namespace), a second look at once, then one a second: each `inspect` costs a process.
  milliseconds inspect_interval = waiter ? kDetachedPollInterval : milliseconds(1'000);
  auto next_inspect = steady_clock::now() + kDetachedPollInterval;
  std::vector<std::string> environment = RuntimeEnvironment(spec);
  fs::path console = ConsoleFile(job);
  pid_t stop_pid = -1;
  std::optional<steady_clock::time_point> next_stop_at, remove_at;
  bool stop_succeeded = false, removed = false;
  while (state.exists && !HasEnded(state.status)) {
    if (waiter) {
      if (waiter->WaitForExit(kDetachedPollInterval)) {
        waiter.reset();
        next_inspect = steady_clock::now();
      }
    } else {
      std::this_thread::sleep_for(kDetachedPollInterval);
    }
    if (shutting_down()) return Unavailable("the executor is shutting down");
    auto now = steady_clock::now();
    bool stopping = false, changed = false;
    {
      std::lock_guard lock(mutex_);
      changed = MarkMaxRuntimeExceeded(job);
      stopping = job.stop_requested;
    }
    if (changed) {
      Persist(job);
      NotifyStatusChanged(name);
    }
    if (stopping) {
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
        auto started = SpawnRuntime(ContainerStopArguments(options_, name, spec.stop_grace_period),
                                    environment, console);
        if (started.ok()) stop_pid = *started;
      }
      if (!removed && now >= *remove_at) {
        // The container outlived its stop: remove it.
        RemoveContainer(name);
        removed = true;
        next_inspect = now;
      }
    }
    if (!waiter && now >= next_inspect) {
      TY_ASSIGN_OR_RETURN(state, InspectContainer(job));
      next_inspect = now + inspect_interval;
    }
  }
  if (stop_pid > 0 && !WaitForChild(stop_pid, options_.check_timeout)) {
    ::kill(-stop_pid, SIGKILL);
    // Only reaps the `stop`: the container's own exit code below is what counts.
    (void)WaitForChild(stop_pid, std::chrono::seconds(5));
  }
  // A container removed under us (its stop outlived) left no exit code: it was killed.
  *exit_code = state.exists ? state.exit_code : kKilledExitCode;
  return Status::Ok();
}

Result<ContainerExecutor::ContainerState> ContainerExecutor::InspectContainer(const Job& job) {
  std::vector<std::string> argv = ContainerInspectArguments(options_, job.spec.definition.job_name);
  std::vector<std::string> environment = FormatEnvironment(options_.runtime_environment);
  Status failure;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kStopRetryInterval);
    auto output = RunCommand(argv, environment, options_.check_timeout);
    if (!output.ok()) {
      failure = output.status();
      continue;
    }
    std::string text = Trim(output->output);
    if (output->exit_code == 0) {
      ContainerState state;
      state.exists = true;
      std::istringstream fields(text);
      if (fields >> state.status >> state.exit_code >> state.pid) return state;
      failure = Internal("unexpected answer: " + text);
      continue;
    }
    std::string lowered = text;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    // podman: "no such object", docker: "No such object" / "No such container".
    if (lowered.find("no such") != std::string::npos) return ContainerState{};
    if (text.size() > kRuntimeMessageLimit) text.resize(kRuntimeMessageLimit);
    failure = Internal("exited with " + std::to_string(output->exit_code) + ": " + text);
  }
  return failure.WithContext("'" + options_.runtime + " inspect' of job '" +
                             job.spec.definition.job_name + "'");
}

void ContainerExecutor::StartFollowingOutput(ContainerJob& job) {
  if (!RunsWithoutWrapper(job.spec) || job.log_follower != -1) return;
  const std::string& name = job.spec.definition.job_name;
  Status made = MakeDirectories(job.root.output_data_dir());
  Result<pid_t> follower = made;
  if (made.ok()) {
    std::vector<std::string> argv = ContainerLogsArguments(options_, name);
    argv.insert(argv.end() - 1, "--follow");
    follower =
        SpawnRuntime(argv, FormatEnvironment(options_.runtime_environment), job.root.log_file());
  }
  if (!follower.ok()) {
    Logger("executor")
        .warn("job={} container output not followed into the log: {}", name,
              follower.status().message());
    return;
  }
  job.log_follower = *follower;
}

void ContainerExecutor::StopFollowingOutput(ContainerJob& job) {
  if (job.log_follower == -1) return;
  // It ends by itself with the container; one killed here misses nothing, as the whole output
  // is copied again when the job ends.
  if (!WaitForChild(job.log_follower, std::chrono::seconds(5))) {
    ::kill(-job.log_follower, SIGKILL);
    if (!WaitForChild(job.log_follower, std::chrono::seconds(5))) {
      Logger("executor")
          .warn("job={} log follower pid={} did not end", job.spec.definition.job_name,
                job.log_follower);
    }
  }
  job.log_follower = -1;
}

void ContainerExecutor::CopyContainerOutputToLog(const Job& job) {
  const std::string& name = job.spec.definition.job_name;
  if (!RunsWithoutWrapper(job.spec)) {
    // trainyard-wrap writes the log itself (and the same lines to the container's stdout and
    // stderr): copy only when no wrapper ran.
    if (ReadWrapperExitCode(job.root)) return;
    std::error_code error;
    uintmax_t log_bytes = fs::file_size(job.root.log_file(), error);
    if (!error && log_bytes > 0) return;
  }
  auto warn = [&](const std::string& why) {
    Logger("executor").warn("job={} container output not copied to the log: {}", name, why);
  };
  if (Status made = MakeDirectories(job.root.output_data_dir()); !made.ok()) {
    return warn(made.message());
  }
  // Streamed to a file by the runtime itself (a log of any size costs no memory here), then
  // renamed over what the follower wrote (which a restart may have cut short): a reader sees
  // one log or the other, never half of one.
  fs::path copy = job.root.log_file();
  copy += ".copy";
  std::error_code ignored;
  fs::remove(copy, ignored);
  auto logs = SpawnRuntime(ContainerLogsArguments(options_, name),
                           FormatEnvironment(options_.runtime_environment), copy);
  if (!logs.ok()) return warn(logs.status().message());
  std::optional<int> exit_code = WaitForChild(*logs, options_.check_timeout);
  if (!exit_code) {
    ::kill(-*logs, SIGKILL);
    exit_code = WaitForChild(*logs, std::chrono::seconds(5));
    warn("'" + options_.runtime + " logs' ran past " +
         std::to_string(options_.check_timeout.count()) + " ms");
  } else if (*exit_code != 0) {
    auto message = ReadFile(copy);
    warn("'" + options_.runtime + " logs' exited " + std::to_string(*exit_code) + ": " +
         Trim(message.ok() ? message->substr(0, kRuntimeMessageLimit) : ""));
  } else {
    std::error_code renamed;
    fs::rename(copy, job.root.log_file(), renamed);
    if (!renamed) return;
    warn(renamed.message());
  }
  fs::remove(copy, ignored);
}

void ContainerExecutor::RemoveContainer(const std::string& job_name) {
  const std::string container_name = ContainerName(options_, job_name);
  auto removed =
      RunCommand(ContainerRemoveArguments(options_, job_name),
                 FormatEnvironment(options_.runtime_environment), options_.check_timeout);
  if (!removed.ok()) {
    Logger("executor")
        .warn("container={} could not be removed: {}", container_name, removed.status().message());
  } else if (removed->exit_code != 0 && removed->output.find("no such") == std::string::npos &&
             removed->output.find("No such") == std::string::npos) {
    Logger("executor")
        .warn("container={} could not be removed: {}", container_name, Trim(removed->output));
  }
}

Status ContainerExecutor::AdoptRunningJobs() {
  if (!options_.detach_jobs) return FailedPrecondition("adopting jobs needs detach_jobs");
  std::vector<std::string> list = ContainerListArguments(options_);
  auto listed =
      RunCommand(list, FormatEnvironment(options_.runtime_environment), options_.check_timeout);
  if (!listed.ok()) return listed.status().WithContext("cannot list the containers");
  if (listed->exit_code != 0) {
    return Internal("'" + Joined(list) + "' exited with " + std::to_string(listed->exit_code) +
                    ": " + Trim(listed->output));
  }
  std::set<std::string> containers;
  std::istringstream lines(listed->output);
  for (std::string line; std::getline(lines, line);) {
    if (!Trim(line).empty()) containers.insert(Trim(line));
  }
  TY_ASSIGN_OR_RETURN(std::set<std::string> kept, AdoptRecordedJobs());
  std::set<std::string> owned;
  for (const std::string& name : kept) owned.insert(ContainerName(options_, name));
  // Containers of this work dir that no job follows: those of ended jobs, and any other.
  const std::string& prefix = options_.container_name_prefix;
  for (const std::string& container : containers) {
    if (owned.count(container) || container.rfind(prefix, 0) != 0) continue;
    Logger("executor").info("container={} belongs to no running job: removed", container);
    RemoveContainer(container.substr(prefix.size()));
  }
  return Status::Ok();
}

}  // namespace trainyard::executor
