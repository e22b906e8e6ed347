// Scheduler: the server's one writer of job state. It keeps the FIFO queue of jobs, hands them
// to their executors within the global, per-executor and per-sweep limits, follows each running
// job with Describe, stores its outputs in the object store as SageMaker does
// (outputs/<job>/output/model.tar.gz, output.tar.gz, plus training.log, job.json, ...), and
// records every change with an event.
//
// Several servers may share one MetadataStore (PostgreSQL), each running a scheduler: a queued
// job is claimed by one of them (MetadataStore::ClaimJob, which also holds max_running, the
// per-executor limits and each sweep's max_parallel across all of them), and leased to it
// (owner_id): the owner renews its leases every third of lease_duration. A server that finds a
// lease expired takes the job over (scheduler_leases.cc): on an executor any server reaches
// (Executor::ReachableFromAnyServer: Slurm, SageMaker) it adopts and follows it; on one that
// lives on the stopped server's machine (local, container) the job is queued again as a new
// attempt when its code never started, else it ends Failed, saying why: the executor starts the
// code only after the owner recorded its launch in the store (JobSpec::before_launch,
// MetadataStore::RecordLaunch), which a takeover of the same row cannot cross.
// A server whose job was taken over stops following it at its next renewal. A stop asked of a
// server that does not follow the job is recorded (Stopping), and the owner delivers it.
//
// Crash safety: all state is in the MetadataStore, written before each act (a job is marked
// claimed before it is submitted; its end is recorded before its work dir goes). At Start:
//  - a job its executor still knows is followed again (running, or ended meanwhile);
//  - a job its executor does not know, on an executor that remembers its jobs across restarts
//    (executor.h: RemembersJobsAcrossRestarts), never started its code: it goes back to the
//    queue under the same attempt and runs, once (or ends Stopped if it was being stopped);
//  - on any other executor it ends Failed with a reason that says so, or is queued again as a
//    new attempt when its sweep asks for it (requeue_on_restart);
//  - work dirs that no running job owns (left by a kill) are removed.
// Executors' status listeners wake the queue, so a freed slot is filled at once. A search that
// suggests from results (bayesian, hyperband: docs/search.md) gets its next job in the pass
// after a slot of its frees; its seed and jobs are all it needs, so a restart changes nothing.
// Of servers sharing the store, one drives each search, holding its lease in the store
// (MetadataStore::ClaimSearch): renewed with the jobs' leases, taken over when it expires
// (scheduler_search.cc); each suggestion is written once (AddJobs' compare-and-set).
//
// Thread-safe: the HTTP handlers call CreateSweep/StopJob/StopSweep/RetrySweep from their
// threads while the scheduler's own thread runs the queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/secret_mask.h"
#include "common/status.h"
#include "common/step_hook.h"
#include "control/sweep_request.h"
#include "core/early_stopping.h"
#include "executor/executor.h"
#include "metadata/metadata_store.h"
#include "storage/object_store.h"

