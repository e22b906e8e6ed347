// PostgresMetadataStore: the MetadataStore kept in PostgreSQL, for installations that outgrow
// one machine's SQLite (docs/scale-out.md). See metadata_store.h for the contract of each method;
// it passes the same conformance suite as SqliteMetadataStore.
//
// Transactions: each method is one transaction on a connection from the pool. Writes run at
// READ COMMITTED and lock what they depend on (the job's row before a progress merge, the
// counters row before event ids are taken: see postgres_schema.cc), so that concurrent writers
// keep SQLite's guarantees: event ids and queue positions increase in commit order, a job's
// metric points and log lines are numbered without gaps or repeats. Reads run at REPEATABLE READ
// READ ONLY: one snapshot for all their statements.
//
// Retries: a transaction that fails on a serialization failure or a deadlock, or whose
// connection is lost (a restart or failover of PostgreSQL), is tried again on a new connection,
// up to `max_attempts` times with a growing pause; each retry is logged (logger "metadata"). A
// connection lost during COMMIT is not tried again: the commit may have happened, and the call
// fails Unavailable saying so.
//
// Thread-safety: safe from many threads; at most `max_connections` calls run at once, the others
// wait for a connection.
//
// Failures: as metadata_store.h; PostgreSQL errors are Internal (with its message and SQLSTATE),
// a full disk ResourceExhausted, an unreachable server Unavailable. Opening a database written by
// a newer trainyard (a schema version this one does not know) is FailedPrecondition.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "metadata/metadata_store.h"
#include "metadata/postgres_connection.h"

namespace trainyard::metadata {

struct PostgresMetadataStoreOptions {
  // postgresql://[user[:password]@]host[:port]/database[?setting=value&...]: every setting
  // libpq knows is passed to it as given (sslmode, sslrootcert, sslcert, sslkey, connect_timeout,
  // target_session_attrs, ...); `pool_size=N` is trainyard's own and sets max_connections.
  std::string url;
  // The PostgreSQL schema the store's tables live in, apart from those of the same database's
  // other stores (the SageMaker-compatible endpoint's jobs: "sagemaker"); created, and migrated,
  // on its own at Open. Empty: the database's default search_path (public). A name that
  // CheckPostgresSchemaName refuses fails Open with InvalidArgument.
  std::string schema;
  size_t max_connections = 8;
  // How long a call waits for a free connection before failing ResourceExhausted.
  std::chrono::milliseconds acquire_timeout{30'000};
  // Tries of one call on a serialization failure or a lost connection.
  int max_attempts = 6;
};

// What a PostgreSQL URL says, once checked: InvalidArgument naming the URL (its password
// masked) and the reason when libpq cannot read it or pool_size is not a positive integer.
struct PostgresUrl {
  std::string conninfo;  // for libpq: the URL without trainyard's own settings
  std::string shown_as;  // the URL with its password replaced by ****, for messages and logs
  std::optional<size_t> pool_size;
  std::string password;  // what the URL gives as the password ("" when none): a secret
};
Result<PostgresUrl> ParsePostgresUrl(const std::string& url);

class PostgresMetadataStore final : public MetadataStore {
 public:
  // Connects, and migrates the schema to the latest version.
  static Result<std::unique_ptr<PostgresMetadataStore>> Open(
      const PostgresMetadataStoreOptions& options);

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
  enum class Access { kRead, kWrite };

  PostgresMetadataStore(const PostgresMetadataStoreOptions& options, const PostgresUrl& url);

  // Runs `body(connection)` in one transaction, committing when it succeeds and rolling back
  // when it fails, and tries again as the class comment says. `method` names the call in logs.
  template <typename Body>
  auto Transact(Access access, const char* method, Body&& body)
      -> decltype(body(std::declval<PgConnection&>()));
  // One try of Transact: the body's result, and whether a failure may be tried again.
  Status Begin(PgConnection& connection, Access access);
  Status Commit(PgConnection& connection, bool* may_retry);
  void Rollback(PgConnection& connection, const char* method);
  // Waits before try number `attempt` (1-based) and logs why.
  void PauseBeforeRetry(const char* method, int attempt, const Status& failure);

  // Helpers below run inside the caller's transaction.
  static Result<bool> Exists(PgConnection& connection, const std::string& sql,
                             const std::string& key);
  static Result<SweepRecord> LoadSweep(PgConnection& connection, const std::string& id);
  // UpdateJobState's write (NotFound when there is no such job).
  static Result<std::vector<Event>> WriteJobState(PgConnection& connection, const JobRecord& job,
                                                  const std::vector<Event>& events);
  static Status InsertJob(PgConnection& connection, const JobRecord& job,
                          const std::string& sweep_id, int64_t queue_position, int64_t now_ms);
  // Takes `count` consecutive values of a counter (postgres_schema.cc): returns the first.
  static Result<int64_t> TakeCounter(PgConnection& connection, const char* name, int64_t count);
  // Inserts `events` (times defaulting to `now`), with ids taken from the event counter, last
  // in the transaction so that the counter's lock is held briefly; returns them with ids.
  static Result<std::vector<Event>> AppendEvents(PgConnection& connection,
                                                 std::vector<Event> events, TimePoint now);

  const PostgresMetadataStoreOptions options_;
  const std::string shown_as_;
  PgPool pool_;
};

// --- Transact, used by every method ---

namespace postgres_internal {
inline const Status& StatusOf(const Status& status) {
  return status;
}
template <typename T>
const Status& StatusOf(const Result<T>& result) {
  return result.status();
}
}  // namespace postgres_internal

template <typename Body>
auto PostgresMetadataStore::Transact(Access access, const char* method, Body&& body)
    -> decltype(body(std::declval<PgConnection&>())) {
  Status failure;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) PauseBeforeRetry(method, attempt, failure);
    bool may_retry = false;
    {
      Result<PgPool::Lease> lease = pool_.Acquire();
      if (!lease.ok()) {
        // A server that cannot be reached now may be restarting or failing over.
        failure = lease.status();
        may_retry = failure.code() == StatusCode::kUnavailable;
      } else {
        PgConnection& connection = **lease;
        failure = Begin(connection, access);
        if (failure.ok()) {
          auto result = body(connection);
          if (postgres_internal::StatusOf(result).ok()) {
            failure = Commit(connection, &may_retry);
            if (failure.ok()) return result;
          } else {
            failure = postgres_internal::StatusOf(result);
            may_retry = connection.LastFailure() == PgConnection::Failure::kRetryable ||
                        connection.LastFailure() == PgConnection::Failure::kConnectionLost;
            Rollback(connection, method);
            if (!may_retry) return result;  // the body's own answer (NotFound, ...)
          }
        } else {
          may_retry = connection.LastFailure() == PgConnection::Failure::kConnectionLost;
        }
      }
    }
    if (!may_retry || attempt >= options_.max_attempts) {
      return failure.WithContext(std::string("metadata ") + method);
    }
  }
}

}  // namespace trainyard::metadata
