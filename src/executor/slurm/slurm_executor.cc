#include "executor/slurm/slurm_executor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "executor/container/container_command.h"
#include "executor/job_root.h"
#include "executor/slurm/batch_script.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using core::SecondaryStatus;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr size_t kOutputTailLimit = 1024;
// What the recovery writes into a launch claim that it creates: no Slurm job id, so a batch
// script that comes later finds someone else's claim and runs nothing.
constexpr char kFenced[] = "fenced";
// Object-store staging: the working directory of every job on its node (it makes its root there).
constexpr char kNodeWorkingDirectory[] = "/tmp";

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

// Creates `claim` holding "fenced" unless it exists. nullopt: created now (the batch script
// never got past it, and never will); otherwise what the batch script wrote: its Slurm job id.
Result<std::optional<std::string>> FenceSlurmLaunch(const fs::path& claim) {
  int fd = ::open(claim.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t written = ::write(fd, kFenced, sizeof(kFenced) - 1);
    bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (written != static_cast<ssize_t>(sizeof(kFenced) - 1) || !synced) {
      return Internal("cannot write the launch claim '" + claim.string() + "'");
    }
    return std::optional<std::string>();
  }
  if (errno != EEXIST) {
    return Internal("cannot create the launch claim '" + claim.string() +
                    "': " + std::strerror(errno));
  }
  // The script writes its id with one echo: give a claim caught empty a moment.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto text = ReadFile(claim);
    if (text.ok() && !Trimmed(*text).empty()) return std::optional<std::string>(Trimmed(*text));
    std::this_thread::sleep_for(milliseconds(50));
  }
  return std::optional<std::string>(std::string());
}

}  // namespace

SlurmExecutor::SlurmExecutor(SlurmExecutorOptions options, SlurmTransportPtr transport)
    // Absolute: the nodes read the job roots at the same path.
    : RecordedJobsExecutor(RecordedJobsOptions{.work_dir = options.work_dir.empty()
                                                               ? fs::current_path()
                                                               : fs::absolute(options.work_dir),
                                               .keep_job_roots = options.keep_job_roots,
                                               .record_jobs = true,
                                               .detach_jobs = options.detach_jobs,
                                               .record_every_transition = true,
                                               .process_field = "pid",
                                               .launch_marker_variable = "TRAINYARD_ML_ROOT",
                                               .on_step = options.on_step}),
      options_(std::move(options)),
      transport_(std::move(transport)),
      pins_(recorded_jobs_options().work_dir / ImagePins::kFileName, options_.image_pin_retention) {
}

SlurmExecutor::~SlurmExecutor() {
  ShutDownJobs();
}

Status SlurmExecutor::AdoptRunningJobs() {
  return AdoptRecordedJobs().status();
}

fs::path SlurmExecutor::SharedArtifactDir(const std::string& job_name) const {
  if (!options_.detach_jobs) return {};
  return recorded_jobs_options().work_dir / job_name / "artifacts";
}

Status SlurmExecutor::Submit(const JobSpec& spec) {
  if (object_store_staging() && !options_.job_staging) {
    return FailedPrecondition("the slurm executor's object-store staging has no object store");
  }
  TY_RETURN_IF_ERROR(ValidateJobSpec(spec));
  // Checked again: a sweep's user may have left slurm_allowed_users since it was created.
  TY_RETURN_IF_ERROR(CheckRunAsUser(spec.run_as_user));
  TY_RETURN_IF_ERROR(ResourcesOf(spec.definition.resources).status());
  const std::string& image = spec.definition.training_image;
  if (!image.empty() && options_.container_runtime == SlurmContainerRuntime::kSrun &&
      !fs::path(image).is_absolute()) {
    return InvalidArgument("trainer.image '" + image +
                           "': the slurm executor runs images with srun --container, which takes "
                           "an OCI bundle: give the bundle's absolute path on the nodes "
                           "(docs/slurm.md, \"Images\")");
  }
  return RecordedJobsExecutor::Submit(spec);
}

std::unique_ptr<RecordedJobsExecutor::Job> SlurmExecutor::NewJob(JobSpec spec) const {
  return std::make_unique<SlurmJob>(std::move(spec), recorded_jobs_options().work_dir);
}

