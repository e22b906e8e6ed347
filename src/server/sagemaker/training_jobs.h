// TrainingJobs: the SageMaker endpoint's training jobs, a thin adapter on control::Scheduler,
// the one lifecycle of every server-side job (claim, stage, submit, follow, stop, max runtime,
// store artifacts, finish, recovery after a kill at any step). CreateTrainingJob makes a sweep
// of one job named by the caller in the endpoint's own MetadataStore (its names a namespace
// apart from the REST API's jobs), with its channels from S3 prefixes of the S3 endpoint's
// store, its outputs under <S3OutputPath>/<job>/output/ and the request kept with the sweep.
// What is SageMaker's own stays here: the request's checks, DescribeTrainingJob's document
// built from the job record and the stored request, ListTrainingJobs, StopTrainingJob's
// answers, ResourceLimitExceeded, and the log streams (a watcher notes when each line of a
// running job's log was first seen, and keeps the notes as log-times.json once it has ended).
//
// Implemented in training_jobs.cc (the operations), job_records.cc (records into documents,
// the requests into the scheduler's, the spec's SageMaker part), job_persistence.cc (the jobs
// an older server kept as description.json documents, imported at Start) and job_logs.cc.
//
// Thread-safe: the operations may run on many connection threads while the scheduler's and the
// log watcher's threads work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/scheduler.h"
#include "metadata/metadata_store.h"
#include "server/sagemaker/aws_json.h"
#include "server/sagemaker/sagemaker_api.h"
#include "server/sagemaker/training_job_document.h"
#include "server/sagemaker/training_log.h"
#include "server/sagemaker/tuning_jobs.h"

namespace trainyard::server::sagemaker {

// Where a job's things live in the store.
inline constexpr char kJobsPrefix[] = "sagemaker/training-jobs/";
std::string JobStoreKey(const std::string& job, const std::string& file);

// ListTrainingJobs' view of a job.
struct TrainingJobSummary {
  std::string name;
  std::string arn;
  TimePoint creation_time;
  TimePoint last_modified_time;
  std::optional<TimePoint> end_time;
  core::JobStatus status = core::JobStatus::kInProgress;
  core::SecondaryStatus secondary_status = core::SecondaryStatus::kStarting;
};

// A job's log stream (one per job once it has left Starting).
struct LogStreamInfo {
  std::string job;
  std::string name;  // "<job>/algo-1-<epoch seconds of TrainingStartTime>"
  int64_t creation_ms = 0;
  std::optional<int64_t> first_event_ms, last_event_ms;
};

class TrainingJobs {
 public:
  // `options` must outlive the table; options.metadata and options.executor are required.
  explicit TrainingJobs(const SageMakerApiOptions& options);
  ~TrainingJobs();  // Stop()

  // Imports the jobs an older server kept (job_persistence.cc), recovers the scheduler's jobs
  // (control::Scheduler::Start) and starts the log watcher. Errors: the store or the metadata
  // cannot be read.
  Status Start();
  void Stop();

  // The SageMaker operations, on requests that passed the model's checks.
  JsonReply Create(const nlohmann::json& request);
  JsonReply Describe(const std::string& name);
  JsonReply StopJob(const std::string& name);
  // Every job, in creation order.
  std::vector<TrainingJobSummary> Summaries();

  // The tuning operations (tuning_operations.cc), on requests that passed the model's checks:
  // a tuning job is a sweep that searches (tuning_request.h), its training jobs named
  // "<tuning job>-<NNN>-<8 hex>".
  JsonReply CreateTuningJob(const nlohmann::json& request);
  JsonReply DescribeTuningJob(const std::string& name);
  JsonReply StopTuningJob(const std::string& name);
  JsonReply ListTuningJobs(const nlohmann::json& request);
  JsonReply ListTuningTrainingJobs(const nlohmann::json& request);

  // Every job's stream, sorted by name.
  std::vector<LogStreamInfo> LogStreams();
  // The events of a stream: NotFound for an unknown stream; store failures otherwise.
  Result<std::vector<LogEvent>> LogEventsOf(const std::string& stream_name);

 private:
  ArnContext arn_context() const { return {options_.region, options_.account_id}; }
  TimePoint Now() const;
  std::filesystem::path LiveLogFile(const metadata::JobRecord& record) const;
  std::string StreamName(const TrainingJob& job) const;

  // Every job record, in creation order (logged and empty when the store fails).
  std::vector<metadata::JobRecord> AllRecords();
  // The record of the job named so regardless of case; NotFound.
  Result<metadata::JobRecord> FindRecord(const std::string& name);
  // The job as DescribeTrainingJob shows it.
  Result<TrainingJob> JobOf(const metadata::JobRecord& record);
  // The CreateTrainingJob members kept with the job's sweep (cached: they never change).
  Result<nlohmann::json> RequestOf(const metadata::JobRecord& record);

  // The checks SageMaker makes of the store before it accepts a training job (or a tuning
  // job's): its output bucket and its channels' objects exist. nullopt when they pass.
  std::optional<JsonReply> CheckStore(const nlohmann::json& training_request);

  // tuning_operations.cc: every tuning job with its training jobs (logged and left out when the
  // store fails), and the one named so regardless of case (NotFound).
  Result<std::vector<TuningJob>> AllTuningJobs();
  Result<TuningJob> FindTuningJob(const std::string& name);

  // Whether this server runs the job, so that its live log is on this server's disk: it owns
  // it (a job claimed before owners were recorded has none, and is this server's).
  bool RunsHere(const metadata::JobRecord& record) const;

  // job_logs.cc: the watcher thread, and the line times of a job.
  void WatchLogs();
  void ObserveLogs();
  LogIndex IndexOf(const metadata::JobRecord& record);
  // Records in the store the lines of a running job's live log that it does not hold yet, each
  // as seen at `now_ms` (the watcher's thread only).
  void StoreNewLines(const metadata::JobRecord& record, int64_t now_ms);
  // The log lines the server that runs the job recorded in the store: their text (each line
  // with its end of line) and when each was first seen. Store failures.
  struct StoredLog {
    std::string text;
    LogIndex index;
  };
  Result<StoredLog> StoredLogOf(const std::string& job);
  // Notes the lines of the ended job's stored log that `index` has not seen as seen at its end.
  void NoteStoredLines(const metadata::JobRecord& record, LogIndex& index);

  // job_persistence.cc
  Status ImportOlderJobs();

  const SageMakerApiOptions& options_;
  std::unique_ptr<control::Scheduler> scheduler_;
  std::mutex create_mutex_;  // a name's uniqueness and the limit are checked, then taken

  std::mutex mutex_;
  std::map<std::string, nlohmann::json> requests_;  // by sweep id
  std::map<std::string, LogIndex> live_logs_;       // by job: running jobs seen by the watcher
  std::map<std::string, LogIndex> ended_logs_;      // by job: read from log-times.json
  // How much of each running job's live log is in the store (lines, and the bytes they take
  // in the file); `located`: counted from the store once since this server started. The
  // watcher's thread only.
  struct StoredLines {
    uint64_t lines = 0;
    uint64_t offset = 0;
    bool located = false;
  };
  std::map<std::string, StoredLines> stored_lines_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool started_ = false;
  std::thread watcher_;
};

}  // namespace trainyard::server::sagemaker