namespace trainyard::control {

struct SchedulerOptions {
  std::filesystem::path work_dir;  // per-job staging of channel data and artifacts
  int max_running = 4;             // jobs running at once, all executors together
  std::map<std::string, int> max_running_per_executor;  // absent: only max_running applies
  // The server's own URL as jobs reach it; each job's callback is
  // <callback_base_url>/api/v1/jobs/<name>/progress. Empty: jobs report nothing.
  std::string callback_base_url;
  std::chrono::milliseconds poll_interval{250};
  // Called (from any thread) after events were appended to the store.
  std::function<void()> on_events;
  // Steps of a job, for the fault-injection tests (common/step_hook.h): "scheduler.claimed"
  // (marked started, not yet submitted), "scheduler.submitted" (accepted by its executor, not
  // yet recorded), "scheduler.running" (Training recorded), "scheduler.storing" (one output
  // stored, others not), "scheduler.stored" (all outputs stored, the end not yet recorded).
  StepHook on_step;
  // The server's own secrets, masked in a job's failure reason, status messages and stored
  // training.log before they are stored (common/secret_mask.h).
  SecretMask secret_mask;
  // An adapter's own part of each job's spec (the SageMaker endpoint's container entrypoint,
  // channel content types, stop grace, ... from the request it keeps in client_request), called
  // on the queue thread with the spec the scheduler built from the request, once the job is
  // claimed. An error ends the job Failed ("ClientError: " + its message). Empty: none.
  std::function<Status(const SweepRequest& request, executor::JobSpec& spec)> complete_job_spec;
  // Where the object that a job's hyperparameter sagemaker_submit_directory names
  // ("s3://bucket/key", the SageMaker SDK's sourcedir.tar.gz) lies in the object store: its key,
  // or an error saying why the URI cannot be served. The scheduler fetches it and the executor
  // unpacks it into /opt/ml/code (JobSpec::code_source), as AWS's training toolkit does. Empty:
  // the hyperparameter is left to the job (a toolkit in its image, or SageMaker itself).
  std::function<Result<std::string>(const std::string& uri)> submit_directory_key;
  // The name of job `index` of a sweep whose request names no job (SweepRequest::job_name), of
  // the `count` jobs it names (a grid's jobs, a search's max_jobs): the SageMaker endpoint's
  // tuning jobs name theirs as SageMaker does, "<tuning job>-<NNN>-<8 hex>". Called when the
  // job is created; its name is stored with it. Empty: "<sweep name>-<6 of the sweep id>-<NNN>"
  // (core::MakeJobName).
  std::function<std::string(const SweepRequest& request, const std::string& sweep_id, size_t index,
                            size_t count)>
      job_name;
  // This server's name among the servers sharing the metadata store: the owner of the jobs it
  // claims (JobRecord::owner). The same across restarts of one server, different for each.
  std::string owner_id = "local";
  // How long a claimed job stays this server's without a renewal of its lease (renewed every
  // third of it, by the queue thread); the jobs of a server that stops renewing are taken over
  // by another (docs/scale-out.md).
  std::chrono::milliseconds lease_duration{30'000};
  // Several servers share the store: a server claims queued jobs at its own rounds only, every
  // poll_interval varied at random between half and one and a half of it (so that the servers'
  // rounds never fall into step), and not when one of its own jobs ends: a slot freed anywhere
  // goes to whichever server looks next, so that the claims spread over the servers by their
  // free slots instead of going to the server whose job freed the slot. Each round claims at
  // most its free slots (max_running less its own running jobs). A sweep created or retried
  // here still wakes its claims at once. False (one server): a freed slot is filled at once.
  bool spread_claims = false;
};

// Where a job's outputs go in the object store (SweepRequest::output_root, files_root).
struct OutputKeys {
  std::string archives;  // model.tar.gz and output.tar.gz: "<output_root><job>/output/"
  std::string files;     // the other files: "<files_root><job>/", or `archives`
};
OutputKeys OutputKeysOf(const SweepRequest& request, const std::string& job_name);

struct CreatedSweep {
  metadata::SweepRecord sweep;
  bool created = true;  // false: an earlier sweep with the same idempotency key
  size_t job_count = 0;
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, metadata::MetadataStore& metadata,
            storage::ObjectStore& objects, std::map<std::string, executor::Executor*> executors);
  ~Scheduler();  // Shutdown()

  // Recovers the jobs that were running when the server stopped, then starts the queue thread.
  Status Start();
  // Stops the queue thread and stops listening to the executors, which may be destroyed after
  // it (before the scheduler object). Running jobs are left to their executors.
  void Shutdown();
  // Runs the queue now instead of at the next poll.
  void Wake();
  // Drains this server (`trainyard server` on SIGUSR1, docs/scale-out.md): from now on it claims
  // no queued job and takes over no other server's expired lease, and goes on following,
  // renewing and finishing the jobs it runs, so that they end here while the other servers
  // sharing the store take the new work. Logs when its last job has ended. Not undone until the
  // server restarts. Thread-safe.
  void StopClaiming();
  bool claiming() const { return claiming_.load(); }

  // Validates the request against what exists (executor, datasets) and queues one job per
  // combination. InvalidArgument naming the field; NotFound for a missing dataset.
  Result<CreatedSweep> CreateSweep(const SweepRequest& request);
  // A queued job ends Stopped at once (through Stopping, as SageMaker shows a stop); a running
  // one is asked to stop, and is recorded Stopping before this returns. Stopping a job that has
  // ended is a no-op. NotFound.
  Status StopJob(const std::string& job_name);
  // StopJob for every queued and running job of the sweep, and no more of its jobs start.
  Status StopSweep(const std::string& sweep_id);
  // Queues the sweep's Failed jobs again as new attempts; returns their names.
  Result<std::vector<std::string>> RetrySweep(const std::string& sweep_id);

  // One pass of the queue: follow running jobs, start what the limits allow, then record the
  // ends of the jobs that ended (storing their outputs) before returning. Tests call it directly
  // instead of Start(); the queue thread runs the same pass but leaves the ends to the finisher
  // thread, so that a freed slot never waits for the disk.
  void RunOnce();