Status SlurmExecutor::Launch(Job& base_job) {
  auto& job = static_cast<SlurmJob&>(base_job);
  const JobSpec& spec = job.spec;
  const std::string& name = spec.definition.job_name;
  TY_ASSIGN_OR_RETURN(SlurmResources resources, ResourcesOf(spec.definition.resources));
  const std::string& image = spec.definition.training_image;
  std::string node_image;  // what podman on the node runs
  if (!image.empty()) {
    {
      std::lock_guard lock(mutex_);
      job.image = image;  // shown even when its pin fails the job
    }
    if (options_.container_runtime == SlurmContainerRuntime::kPodman) {
      TY_ASSIGN_OR_RETURN(node_image, PinnedImage(spec));
      std::lock_guard lock(mutex_);
      job.image_digest = node_image == image ? "" : node_image;
    }
  }

  // The wrapper's environment, as the local executor gives it; the secrets only by name.
  EnvironmentMap environment = options_.job_environment;
  for (const auto& [key, value] : spec.definition.environment) environment[key] = value;
  environment["TRAINYARD_ML_ROOT"] = job.root.root().string();
  environment["TRAINING_JOB_NAME"] = name;
  environment["TRAINYARD_STOP_GRACE_SECONDS"] =
      std::to_string(static_cast<double>(spec.stop_grace_period.count()) / 1000.0);
  environment["TRAINYARD_PROGRESS_INTERVAL_SECONDS"] =
      std::to_string(static_cast<double>(options_.progress_interval.count()) / 1000.0);
  // Shared-directory mode: the checkpoints lie in the shared work dir; object-store staging:
  // behind the manifest's URLs.
  if (!object_store_staging()) {
    AddCheckpointVariables(spec, CheckpointStoreRoot(recorded_jobs_options().work_dir),
                           &environment);
  }
  SlurmSubmission submission;
  submission.user = spec.run_as_user;
  std::vector<std::string> passed = SlurmJobVariables();
  for (const auto& [key, value] : spec.secret_environment) {
    environment.erase(key);
    submission.exported[key] = value;
    passed.push_back(key);
  }
  submission.script = job.job_dir() / kScriptFileName;
  fs::path launch_claim = job.launch_claim_file();
  fs::path node_dir = job.job_dir();
  std::string output_name = "slurm-%j.out";
  std::string manifest;
  if (object_store_staging()) {
    // The node makes its own root, reads nothing here, and writes Slurm's output in its /tmp.
    environment.erase("TRAINYARD_ML_ROOT");
    environment["TRAINYARD_STAGING_REMOVE_ROOT"] = "1";
    TY_ASSIGN_OR_RETURN(manifest, StagedJobOf(job).PublishInput(spec, options_.staging_url_margin));
    submission.exported[kStagingManifestVariable] = manifest;
    passed.push_back(kStagingManifestVariable);
    launch_claim.clear();
    node_dir = kNodeWorkingDirectory;
    output_name = "trainyard-" + name + "-%j.out";  // one /tmp for every job of the node
  }
  submission.options = SbatchOptions(spec, resources, options_.site, node_dir, output_name);
  std::string script;
  if (image.empty()) {
    script =
        BatchScript(name, options_.wrapper_path, spec.command, environment, passed, launch_claim);
  } else if (options_.container_runtime == SlurmContainerRuntime::kSrun) {
    // The bundle's own trainyard-wrap, over the root at its path on the node.
    script = BatchScript(name, kImageWrapperPath, spec.command, environment, passed, launch_claim,
                         {"srun", "--container=" + image});
  } else {
    // As the container executor runs it: the root at /opt/ml, the container's environment; the
    // secrets, the manifest and Slurm's variables copied by podman from the job's own.
    for (const auto& [key, value] : options_.container_runtime_environment) {
      submission.exported[key] = value;
    }
    ContainerExecutorOptions container{.work_dir = recorded_jobs_options().work_dir,
                                       .gpus = resources.gpus > 0,
                                       .network = options_.container_network,
                                       .progress_interval = options_.progress_interval,
                                       .stop_margin = options_.stop_margin};
    ContainerLaunch launch{.host_root = kScriptRoot, .passed = SlurmJobVariables()};
    if (object_store_staging()) {
      launch.passed.push_back(kStagingManifestVariable);
      launch.staging_url = StagingManifestUrl(manifest);
    } else {
      // The checkpoint stores in the shared work dir, mounted as the container executor mounts
      // its own; made here, since podman mounts only a directory that exists.
      launch.checkpoint_stores = HostCheckpointStores(container, spec);
      for (const fs::path& store : launch.checkpoint_stores) {
        TY_RETURN_IF_ERROR(MakeDirectories(store));
      }
    }
    launch.image = node_image;
    script = ContainerBatchScript(name, launch_claim, job.root.root(),
                                  NodeContainerRunArguments(container, spec, launch));
  }
  TY_RETURN_IF_ERROR(WriteFileAtomic(submission.script, script, Durability::kAtomicOnly));
  {
    std::lock_guard lock(mutex_);
    if (shutting_down()) return Unavailable("the executor is shutting down");
    if (job.stop_requested) return Cancelled("stopped before it was submitted to Slurm");
  }
  // The intent, on disk before sbatch (a power loss included): a restart that finds the job's
  // record without an id looks for the job in Slurm before anything is submitted again.
  Persist(job, Durability::kDurable);
  Result<std::string> slurm_id = transport_->Submit(submission);
  // Taken once sbatch has answered: a listing that another job's thread started while sbatch
  // ran may not hold the job yet, and must not make it look forgotten by Slurm.
  const auto submitted_at = steady_clock::now();
  if (!slurm_id.ok()) {
    Logger("executor").warn("job={} refused by Slurm: {}", name, slurm_id.status().message());
    return slurm_id.status();
  }
  ReachStep(options_.on_step, "executor.launched", name);
  TY_RETURN_IF_ERROR(
      WriteFileAtomic(job.job_dir() / kJobIdFileName, *slurm_id + "\n", Durability::kDurable));
  Logger("executor")
      .info("job={} submitted to Slurm as job {}{}", name, *slurm_id,
            spec.run_as_user.empty() ? "" : " of user " + spec.run_as_user);
  {
    std::lock_guard lock(mutex_);
    job.slurm_id = *slurm_id;
    job.submitted_at = submitted_at;
    WarnIfFailed("executor",
                 job.status.SetStatusMessage("Submitted to Slurm as job " + *slurm_id,
                                             std::chrono::system_clock::now()),
                 "job={} status message not set", name);
  }
  Persist(job);
  NotifyStatusChanged(name);
  return Status::Ok();
}

