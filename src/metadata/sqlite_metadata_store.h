// SqliteMetadataStore: the MetadataStore kept in one SQLite database (a file, or memory for
// tests and throwaway servers). See metadata_store.h for the contract of each method.
//
// Durability: a file database runs in WAL mode with synchronous=NORMAL. A commit is in the
// WAL before the call returns, so a process killed at any instant (kill -9) loses nothing
// committed; only a power cut or OS crash may lose the last few commits (never corrupting the
// database), the trade that makes RecordProgress cheap enough for many jobs.
//
// Thread-safety: safe from many threads. One connection serves the store, guarded by a mutex;
// each call is one transaction (BEGIN IMMEDIATE when it writes). Other processes may open the
// same file: they wait up to `busy_timeout_ms` for each other's write locks.
//
// Failures: as metadata_store.h; SQLite errors are Internal (with sqlite3_errmsg) except a full
// disk, ResourceExhausted. Opening a database written by a newer trainyard (a schema version
// this one does not know) is FailedPrecondition.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/sqlite_handle.h"

namespace trainyard::metadata {

struct SqliteMetadataStoreOptions {
  // A file path (created with its schema when missing) or ":memory:".
  std::string path;
  // How long a call waits for another process's write lock before failing.
  int busy_timeout_ms = 5000;
};

class SqliteMetadataStore final : public MetadataStore {
 public:
  // Opens (or creates) the database and migrates its schema to the latest version.
  static Result<std::unique_ptr<SqliteMetadataStore>> Open(
      const SqliteMetadataStoreOptions& options);

  Status CreateDataset(const DatasetRecord& dataset) override;
  Result<DatasetRecord> GetDataset(const std::string& id) override;
  Result<std::vector<DatasetRecord>> ListDatasets() override;
  Status DeleteDataset(const std::string& id) override;

  Result<SweepRecord> CreateSweep(const SweepRecord& sweep,
                                  const std::vector<std::string>& dataset_ids,
                                  const std::vector<JobRecord>& jobs) override;
  Status AddJobs(const std::string& sweep_id, const std::vector<JobRecord>& jobs,
                 int64_t expected_jobs) override;
  using MetadataStore::AddJobs;
  Result<bool> ClaimSearch(const std::string& sweep_id, const std::string& owner, TimePoint now,
                           TimePoint expires_at) override;
  Result<std::vector<std::string>> RenewSearchLeases(const std::string& owner,
                                                     TimePoint expires_at) override;
  Result<std::vector<std::string>> TakeOverSearches(const std::string& owner, TimePoint now,
                                                    TimePoint expires_at, size_t limit) override;
  Result<bool> EndSearch(const std::string& sweep_id, const std::string& owner) override;
  Result<SweepRecord> GetSweep(const std::string& id) override;
  Result<std::vector<SweepRecord>> ListSweeps() override;
  Status SetSweepStopRequested(const std::string& id, bool stop_requested) override;
  Result<std::map<std::string, int64_t>> CountJobsByStatus(const std::string& sweep_id) override;

  Result<JobRecord> GetJob(const std::string& name) override;
  Result<JobPage> ListJobs(const JobFilter& filter) override;
  Result<std::vector<Event>> UpdateJobState(const JobRecord& job,
                                            const std::vector<Event>& events) override;
  Result<ClaimResult> ClaimJob(const JobRecord& job, const std::vector<Event>& events,
                               const ClaimLimits& limits = {}) override;
  Result<std::vector<std::string>> RenewLeases(const std::string& owner,
                                               TimePoint expires_at) override;
  Result<std::vector<JobRecord>> TakeOverJobs(const std::string& owner, TimePoint now,
                                              TimePoint expires_at, size_t limit) override;
  Result<bool> RecordLaunch(const std::string& job_name, const std::string& owner,
                            int attempt) override;
  Result<ProgressRecorded> RecordProgress(const std::string& job_name,
                                          const ProgressUpdate& update) override;
  Result<std::vector<MetricPoint>> ListMetricPoints(const std::string& job_name,
                                                    const std::string& metric_name = "") override;
  Result<std::vector<LogLine>> ListLogLines(const std::string& job_name, int64_t after_id,
                                            size_t limit = 1000) override;

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
  explicit SqliteMetadataStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  // Helpers below run inside the caller's transaction, with mu_ held.
  Result<SweepRecord> LoadSweep(const std::string& id);
  Result<SweepRecord> LoadSweepByIdempotencyKey(const std::string& key, bool* found);
  Result<bool> Exists(const std::string& sql, const std::string& key);
  Status InsertJob(const JobRecord& job, const std::string& sweep_id, int64_t queue_position,
                   int64_t now_ms);
  // The job's highest per-job sequence number (0 when none), by `sql` with the job bound.
  Result<int64_t> LastSequence(const std::string& sql, const std::string& job_name);
  // UpdateJobState's write (NotFound when there is no such job).
  Result<std::vector<Event>> WriteJobState(const JobRecord& job, const std::vector<Event>& events);
  // Inserts `event`, its time defaulting to `now`; returns it with its id and time.
  Result<Event> AppendEvent(Event event, TimePoint now);

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
};

}  // namespace trainyard::metadata
