// BufferedProgressStore: a MetadataStore in front of another that can take the jobs' progress
// callbacks into memory (RecordProgressBehind) and write them behind, from its own thread, at
// most every `flush_interval` (the first report after a quiet spell goes at once). A report is
// the hot write of a server with many jobs or a burst of reports, and the latest progress
// snapshot supersedes the previous one: consecutive reports of a job that bring only progress
// are conflated in memory to the newest, so that a burst costs one write per job and interval
// rather than one per report. Reports with metric points or log lines are not held: they are
// written (after the job's snapshots in memory) before RecordProgressBehind returns.
//
// What a caller of the MetadataStore interface sees stays what the store behind it would show:
// - a job's reports reach the store in the order they came, before any later UpdateJobState,
//   ClaimJob or RecordProgress of the job (which first write the job's reports), so that the
//   event log has a job's progress before its next status, and early stopping sees every
//   metric point in order;
// - GetJob, ListMetricPoints and ListLogLines of a job with reports in memory, and ListJobs,
//   first write them (read your writes);
// - ListEvents and LastEventId do not: the events of a report appear once it is written, and
//   `on_written` then announces them (at most once per interval);
// - Stop() writes everything still in memory; after it, reports are written at once.
// What a crash of the process (not a clean stop) loses is at most the progress snapshots of the
// last interval, which the jobs' next reports supersede; never a metric point or a log line. A
// write that fails is tried again (backing off up to 1 s) and logged with the job; a job that no
// longer exists has its reports dropped with an error in the log. Past `max_pending_updates`
// reports in memory (a store that does not keep up), RecordProgressBehind answers Unavailable: the
// wrapper tries again later.
//
// GetJobCallbackCheck answers from memory for a job seen running in the last
// `callback_check_ttl`, unless the token presented is not the one remembered; UpdateJobState and
// ClaimJob of the job through this store forget what was remembered. A job that another server
// sharing the store ends thus keeps its token accepted here for at most that long.
//
// Every other method is the store's own. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "metadata/metadata_store.h"

namespace trainyard::metadata {

struct BufferedProgressOptions {
  // How long a report may wait in memory before it is written.
  std::chrono::milliseconds flush_interval{50};
  // How long a running job's callback check is answered from memory.
  std::chrono::milliseconds callback_check_ttl{1000};
  // Reports in memory beyond which RecordProgress answers Unavailable.
  size_t max_pending_updates = 100'000;
  // Called from the writer's thread (and from Stop) after reports were written: their events
  // and log lines are in the store.
  std::function<void()> on_written;
};

// What a job's progress callback is checked against: its current token and whether it runs.
struct JobCallbackCheck {
  std::string token_sha256;  // hex SHA-256 of the job's callback token; empty: none issued
  bool queued = true;
  core::JobStatus status = core::JobStatus::kInProgress;
  // Left the queue and not ended: the only time its token is accepted.
  bool running() const { return !queued && !core::IsTerminal(status); }
  static JobCallbackCheck Of(const JobRecord& job) {
    return {.token_sha256 = job.token_sha256, .queued = job.queued, .status = job.status};
  }
};

// What RecordProgressBehind did with a report.
struct ProgressTaken {
  // In memory, to be written within the interval and announced then; else written at once,
  // as `recorded` says.
  bool buffered = false;
  ProgressRecorded recorded;  // `repeated` also for a repeat of a report still in memory
};

class BufferedProgressStore final : public MetadataStore {
 public:
  // Starts the writer's thread.
  BufferedProgressStore(MetadataStorePtr store, BufferedProgressOptions options);
  ~BufferedProgressStore() override;  // Stop()

  // Writes every report still in memory and stops the thread; later reports are written at
  // once. Idempotent.
  void Stop();

  // The progress callback's way in: takes a report of progress alone into memory, to be
  // written behind. Any other report, and the job's last one (`last_report`: it carries the
  // exit), is written, after the job's earlier ones, before this returns.
  // Unavailable past max_pending_updates; the store's errors for one written at once.
  Result<ProgressTaken> RecordProgressBehind(const std::string& job_name,
                                             const ProgressUpdate& update, bool last_report);
  // What the job's progress callback is checked against. `presented_sha256` is the hash of the
  // token the caller was given: read again when what is remembered has another. NotFound.
  Result<JobCallbackCheck> GetJobCallbackCheck(const std::string& job_name,
                                               const std::string& presented_sha256);

  // Writes at once, after the job's reports in memory.
  Result<ProgressRecorded> RecordProgress(const std::string& job_name,
                                          const ProgressUpdate& update) override;
  // Reads and writes of a job's records: its reports in memory are written first.
  Result<JobRecord> GetJob(const std::string& name) override;
  Result<JobPage> ListJobs(const JobFilter& filter) override;
  Result<std::vector<Event>> UpdateJobState(const JobRecord& job,
                                            const std::vector<Event>& events) override;
  Result<ClaimResult> ClaimJob(const JobRecord& job, const std::vector<Event>& events,
                               const ClaimLimits& limits) override;
  Result<std::vector<MetricPoint>> ListMetricPoints(const std::string& job_name,
                                                    const std::string& metric_name = "") override;
  Result<std::vector<LogLine>> ListLogLines(const std::string& job_name, int64_t after_id,
                                            size_t limit = 1000) override;

