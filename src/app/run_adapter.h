// RunAdapter: `trainyard run` as a thin adapter on control::Scheduler, the one job lifecycle
// that `trainyard server` and its SageMaker-compatible endpoint use. No server and no service:
// the run's stores live in its output directory,
//   <out>/.trainyard/metadata.db   the MetadataStore (SQLite): every job's state and events
//   <out>/.trainyard/store/        the object store (local files): outputs as the scheduler
//                                  stores them, until they are handed out
//   <out>/.trainyard/staging/      the scheduler's per-job staging (artifacts before storing)
//   <out>/.work/                   the local executor's job roots and records (detached jobs)
// and the scheduler runs in this process, with the local executor. Each job of run.json is a
// sweep of one job, named as run.json names it, with its hyperparameters as recorded (queued
// once: its name is its idempotency key); the run's channels are given to the executor as
// they lie, in place.
//
// When a job's end is recorded, the adapter hands its outputs out to <out>/<job>/ (each object
// hard-linked, else copied, into place through a temporary name), writes
// <out>/<job>/status.json, the run's own end record, and then deletes the store's copies. A
// job whose status.json exists is kept as it is (what the store still holds of it is deleted):
// after a kill at any instant, a resume hands out again what has no status.json yet. As
// before, status.json files are written whole but synced once, before sweep.json.
//
// Not thread-safe: the command's thread drives it; the scheduler runs its own threads inside.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "app/progress_display.h"
#include "app/results_table.h"
#include "app/run_record.h"
#include "common/environment.h"
#include "common/status.h"
#include "common/step_hook.h"
#include "control/scheduler.h"
#include "executor/executor.h"
#include "metadata/metadata_store.h"
#include "storage/object_store.h"

namespace trainyard::app {

struct RunOutcome {
  std::vector<JobResult> results;  // best first by the objective
  bool interrupted = false;
  bool all_completed = false;
};

// Where the recorded jobs stand, before the scheduler takes them up.
struct RunStanding {
  size_t ended = 0;     // their end is recorded: kept as they ended
  size_t running = 0;   // their executor knows them (running, or ended unrecorded): adopted
  size_t to_start = 0;  // queued, never created, or claimed and never launched: started once
};

// <out>/.trainyard: the run's stores.
std::filesystem::path RunStoreDir(const std::filesystem::path& out_dir);
// <out>/.work: the local executor's job roots.
std::filesystem::path RunWorkDir(const std::filesystem::path& out_dir);

// The result of a job as its record says (a job that never left the queue has no description,
// as the sweep was stopped before it started); the duration runs from when it left the queue.
// Internal when the record's status cannot be read back.
Result<JobResult> JobResultOfRecord(const metadata::JobRecord& record);

class RunAdapter {
 public:
  // Opens the stores in record.options.out_dir and the local executor in <out>/.work (which
  // adopts the jobs that a killed `trainyard run` left running there). `host_environment` is
  // the process's: jobs get its allowlisted part (JobHostEnvironment). `on_step` is given to
  // the executor, the scheduler and the adapter ("run.recorded": a job's status.json written;
  // "run.summarizing": every job ended, sweep.json not written yet, named by the sweep).
  // Errors: a store or the executor that cannot be opened.
  static Result<std::unique_ptr<RunAdapter>> Open(const RunRecord& record,
                                                  const EnvironmentMap& host_environment,
                                                  StepHook on_step);
  ~RunAdapter();  // the scheduler stops first; detached jobs are left to a resume

  // Where each recorded job stands now (for the resume's first line). The store's errors.
  Result<RunStanding> Standing();

  // Queues the recorded jobs that the store does not hold yet, starts the scheduler (its
  // recovery adopts, queues again or keeps each job it had), shows progress on `display` and
  // hands each job out when it ends. When `interrupted` becomes true, every job that has not
  // ended is stopped (those still queued end Stopped at once), and the run goes on until each
  // has ended. Then writes sweep.json (unless it already says the same). Errors: the store's,
  // a job that cannot be handed out (after every job was stopped and has ended).
  Result<RunOutcome> Run(ProgressDisplay& display, const std::atomic<bool>& interrupted);

 private:
  RunAdapter(const RunRecord& record, StepHook on_step);

  control::SweepRequest RequestFor(const RecordedJob& job) const;
  Status QueueRecordedJobs();
  // Reads the jobs named by events after the cursor (all of them the first time) into
  // records_, and adds their names to `changed`.
  Status ReadChanges(std::set<std::string>* changed);
  // status.json and the outputs of an ended job; a no-op for one handed out before.
  Status HandOut(const metadata::JobRecord& record);
  Status DeleteStoredOutputs(const std::string& job_name);
  void StopEveryJob();
  // After an error: stops every job and follows them until each has ended (logged when one
  // cannot be read).
  void StopAndWaitForEveryEnd();
  // The job's line as its record (or its status.json) says now.
  void UpdateShown(const std::string& name);
  void Show(ProgressDisplay& display, bool stopping);
  bool AllHandedOut() const;
  Status WriteSummary(const std::vector<JobResult>& results);

  RunRecord record_;
  StepHook on_step_;
  metadata::MetadataStorePtr metadata_;
  std::unique_ptr<storage::ObjectStore> objects_;
  executor::ExecutorPtr executor_;
  std::unique_ptr<control::Scheduler> scheduler_;

  std::map<std::string, metadata::JobRecord> records_;  // by job name, as last read
  std::map<std::string, JobResult> handed_out_;         // ended jobs, as their status.json says
  // What the display shows, in run.json's order; each job's line is updated when its record
  // changes, and the running ones' (active_) at every redraw, for their time.
  std::vector<JobResult> shown_;
  std::map<std::string, size_t> positions_;
  std::set<std::string> active_;
  int64_t event_cursor_ = 0;
  bool read_all_ = true;  // the next ReadChanges reads every job

  // Woken by the scheduler's on_events (any thread).
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
};

}  // namespace trainyard::app