Result<std::string> SlurmExecutor::PinnedImage(const JobSpec& spec) {
  const std::string& image = spec.definition.training_image;
  if (!PinnableReference(image)) return image;
  if (std::optional<std::string> pin = pins_.Find(spec.sweep_id, image)) return *pin;
  if (options_.image_inspector.skopeo.empty()) return image;
  auto digest = PinToRegistryDigest(options_.image_inspector, image);
  if (!digest.ok()) {
    return Status(digest.status().code(),
                  "the image's digest could not be read from its registry (the server pins "
                  "each sweep's image; slurm_pin_images false runs it by tag): " +
                      std::string(digest.status().message()));
  }
  const std::string pinned = pins_.Add(spec.sweep_id, image, *digest);
  Logger("executor").info("job={} image={} pinned to {}", spec.definition.job_name, image, pinned);
  return pinned;
}

Result<std::optional<SlurmJobInfo>> SlurmExecutor::LookUp(const std::string& slurm_id,
                                                          const std::string& user,
                                                          steady_clock::time_point not_before) {
  std::lock_guard lock(listing_mutex_);
  auto now = steady_clock::now();
  Listing& listing = listings_[user];
  if (listing.listed_at <= not_before || now - listing.listed_at >= options_.poll_interval) {
    // Slurm's controller packs every job's record under its job table's lock for each listing,
    // and cannot start jobs meanwhile: one slow to answer (many jobs, a loaded machine) gets at
    // least as long to itself as the last listing took, instead of listings back to back.
    const auto pause = std::min<steady_clock::duration>(last_listing_took_, kMaxListingPause);
    if (now < last_listing_ended_ + pause) {
      std::this_thread::sleep_until(last_listing_ended_ + pause);
      now = steady_clock::now();
    }
    auto listed = transport_->ListJobs(user);
    last_listing_ended_ = steady_clock::now();
    last_listing_took_ = last_listing_ended_ - now;
    if (!listed.ok()) return listed.status();
    listing.jobs = std::move(listed).value();
    listing.listed_at = now;
  }
  for (const SlurmJobInfo& info : listing.jobs) {
    if (info.id == slurm_id) return std::optional<SlurmJobInfo>(info);
  }
  return std::optional<SlurmJobInfo>();
}