 private:
  struct Running {
    executor::Executor* executor = nullptr;
    std::string sweep_id;
    size_t transitions_seen = 0;
    bool adopted = true;          // false: taken over, its executor not yet following it
    bool stop_forwarded = false;  // a stop recorded by another server was passed to the executor
  };

  void Loop();
  // Called by the executors' status listeners: follows the jobs now; claims too unless
  // spread_claims.
  void WakeToFollow();
  // When the next round of claims is due (spread_claims): poll_interval, varied at random.
  std::chrono::steady_clock::time_point NextClaimRound();
  void FinisherLoop();
  Status Recover();
  // Puts back in the queue a job whose code never started (its executor does not know it).
  Status RequeueUnstarted(metadata::JobRecord job);
  // Removes the work dirs of jobs that are not running (left by a kill).
  void RemoveStaleWorkDirs();
  // A job whose code has ended, taken off the running jobs, its outputs not yet stored.
  struct EndedJob {
    metadata::JobRecord record;
    executor::JobDescription description;
    Running running;
    OutputKeys keys;
  };
  // Records the changes of the running jobs; returns those that ended.
  std::vector<EndedJob> FollowRunning();
  // FollowRunning, then StartQueued; the ended jobs are marked finishing and returned.
  // `claim`: StartQueued too.
  std::vector<EndedJob> Pass(bool claim = true);
  // Finish, then the job leaves `finishing_`; one whose end could not be recorded is followed
  // again, so that a later pass finishes it again.
  void FinishEnded(EndedJob job);
  void StartQueued();
  // A queued job of the sweep, named for `name_count` jobs (a search's max_jobs).
  metadata::JobRecord NewQueuedJob(const SweepRequest& request, const std::string& sweep_id,
                                   size_t index, size_t name_count,
                                   core::HyperparameterMap hyperparameters, TimePoint created_at);
  // Searches that suggest from results (scheduler_search.cc): at Start, the sweeps that may
  // still suggest; at each pass, a new job for each free slot of such a sweep (its
  // max_parallel, else max_running) that has none queued, from core::SuggestNext over its jobs
  // and their final objective values, until max_jobs. Failures are logged with the sweep.
  // (At Start: the searches this server holds the lease of.)
  Status RecoverSearches();
  // Renews the leases of the searches this server drives (a search another server took over is
  // driven here no more) and takes over those whose lease expired (KeepLeases' part for
  // searches). Failures are logged.
  void KeepSearchLeases(TimePoint now, TimePoint expires_at);
  // Ends the search this server drives (MetadataStore::EndSearch): it leaves searching_, unless
  // the store could not be written (logged; ended again at the next pass).
  void EndSearchHere(const std::string& sweep_id);
  // The jobs of a search that suggests from results run at once: its max_parallel, at most
  // max_running.
  int SearchSlots(const SweepRequest& request) const;
  void SuggestForSearches();
  // `ending`: a job of the sweep whose end is about to be recorded, counted as ended with its
  // result, so that the search's next job is queued before the sweep can look finished.
  // Read again when another server added the sweep's next jobs first (at most three tries).
  Status SuggestForSearch(const std::string& sweep_id, bool* done,
                          const metadata::JobRecord* ending = nullptr);
  // Every job of the sweep, by index.
  Result<std::vector<metadata::JobRecord>> SweepJobs(const std::string& sweep_id);
  // One try: FailedPrecondition when another server added jobs since the sweep was read.
  Status SuggestOnce(const std::string& sweep_id, const SweepRequest& request, bool* done,
                     const metadata::JobRecord* ending);
  // Records an ended job; for a search, its next job is suggested first (under mutex_).
  Status RecordEnd(const metadata::JobRecord& job);
  // StopJob under mutex_, its Stopping transition showing `message`.
  Status StopJobLocked(const std::string& job_name, const std::string& message);
  // Early stopping (scheduler_early_stopping.cc, docs/search.md): for each running job of a
  // sweep with early_stopping auto whose record changed since it was last judged, the median
  // stopping rule over the objective's intermediate values of the sweep's jobs; a job it stops
  // gets its stop_reason recorded first, then StopJobLocked (SIGTERM and the grace period
  // through its executor). A job with a stop_reason that is not Stopping yet (a restart came
  // between the two) is stopped again. Failures are logged with the job.
  void StopJobsEarly();
  // The curves of the sweep's jobs that the rule compares (Completed, or still running).
  Result<std::vector<core::LearningCurve>> CurvesOf(const std::string& sweep_id,
                                                    const std::string& metric);
  // Claims the job within `limits` (nothing happens unless it is claimed: the outcome says
  // why), then stages its input and hands it to its executor.
  Result<metadata::ClaimResult::Outcome> Submit(metadata::JobRecord job,
                                                const SweepRequest& request,
                                                const metadata::ClaimLimits& limits);
  // Ends a queued job without running it, only while it is still queued (ClaimJob): false when
  // it left the queue meanwhile (a server claimed it).
  Result<bool> EndQueued(metadata::JobRecord job, core::SecondaryStatus status,
                         const std::string& message);
  // Leases (scheduler_leases.cc): every third of lease_duration, renews this server's leases
  // (a job that another server took over is no longer followed here) and takes over the jobs
  // whose lease expired.
  void KeepLeases();
  // A job whose owner stopped renewing its lease, now this server's.
  Status TakeOver(metadata::JobRecord job);
  // For a job taken over on an executor any server reaches: has the executor follow it. true:
  // followed (or ended, or queued again, as its executor tells); false: to be tried again.
  bool AdoptTakenOver(const std::string& job_name, Running& running);
  Status Finish(metadata::JobRecord job, const executor::JobDescription& description,
                const OutputKeys& keys);
  // A job without a callback reports its metrics and progress through its executor: records
  // those that changed (logged when they cannot be).
  void RecordExecutorMetrics(const metadata::JobRecord& job,
                             const executor::JobDescription& description);
  Status EndWithoutRunning(metadata::JobRecord job, core::SecondaryStatus status,
                           const std::string& message);
  Status StoreOutputs(const metadata::JobRecord& job, const OutputKeys& keys);
  Result<std::filesystem::path> StageChannel(const std::string& job_name,
                                             const std::string& channel,
                                             const metadata::DatasetRecord& dataset);
  // Copies every object under the prefix into <work>/<job>/channels/<channel>/ (placed as
  // ObjectPrefixChannel says); NotFound when there is none.
  Result<std::filesystem::path> StageObjectPrefix(const std::string& job_name,
                                                  const std::string& channel,
                                                  const std::string& key_prefix);
  // The job's sagemaker_submit_directory, where options_.submit_directory_key serves it, copied
  // to <work>/<job>/code/sourcedir.tar.gz (scheduler_submit_directory.cc); an empty path when
  // the job has none or the scheduler serves none. NotFound naming the URI when no object is
  // there.
  Result<std::filesystem::path> StageSubmitDirectory(const metadata::JobRecord& job);
  Status WriteState(const metadata::JobRecord& job, const std::string& message = "");
  Result<SweepRequest> RequestOf(const std::string& sweep_id);
  std::filesystem::path JobWorkDir(const std::string& executor_job_name) const;
  // Where the job's executor packs its artifacts and StoreOutputs reads them: the executor's
  // SharedArtifactDir when it names one (any server may finish the job), else
  // <work dir>/<job>/artifacts.
  std::filesystem::path ArtifactDir(const std::string& executor_name,
                                    const std::string& executor_job_name) const;

