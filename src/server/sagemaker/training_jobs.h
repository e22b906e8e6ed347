// TrainingJobs: the SageMaker endpoint's job table. It creates jobs (checks, then stages their
// channels on a background thread and submits them to the executor), follows them (a thread
// that describes every running job each poll_interval and mirrors its statuses, metrics and
// log), finishes them (artifacts into the store before the job is shown as ended), and
// persists every job's DescribeTrainingJob document at each change.
//
// Implemented in training_jobs.cc (the table and the SageMaker operations),
// job_lifecycle.cc (staging, following, finishing) and job_persistence.cc (documents, Start).
//
// Thread-safe: the operations may run on many connection threads while the follower and the
// staging threads work. One mutex guards the table; store and executor calls run outside it.
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

#include "server/sagemaker/aws_json.h"
#include "server/sagemaker/sagemaker_api.h"
#include "server/sagemaker/training_job_document.h"
#include "server/sagemaker/training_log.h"

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
  // `options` must outlive the table.
  explicit TrainingJobs(const SageMakerApiOptions& options);
  ~TrainingJobs();  // Stop()

  Status Start();
  void Stop();

  // The SageMaker operations, on requests that passed the model's checks.
  JsonReply Create(const nlohmann::json& request);
  JsonReply Describe(const std::string& name);
  JsonReply StopJob(const std::string& name);
  // Every job, in creation order.
  std::vector<TrainingJobSummary> Summaries();

  // Every job's stream, sorted by name.
  std::vector<LogStreamInfo> LogStreams();
  // The events of a stream: NotFound for an unknown stream; store failures otherwise.
  Result<std::vector<LogEvent>> LogEventsOf(const std::string& stream_name);

 private:
  struct Entry {
    TrainingJob job;
    size_t order = 0;        // creation order
    bool submitted = false;  // handed to the executor
    std::atomic<bool> cancel_staging{false};
    size_t executor_transitions_seen = 0;  // executor transitions already mirrored
    LogIndex log;                          // when each line of its log was first seen
    bool dirty = false;                    // its last document write failed: write again
  };

  ArnContext arn_context() const { return {options_.region, options_.account_id}; }
  TimePoint Now() const;
  std::filesystem::path JobDir(const std::string& name) const;
  std::filesystem::path LiveLogFile(const std::string& name) const;
  Entry* Find(const std::string& name);  // case-insensitive; needs mutex_
  std::string StreamName(const TrainingJob& job) const;

  // job_persistence.cc
  void Persist(const std::string& name);  // writes description.json (logs failures)
  Result<std::unique_ptr<Entry>> Load(const std::string& key);

  void StartStaging(const std::string& name);  // unless the table is stopping

  // job_lifecycle.cc
  void Stage(const std::string& name);  // the staging thread
  void FollowLoop();                    // the follower thread
  void Poll(const std::string& name);
  // Copies the artifacts and the log into the store, then applies the terminal transition.
  void Finish(const std::string& name, const executor::JobDescription& description);
  void EndWithoutExecutor(const std::string& name, const std::string& reason);
  void Cleanup(const std::string& name);

  const SageMakerApiOptions& options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>> jobs_;
  size_t next_order_ = 0;
  std::mutex persist_mutex_;  // serialises document writes: the last one written is the latest

  std::mutex threads_mutex_;
  std::map<std::string, std::thread> staging_threads_;
  std::vector<std::string> finished_staging_;  // threads to join
  std::thread follower_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool started_ = false;
};

}  // namespace trainyard::server::sagemaker