void SlurmExecutor::MarkStarted(SlurmJob& job, const SlurmJobInfo& info,
                                const std::string& message) {
  SecondaryStatus current;
  {
    std::lock_guard lock(mutex_);
    current = job.status.secondary_status();
    if (!job.started_at) {
      job.started_at = info.start_time > 0 ? TimePoint(std::chrono::seconds(info.start_time))
                                           : std::chrono::system_clock::now();
    }
  }
  if (current == SecondaryStatus::kStarting) {
    Status moved =
        Transition(job, SecondaryStatus::kDownloading, "Preparing the input on the node");
    if (moved.ok()) moved = Transition(job, SecondaryStatus::kTraining, message);
    if (!moved.ok() && moved.code() != StatusCode::kCancelled &&
        moved.code() != StatusCode::kUnavailable) {
      Logger("executor")
          .warn("job={} could not be marked Training: {}", job.name(), moved.message());
    }
  }
  // The start time is what the max runtime counts from, also after a restart.
  Persist(job, Durability::kDurable);
}

void SlurmExecutor::DeliverStop(SlurmJob& job, bool started,
                                std::optional<steady_clock::time_point>* kill_at, bool* term_sent,
                                bool* kill_sent) {
  const std::string& name = job.name();
  const std::string& user = job.spec.run_as_user;
  auto now = steady_clock::now();
  if (!started) {
    if (*term_sent) return;
    *term_sent = true;
    WarnIfFailed("executor", transport_->Cancel(job.slurm_id, user),
                 "job={} could not be cancelled in Slurm (job {})", name, job.slurm_id);
    return;
  }
  if (!*term_sent) {
    *term_sent = true;
    *kill_at = now + job.spec.stop_grace_period + options_.stop_margin;
    WarnIfFailed("executor", transport_->Signal(job.slurm_id, "TERM", user),
                 "job={} could not be sent SIGTERM through Slurm (job {})", name, job.slurm_id);
  } else if (!*kill_sent && *kill_at && now >= **kill_at) {
    *kill_sent = true;
    Logger("executor")
        .warn("job={} outlived its stop grace period: SIGKILL (Slurm job {})", name, job.slurm_id);
    WarnIfFailed("executor", transport_->Signal(job.slurm_id, "KILL", user),
                 "job={} could not be sent SIGKILL through Slurm (job {})", name, job.slurm_id);
  }
}

void SlurmExecutor::SignalStop(Job& job) {
  // Under mutex_: Follow's thread delivers the stop (scancel), not this caller's.
  static_cast<SlurmJob&>(job).wake.notify_all();
}

