#include "wrapper/wrapper.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/environment.h"
#include "common/files.h"
#include "common/time_format.h"
#include "contract/job_json.h"
#include "contract/progress_body.h"
#include "contract/script_mode_environment.h"
#include "wrapper/channel_unpacker.h"
#include "wrapper/checkpoint_sync.h"
#include "wrapper/command.h"
#include "wrapper/exec_limits.h"
#include "wrapper/staging.h"
#include "wrapper/supervisor.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// SageMaker keeps only the first 1024 characters of the failure file as FailureReason.
constexpr size_t kFailureReasonLimit = 1024;
// How long the last progress POST may hold the job's exit when the server is slow or down.
constexpr std::chrono::milliseconds kFinalReportDeadline{3'000};

// The wrapper's own messages go to stderr and into the training log, so a user reading either
// sees why a job did not start.
class WrapperLog {
 public:
  explicit WrapperLog(const fs::path& log_file) {
    std::error_code ignored;
    fs::create_directories(log_file.parent_path(), ignored);
    fd_ = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  ~WrapperLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  // Says what went wrong with `status`, after `what`, when it failed.
  void SayIfFailed(const Status& status, const std::string& what) const {
    if (!status.ok()) Say(what + ": " + status.message());
  }
  void Say(const std::string& message) const {
    std::string line = "trainyard-wrap: " + message + "\n";
    // This is the wrapper's only log: a line it cannot write has nowhere else to go.
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    if (fd_ >= 0) ignored = ::write(fd_, line.data(), line.size());
    (void)ignored;
  }

 private:
  int fd_ = -1;
};

// As AWS's toolkit does: the lines of `nvidia-smi --list-gpus` that start with "GPU ". Looked up
// on PATH first, so that machines without it pay no fork.
int CountGpus(const std::string& search_path) {
  if (!FindExecutable("nvidia-smi", search_path)) return 0;
  FILE* pipe = ::popen("nvidia-smi --list-gpus 2>/dev/null", "r");
  if (!pipe) return 0;
  int count = 0;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    if (std::string_view(line).starts_with("GPU ")) ++count;
  }
  ::pclose(pipe);
  return count;
}

std::string SignalName(int signal_number) {
  const char* abbreviation = sigabbrev_np(signal_number);
  return abbreviation ? std::string("SIG") + abbreviation : std::to_string(signal_number);
}

// Header line, then as much of the END of stderr as fits: the last lines say what went wrong.
std::string FailureText(const std::string& header, const std::string& stderr_tail) {
  std::string text = header;
  if (!stderr_tail.empty()) {
    size_t room = kFailureReasonLimit > text.size() + 1 ? kFailureReasonLimit - text.size() - 1 : 0;
    std::string tail =
        stderr_tail.size() > room ? stderr_tail.substr(stderr_tail.size() - room) : stderr_tail;
    text += "\n" + tail;
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(0, kFailureReasonLimit);
}

// How a job that the wrapper ended is labelled, as SageMaker labels FailureReason: the command's
// own failure is AlgorithmError (the executor's default); a failure before the command ran is the
// job's input or settings (ClientError: a refused archive, a command that does not exist) or
// trainyard's (InternalServerError), never the algorithm's.
struct JobEnd {
  int signal_number = 0;     // the command died of this signal
  std::string failure_type;  // empty: the command's own exit
};

std::string SetupFailureType(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInternal:
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
    case StatusCode::kDeadlineExceeded: return "InternalServerError";
    default: return "ClientError";
  }
}

// A failure before the command ran: recorded where SageMaker looks for it, with its label.
int FailSetup(const contract::MlRoot& root, const WrapperLog& log, const Status& status,
              int exit_code, JobEnd* end) {
  end->failure_type = SetupFailureType(status);
  log.Say(status.message());
  if (!fs::exists(root.failure_file())) {
    Status written = MakeDirectories(root.output_dir());
    if (written.ok()) {
      written = WriteFileAtomic(root.failure_file(),
                                FailureText("trainyard-wrap: " + status.message(), ""));
    }
    log.SayIfFailed(written, "cannot write the failure file");
  }
  return exit_code;
}

std::map<std::string, std::string> ChildEnvironment(
    const std::map<std::string, std::string>& own, const contract::JobDefinition& job,
    const std::map<std::string, std::string>& script_mode, const fs::path& job_json) {
  std::map<std::string, std::string> environment = own;
  // The job token authenticates the wrapper to the server; the ML code has no use for it.
  environment.erase("TRAINYARD_JOB_TOKEN");
  // Nor for the staging manifest's URLs, which are the wrapper's to use, nor the checkpoint's.
  environment.erase("TRAINYARD_STAGING");
  environment.erase("TRAINYARD_CHECKPOINT_URLS");
  for (const auto& [key, value] : job.environment) environment.emplace(key, value);
  for (const auto& [key, value] : script_mode) environment[key] = value;
  environment["TRAINYARD_JOB_JSON"] = job_json.string();
  return environment;
}

// The job's checkpoint sync, when the job has a checkpoint location: the staging manifest's URLs,
// else TRAINYARD_CHECKPOINT_STORE. Null: none.
std::unique_ptr<CheckpointSync> MakeCheckpointSync(const WrapperOptions& options,
                                                   const contract::MlRoot& root,
                                                   const WrapperLog& log) {
  CheckpointSyncOptions sync{.checkpoint_dir = root.checkpoint_dir(),
                             .scratch_dir = root.output_dir() / "checkpoint-sync",
                             .interval = options.checkpoint_interval,
                             .say = [&log](const std::string& message) { log.Say(message); }};
  const std::optional<StagedCheckpoint>& urls =
      options.checkpoint_urls ? options.checkpoint_urls
                              : (options.staging ? options.staging->checkpoint : std::nullopt);
  if (urls) {
    const StagedCheckpoint& staged = *urls;
    sync.location = UrlCheckpointLocation(staged.get_url, staged.put_url, options.transfer);
    if (!staged.restore_from_url.empty()) {
      sync.restore_from = UrlCheckpointLocation(staged.restore_from_url, "", options.transfer);
    }
  } else if (!options.checkpoint_store.empty()) {
    sync.location = DirectoryCheckpointLocation(options.checkpoint_store);
    if (!options.checkpoint_restore_from.empty()) {
      sync.restore_from = DirectoryCheckpointLocation(options.checkpoint_restore_from);
    }
  } else {
    return nullptr;
  }
  sync.unpack_limits.keep_free_bytes = options.unpack_limits.keep_free_bytes;
  return std::make_unique<CheckpointSync>(std::move(sync));
}

// Everything RunWrapper does but the exit file; `end` says how the job ended.
int RunJob(const WrapperOptions& options, const std::map<std::string, std::string>& environment,
           JobEnd* end) {
  BlockSupervisedSignals();  // before the reporter thread exists
  std::signal(SIGPIPE, SIG_IGN);
  // Orphans of the command come to us (as they would to PID 1 in a container) so they are reaped.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  contract::MlRoot root(options.ml_root);
  WrapperLog log(root.log_file());
  if (options.staging) {
    Status downloaded =
        DownloadInputs(root, *options.staging, options.transfer,
                       [&](const std::string& message) { log.Say("staging: " + message); });
    if (!downloaded.ok()) return FailSetup(root, log, downloaded, kExitSetupFailed, end);
  }
  auto job_or = contract::ReadConfigFiles(root);
  if (!job_or.ok()) return FailSetup(root, log, job_or.status(), kExitSetupFailed, end);
  contract::JobDefinition job = std::move(job_or).value();
  if (job.job_name.empty())
    job.job_name = options.job_name.empty() ? "local-job" : options.job_name;
  for (const fs::path& directory :
       {root.model_dir(), root.output_data_dir(), root.checkpoint_dir()}) {
    if (Status status = MakeDirectories(directory); !status.ok()) {
      return FailSetup(root, log, status, kExitSetupFailed, end);
    }
  }

  for (const std::string& name : KeptChannelsNotInJob(options.kept_archives, job.channels)) {
    log.Say("TRAINYARD_KEEP_ARCHIVES names '" + name + "', which is not a channel of this job");
  }
  Result<std::map<std::string, contract::ChannelContents>> channels =
      Internal("channels not prepared");
  try {
    channels = PrepareChannels(root, job.channels, options.kept_archives, options.unpack_limits,
                               static_cast<uint64_t>(job.resources.volume_size_gb) << 30);
  } catch (const fs::filesystem_error& error) {
    channels = Internal(error.what());
  }
  if (!channels.ok()) {
    Status failure = channels.status();
    if (failure.code() == StatusCode::kResourceExhausted) {
      failure = Status(
          failure.code(),
          failure.message() +
              " (trainyard-wrap's environment may raise the limits: TRAINYARD_UNPACK_MAX_BYTES,"
              " TRAINYARD_UNPACK_MAX_RATIO, TRAINYARD_UNPACK_MAX_ENTRIES; or keep the "
              "channel packed: TRAINYARD_KEEP_ARCHIVES)");
    }
    return FailSetup(root, log, failure, kExitSetupFailed, end);
  }
  for (const auto& [name, contents] : *channels) {
    for (const std::string& archive : contents.unpacked_archives) {
      log.Say("unpacked " + name + "/" + archive);
    }
  }

  auto path = environment.find("PATH");
  contract::HostFacts host{CountGpus(path == environment.end() ? "" : path->second),
                           static_cast<int>(std::thread::hardware_concurrency())};
  json job_json = contract::BuildJobJson(root, job, *channels, host);
  if (Status status =
          WriteFileAtomic(root.job_json_file(), job_json.dump(2) + "\n", Durability::kAtomicOnly);
      !status.ok()) {
    return FailSetup(root, log, status, kExitSetupFailed, end);
  }

  std::unique_ptr<CheckpointSync> checkpoints = MakeCheckpointSync(options, root, log);
  if (checkpoints) {
    if (Status restored = checkpoints->Restore(); !restored.ok()) {
      return FailSetup(root, log, restored, kExitSetupFailed, end);
    }
  }

  auto command = ResolveCommand(options, job, root);
  if (!command.ok()) {
    int code =
        command.status().code() == StatusCode::kNotFound ? kExitCommandNotFound : kExitSetupFailed;
    return FailSetup(root, log, command.status(), code, end);
  }
  auto script_mode =
      contract::BuildScriptModeEnvironment(root, job, host, command->user_entry_point);
  // A stop that came while the job was being prepared (unpacking can take minutes) ends it here:
  // starting the command only to stop it at once would help nobody.
  if (int signal_number = PendingStopSignal()) {
    log.Say("stopped (" + SignalName(signal_number) + ") before the command started");
    return 128 + signal_number;
  }
  std::map<std::string, std::string> child_environment =
      ChildEnvironment(environment, job, script_mode, root.job_json_file());
  auto left_out = FitToExecLimits(command->argv, &child_environment, CurrentExecLimits());
  if (!left_out.ok()) return FailSetup(root, log, left_out.status(), kExitSetupFailed, end);
  for (const LeftOutVariable& variable : *left_out) {
    log.Say(variable.name + " is left out of the command's environment: its " +
            std::to_string(variable.bytes) +
            " bytes do not fit in what Linux passes to a program (128 KiB a variable, ARG_MAX in "
            "all); the same data is in job.json ($TRAINYARD_JOB_JSON) and " +
            root.input_config_dir().string());
  }
  SpawnRequest request{command->argv, FormatEnvironment(child_environment),
                       command->working_directory};

  std::unique_ptr<ProgressReporter> reporter;
  if (!options.callback_url.empty()) {
    reporter = std::make_unique<ProgressReporter>(
        ReporterOptions{.url = options.callback_url,
                        .token = options.job_token,
                        .job_name = job.job_name,
                        .through_proxy = options.callback_through_proxy});
  }
  SupervisorOptions supervisor_options{
      .grace_period = options.grace_period,
      .progress_interval = options.progress_interval,
      .log_fd = log.fd(),
      .progress_file = root.progress_file(),
      .state_file = root.wrapper_state_file(),
      .metrics_file = root.metrics_file(),
      .metric_definitions = job.metric_definitions,
  };
  Supervisor supervisor(supervisor_options, reporter.get());
  if (checkpoints) checkpoints->StartPeriodicSync();
  auto outcome = supervisor.Run(request);
  // After the command's end, its stop's grace or its SIGKILL: what it left is stored. A failure
  // costs the next run some progress, not this job its result: said, not fatal.
  if (checkpoints) log.SayIfFailed(checkpoints->Finish(), "checkpoint");
  if (!outcome.ok()) {
    int code =
        outcome.status().code() == StatusCode::kNotFound ? kExitCommandNotFound : kExitSetupFailed;
    if (reporter)
      reporter->Finish(supervisor.TakeFinalUpdate(), {.code = code}, kFinalReportDeadline);
    return FailSetup(root, log, outcome.status(), code, end);
  }
  for (const std::string& warning : outcome->warnings) log.Say(warning);

  contract::ProgressExit exit{.code = outcome->exit_code};
  if (outcome->signal) exit.signal = SignalName(outcome->signal);
  end->signal_number = outcome->signal;
  if (outcome->exit_code != 0) {
    std::string header = outcome->signal ? "killed by signal " + SignalName(outcome->signal)
                                         : "exit code: " + std::to_string(outcome->exit_code);
    // AWS's toolkit never overwrites a failure file the code wrote itself; neither do we.
    if (!fs::exists(root.failure_file())) {
      log.SayIfFailed(
          WriteFileAtomic(root.failure_file(), FailureText(header, outcome->stderr_tail)),
          "cannot write the failure file");
    }
    log.Say("command ended: " + header);
  }
  if (reporter) reporter->Finish(supervisor.TakeFinalUpdate(), exit, kFinalReportDeadline);
  return outcome->exit_code;
}

}  // namespace