  // The rest: the store's own (buffered_progress_forwarding.cc).
  Status CreateDataset(const DatasetRecord& dataset) override;
  Result<DatasetRecord> GetDataset(const std::string& id) override;
  Result<std::vector<DatasetRecord>> ListDatasets() override;
  Status DeleteDataset(const std::string& id) override;
  Result<SweepRecord> CreateSweep(const SweepRecord& sweep,
                                  const std::vector<std::string>& dataset_ids,
                                  const std::vector<JobRecord>& jobs) override;
  using MetadataStore::AddJobs;
  Status AddJobs(const std::string& sweep_id, const std::vector<JobRecord>& jobs,
                 int64_t expected_jobs) override;
  Result<SweepRecord> GetSweep(const std::string& id) override;
  Result<std::vector<SweepRecord>> ListSweeps() override;
  Status SetSweepStopRequested(const std::string& id, bool stop_requested) override;
  Result<bool> ClaimSearch(const std::string& sweep_id, const std::string& owner, TimePoint now,
                           TimePoint expires_at) override;
  Result<std::vector<std::string>> RenewSearchLeases(const std::string& owner,
                                                     TimePoint expires_at) override;
  Result<std::vector<std::string>> TakeOverSearches(const std::string& owner, TimePoint now,
                                                    TimePoint expires_at, size_t limit) override;
  Result<bool> EndSearch(const std::string& sweep_id, const std::string& owner) override;
  Result<std::map<std::string, int64_t>> CountJobsByStatus(const std::string& sweep_id) override;
  Result<std::vector<std::string>> RenewLeases(const std::string& owner,
                                               TimePoint expires_at) override;
  Result<std::vector<JobRecord>> TakeOverJobs(const std::string& owner, TimePoint now,
                                              TimePoint expires_at, size_t limit) override;
  Result<bool> RecordLaunch(const std::string& job_name, const std::string& owner,
                            int attempt) override;
  Result<std::vector<Event>> ListEvents(int64_t after_id, const EventFilter& filter,
                                        size_t limit = 1000) override;
  Result<int64_t> LastEventId() override;
  Status CreateWebhook(const WebhookRecord& webhook) override;
  Result<WebhookRecord> GetWebhook(const std::string& id) override;
  Result<std::vector<WebhookRecord>> ListWebhooks() override;
  Status DeleteWebhook(const std::string& id) override;
  Result<int64_t> WebhookCursor() override;
  Status AddDeliveries(const std::vector<DeliveryRecord>& deliveries, int64_t from_cursor,
                       int64_t cursor) override;
  Result<DeliveryRecord> GetDelivery(const std::string& id) override;
  Status UpdateDelivery(const DeliveryRecord& delivery) override;
  Result<std::vector<DeliveryRecord>> ListDeliveries(const std::string& webhook_id,
                                                     size_t limit = 100) override;
  Result<std::vector<DeliveryRecord>> ClaimDueDeliveries(TimePoint now, size_t limit,
                                                         TimePoint claim_until) override;
  Result<std::optional<TimePoint>> NextDeliveryTime() override;

 private:
  using Clock = std::chrono::steady_clock;
  struct RememberedCheck {
    JobCallbackCheck check;
    Clock::time_point expires;
  };

  void WriterLoop();
  // Writes the reports in memory (of every job, or of one), in order, one writer at a time.
  // Returns false when a write failed and its reports went back into memory.
  bool WriteAll();
  void WriteJob(const std::string& job_name);
  // Writes `updates` of the job (write_mutex_ held); puts back those not written when a write
  // fails in a way worth trying again.
  bool WriteUpdates(const std::string& job_name, std::vector<ProgressUpdate>& updates);
  void Forget(const std::string& job_name);

  MetadataStorePtr store_;
  BufferedProgressOptions options_;
  // One writer at a time: a job's reports reach the store in the order they came.
  std::mutex write_mutex_;
  std::mutex mutex_;  // everything below
  std::condition_variable wake_;
  std::unordered_map<std::string, std::vector<ProgressUpdate>> pending_;
  size_t pending_updates_ = 0;
  bool unannounced_ = false;  // written, and on_written not called since
  bool stopping_ = false;
  int failed_rounds_ = 0;  // consecutive rounds whose writes failed
  std::unordered_map<std::string, RememberedCheck> checks_;
  uint64_t forget_generation_ = 0;  // changed by every Forget
  std::thread writer_;
};

// Logs what RecordProgress left unstored (a repeated sequence; points past the cap on metric
// names), naming the job, with `logger` (the caller's module).
void LogUnstoredProgress(const std::string& logger, const std::string& job_name,
                         const ProgressUpdate& update, const ProgressRecorded& recorded);

}  // namespace trainyard::metadata