Status SlurmExecutor::Follow(Job& base_job) {
  auto& job = static_cast<SlurmJob&>(base_job);
  const std::string& name = job.name();
  std::string slurm_id;
  steady_clock::time_point submitted_at;
  {
    std::lock_guard lock(mutex_);
    slurm_id = job.slurm_id;
    submitted_at = job.submitted_at;
  }
  std::optional<steady_clock::time_point> kill_at;
  bool term_sent = false, kill_sent = false, failing = false;
  std::string last_message;
  auto next_look = steady_clock::now();
  while (true) {
    if (shutting_down()) return Unavailable("the executor is shutting down");
    bool stopping = false, changed = false, started = false;
    {
      std::lock_guard lock(mutex_);
      changed = MarkMaxRuntimeExceeded(job);
      stopping = job.stop_requested;
      started = job.started_at.has_value();
    }
    if (changed) {
      Persist(job);
      NotifyStatusChanged(name);
    }
    if (stopping) DeliverStop(job, started, &kill_at, &term_sent, &kill_sent);
    if (auto now = steady_clock::now(); now < next_look) {
      // Asleep until the next look at Slurm, the SIGKILL's time or the max runtime, whichever
      // comes first; a stop (SignalStop) wakes it at once. One thread per job, no busy ticks.
      auto until = next_look;
      if (kill_at && !kill_sent) until = std::min(until, *kill_at);
      std::unique_lock lock(mutex_);
      if (std::optional<TimePoint> deadline = job.runtime_deadline(); deadline && !stopping) {
        auto left = *deadline - std::chrono::system_clock::now();
        until = std::min(until, now + std::chrono::duration_cast<milliseconds>(left));
      }
      job.wake.wait_until(lock, until,
                          [&] { return shutting_down() || (job.stop_requested && !term_sent); });
      continue;
    }
    next_look = steady_clock::now() + options_.poll_interval;
    Result<std::optional<SlurmJobInfo>> looked =
        LookUp(slurm_id, job.spec.run_as_user, submitted_at);
    if (!looked.ok()) {
      // Slurm may be restarting: the job goes on there; ask again at the next poll.
      if (!failing) {
        Logger("executor")
            .warn("job={} Slurm job {} could not be looked up: {}", name, slurm_id,
                  looked.status().message());
      }
      failing = true;
      continue;
    }
    failing = false;
    if (!looked->has_value()) {
      // Slurm forgot it: it ended longer ago than MinJobAge (a restart), or was never there.
      job.vanished = true;
      return Status::Ok();
    }
    const SlurmJobInfo& info = **looked;
    job.last_seen = info;
    SlurmJobView view = InterpretSlurmJob(info);
    if (view.phase == SlurmPhase::kEnded) {
      if (info.start_time > 0) MarkStarted(job, info, "Training in progress");
      job.ended = view;
      return Status::Ok();
    }
    if (view.phase == SlurmPhase::kRunning) {
      if (!started) MarkStarted(job, info, view.message);
    } else if (view.never_runs && !stopping) {
      job.refused = "ClientError: Slurm cannot run the job: " + view.message;
      Logger("executor").warn("job={} {}: cancelled", name, job.refused);
      WarnIfFailed("executor", transport_->Cancel(slurm_id, job.spec.run_as_user),
                   "job={} could not be cancelled in Slurm (job {})", name, slurm_id);
      return Status::Ok();
    }
    if (view.message != last_message) {
      last_message = view.message;
      {
        std::lock_guard lock(mutex_);
        if (!core::IsTerminal(job.status.status()) && !job.stop_requested) {
          WarnIfFailed("executor",
                       job.status.SetStatusMessage(view.message, std::chrono::system_clock::now()),
                       "job={} status message not set", name);
        }
      }
      NotifyStatusChanged(name);
    }
  }
}

std::string SlurmExecutor::SlurmOutputTail(const Job& job, const std::string& slurm_id) const {
  auto text = ReadFile(job.job_dir() / ("slurm-" + slurm_id + ".out"));
  std::string tail = Trimmed(text.ok() ? *text : "");
  if (tail.size() > kOutputTailLimit) tail = tail.substr(tail.size() - kOutputTailLimit);
  return tail;
}

StagedJob SlurmExecutor::StagedJobOf(const Job& job) const {
  return StagedJob(*options_.job_staging, job.name(), job.root);
}

void SlurmExecutor::BeforePack(Job& job) {
  // The archives the wrapper uploaded, unpacked where the packing takes them from.
  if (object_store_staging()) StagedJobOf(job).FetchOutputs();
}

void SlurmExecutor::AfterEnd(Job& job) {
  if (object_store_staging()) StagedJobOf(job).Remove();
}