  SchedulerOptions options_;
  metadata::MetadataStore& metadata_;
  storage::ObjectStore& objects_;
  std::map<std::string, executor::Executor*> executors_;

  std::mutex mutex_;  // held by RunOnce and every public method that writes job state
  std::map<std::string, Running> running_;        // by job name
  std::set<std::string> finishing_;               // ended, their end not yet recorded
  std::map<std::string, SweepRequest> requests_;  // cache of parsed sweep specs
  std::set<std::string> searching_;  // the sweeps whose search this server drives (its lease)
  // Early stopping: when each running job was last judged (its record's updated_at), and the
  // curves of the ended jobs of each sweep with running jobs (they change no more).
  std::map<std::string, TimePoint> judged_at_;
  std::map<std::string, std::map<std::string, core::LearningCurve>> ended_curves_;
  std::chrono::steady_clock::time_point next_lease_check_{};  // KeepLeases

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool woken_ = false;            // claims and follows at once
  bool woken_to_follow_ = false;  // follows at once (an executor's job changed)
  bool stopping_ = false;
  std::atomic<bool> claiming_{true};                       // false once StopClaiming was called
  bool drained_logged_ = false;                            // under mutex_
  std::minstd_rand claim_jitter_{std::random_device{}()};  // the queue thread's
  std::thread thread_;

  // The finisher: records the ends of the jobs the queue thread saw end, in order.
  std::mutex finisher_mutex_;
  std::condition_variable finisher_wake_;
  std::deque<EndedJob> to_finish_;
  bool finisher_stopping_ = false;
  std::thread finisher_;
  bool listeners_removed_ = false;  // by Shutdown (its caller's thread)
};

// Object keys of the outputs of a job of the REST API (the default output_root):
// "outputs/<job>/output/".
std::string OutputPrefix(const std::string& job_name);

}  // namespace trainyard::control