int RunWrapper(const WrapperOptions& options,
               const std::map<std::string, std::string>& environment) {
  JobEnd end;
  int exit_code = RunJob(options, environment, &end);
  contract::MlRoot root(options.ml_root);
  if (options.staging) {
    WrapperLog log(root.log_file());
    Status uploaded =
        UploadOutputs(root, *options.staging, options.transfer,
                      [&](const std::string& message) { log.Say("staging: " + message); });
    if (!uploaded.ok()) {
      // The outputs are lost to the server: the job cannot count as completed.
      if (exit_code == 0) exit_code = kExitSetupFailed;
      end.failure_type = "InternalServerError";
      log.SayIfFailed(WriteFileAtomic(root.failure_file(),
                                      FailureText("trainyard-wrap: " + uploaded.message(), "")),
                      "cannot write the failure file");
    }
  }
  // Whoever follows the job without being our parent (a restarted server) learns the result
  // here; written last, so that its presence means every other file is complete.
  json result = {{"exit_code", exit_code},
                 {"ended_at", FormatIso8601(std::chrono::system_clock::now())}};
  if (end.signal_number) result["signal"] = SignalName(end.signal_number);
  if (!end.failure_type.empty()) result["failure_type"] = end.failure_type;
  if (options.staging) {
    // The server does not see this root: the failure file and the last progress and metrics
    // (what the server's Describe reads from a root it sees) travel in the record.
    if (auto failure = ReadFile(root.failure_file()); failure.ok()) result["failure"] = *failure;
    if (auto state = ReadFile(root.wrapper_state_file()); state.ok()) {
      json parsed = json::parse(*state, nullptr, false);
      if (parsed.is_object()) result["state"] = std::move(parsed);
    }
  }
  Status written = MakeDirectories(root.output_dir());
  if (written.ok()) written = WriteFileAtomic(root.exit_file(), result.dump() + "\n");
  // Without it a restarted server cannot tell how the job ended: say so where people look.
  if (!written.ok())
    WrapperLog(root.log_file()).Say("cannot write the exit file: " + written.message());
  if (options.staging && written.ok()) {
    // Last: its arrival tells the server that every other output is complete.
    Status uploaded = UploadFile(options.staging->outputs.at(kStagedExitRecord), root.exit_file(),
                                 options.transfer);
    if (!uploaded.ok()) {
      WrapperLog(root.log_file())
          .Say("staging: uploading the exit record failed: " + uploaded.message());
    }
  }
  if (options.staging && options.remove_root_after_staging) {
    std::error_code error;
    fs::remove_all(root.root(), error);
    if (error) {
      std::string line = "trainyard-wrap: cannot remove the job's root '" + root.root().string() +
                         "': " + error.message() + "\n";
      // stderr is all that is left to say it on.
      ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
      (void)ignored;
    }
  }
  return exit_code;
}

}  // namespace trainyard::wrapper