RecordedJobsExecutor::Outcome SlurmExecutor::Settle(Job& base_job) {
  auto& job = static_cast<SlurmJob&>(base_job);
  if (!job.refused.empty()) return Outcome{.exit_code = -1, .launch_failure = job.refused};
  if (object_store_staging()) {
    // No exit record: the wrapper never finished on the node, said below from Slurm's view.
    Status fetched = StagedJobOf(job).FetchExitRecord();
    if (!fetched.ok() && fetched.code() != StatusCode::kNotFound) {
      Logger("executor").warn("job={} exit record not fetched: {}", job.name(), fetched.message());
    }
  }
  std::optional<int> wrapper_exit = ReadWrapperExitCode(job.root);
  Outcome outcome;
  std::string slurm_id;
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    slurm_id = job.slurm_id;
    stopped = job.stop_requested;
    if (job.ended && job.ended->timed_out && !stopped) {
      // Slurm's --time (max runtime + grace) ran out before the executor's own stop.
      job.stop_requested = job.max_runtime_exceeded = stopped = true;
    }
  }
  const std::string where =
      job.last_seen && !job.last_seen->nodes.empty() ? " on node " + job.last_seen->nodes : "";
  if (wrapper_exit) {
    outcome.exit_code = *wrapper_exit;
  } else if (job.ended) {
    outcome.exit_code = job.ended->exit_code;
  } else {
    outcome.exit_code = -1;
  }
  if (job.ended && !job.ended->failure_reason.empty() && !stopped) {
    outcome.failure_reason = job.ended->failure_reason;
    auto failure = ReadFile(job.root.failure_file());
    if (failure.ok() && !Trimmed(*failure).empty()) {
      outcome.failure_reason += ": " + Trimmed(failure->substr(0, kOutputTailLimit));
    }
  } else if (!wrapper_exit && !stopped) {
    // trainyard-wrap never finished on the node: the batch script itself failed (no wrapper at
    // that path, the job root not shared), or Slurm lost the job.
    std::string state = job.ended && job.last_seen ? job.last_seen->state : "no longer known";
    std::string tail = SlurmOutputTail(job, slurm_id);
    outcome.launch_failure =
        "InternalServerError: trainyard-wrap did not finish" + where + " (Slurm job " + slurm_id +
        ": " + state +
        (outcome.exit_code >= 0 ? ", exit code " + std::to_string(outcome.exit_code) : "") + ")" +
        (tail.empty() ? "" : ": " + tail);
  }
  return outcome;
}

Result<bool> SlurmExecutor::RecoverLaunch(Job& base_job) {
  auto& job = static_cast<SlurmJob&>(base_job);
  const std::string& name = job.name();
  // Another server may have submitted it a moment ago (a job taken over, whose owner was killed
  // while it submitted): a listing this executor took before now may predate it, and would show
  // it as forgotten by Slurm. Its first look lists Slurm again.
  job.submitted_at = steady_clock::now();
  const fs::path id_file = job.job_dir() / kJobIdFileName;
  if (auto recorded = ReadFile(id_file); recorded.ok() && !Trimmed(*recorded).empty()) {
    job.slurm_id = Trimmed(*recorded);
    return true;
  }
  // Submitted or not? Slurm knows the job by its name and its batch script; a job that
  // slurmrestd submitted has no script path in Slurm (22.05's slurmrestd cannot set its argv),
  // and is known by its name, its comment (the sweep) and its working directory instead.
  const fs::path script = job.job_dir() / kScriptFileName;
  const std::string comment = SlurmJobComment(job.spec);
  const std::string working_directory =
      object_store_staging() ? kNodeWorkingDirectory : job.job_dir().string();
  TY_ASSIGN_OR_RETURN(std::vector<SlurmJobInfo> jobs, transport_->ListJobs(job.spec.run_as_user));
  for (const SlurmJobInfo& info : jobs) {
    const bool same_script = info.command.empty() ? info.comment == comment &&
                                                        info.working_directory == working_directory
                                                  : info.command == script.string();
    if (info.name == name && same_script) {
      Logger("executor")
          .info("job={} found in Slurm as job {} (its id was not recorded)", name, info.id);
      job.slurm_id = info.id;
      TY_RETURN_IF_ERROR(WriteFileAtomic(id_file, info.id + "\n", Durability::kDurable));
      return true;
    }
  }
  if (object_store_staging()) {
    // No claim on the node to settle it: the exit record in the store says that the job ran.
    Status ran = StagedJobOf(job).FetchExitRecord();
    if (ran.ok()) {
      Logger("executor").info("job={} ran in Slurm, which no longer knows it", name);
      return true;
    }
    if (ran.code() != StatusCode::kNotFound) return ran;
    return false;
  }
  // Not in Slurm: never submitted, or ended so long ago that Slurm forgot it. The launch
  // claim tells which, and fences off any batch script still on its way.
  TY_ASSIGN_OR_RETURN(std::optional<std::string> claimed,
                      FenceSlurmLaunch(job.launch_claim_file()));
  if (!claimed) return false;
  if (claimed->empty() || *claimed == kFenced) {
    return Internal("launch claim '" + job.launch_claim_file().string() + "' holds no Slurm job");
  }
  Logger("executor")
      .info("job={} ran as Slurm job {}, which Slurm no longer knows", name, *claimed);
  job.slurm_id = *claimed;
  TY_RETURN_IF_ERROR(WriteFileAtomic(id_file, *claimed + "\n", Durability::kDurable));
  return true;
}

}  // namespace trainyard::executor
