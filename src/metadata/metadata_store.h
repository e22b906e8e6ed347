// MetadataStore: the server's records — datasets, sweeps, jobs, their metric history and log
// lines, webhooks and their deliveries — and the event log that clients follow
// (GET /api/v1/events). One interface; backends are chosen by URL (OpenMetadataStore:
// "sqlite:///path/trainyard.db", "sqlite::memory:", "postgresql://..."), and every backend
// passes the suite in metadata_store_conformance.h.
//
// Thread-safety: every MetadataStore is safe to call from many threads at once. Each method is
// one transaction: it happens whole or not at all, so a server killed at any instant leaves
// every record as it was before or after the call, never between.
//
// Failures are Status values naming the record: NotFound ("job 'digits-001' not found"),
// AlreadyExists, FailedPrecondition, Internal (the database failed), ResourceExhausted (disk
// full).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/time_format.h"
#include "core/job_status.h"
#include "core/job_status_tracker.h"

namespace trainyard::metadata {

struct DatasetRecord {
  std::string id;          // "ds-" + 16 lowercase hex digits, chosen by the caller
  std::string name;        // the user's name for it (often the file name)
  std::string kind;        // training | evaluation | pretrained | config | other
  std::string filename;    // the file name the job sees in its channel directory
  std::string object_key;  // where the bytes are in the object store
  uint64_t size = 0;
  std::string sha256_hex;
  std::string content_type;
  TimePoint created_at;
};

struct SweepRecord {
  std::string id;  // "sw-" + 16 lowercase hex digits, chosen by the caller
  std::string name;
  nlohmann::json spec = nlohmann::json::object();  // the validated create request, as stored
  std::optional<std::string> idempotency_key;
  bool stop_requested = false;
  TimePoint created_at;
};

// Job states mirror SageMaker's. A job waiting for a slot is `queued` (status InProgress,
// secondary status Starting, as SageMaker reports a job waiting for capacity); it leaves the
// queue when the scheduler hands it to its executor.
struct JobRecord {
  std::string name;            // primary key; a valid SageMaker training job name
  std::string sweep_id;        // the sweep it belongs to
  int64_t queue_position = 0;  // set by the store at creation: FIFO order, increasing
  int64_t index = 0;           // its place in the sweep (0-based)
  std::string executor;        // "local", "container", "sagemaker", ...
  std::map<std::string, std::string> hyperparameters;  // as SageMaker takes them: strings
  // --- below: the state the scheduler writes (UpdateJobState) ---
  bool queued = true;
  std::string executor_job_name;  // the name given to the executor (changes on retry)
  int attempt = 0;                // 0 for the first run, +1 for each retry
  core::JobStatus status = core::JobStatus::kInProgress;  // TrainingJobStatus
  core::SecondaryStatus secondary_status = core::SecondaryStatus::kStarting;
  std::vector<core::StatusTransition> transitions;  // SecondaryStatusTransitions, oldest first
  std::string failure_reason;
  std::optional<int> exit_code;
  std::string token_sha256;  // hex SHA-256 of the job's callback token; empty: none issued
  std::optional<TimePoint> started_at;  // when it left the queue
  std::optional<TimePoint> ended_at;    // when it reached Completed, Failed or Stopped
  // Why trainyard itself stopped the job (early stopping: the rule, the step, the values
  // compared), written before it is asked to stop; empty: not stopped by trainyard.
  std::string stop_reason;
  // The training image of a job whose executor runs images (the container executor): the
  // reference it was resolved from (`image`: the sweep's trainer.image or the server's default,
  // an ECR-form reference mapped to the configured registry), and what exactly ran
  // (`image_digest`: REPOSITORY@sha256:..., or the runtime's image id for an image that came
  // from no registry); empty until the executor has resolved it, and for other executors.
  std::string image;
  std::string image_digest;
  // --- below: which server follows the job while it runs (written by ClaimJob, RenewLeases,
  // TakeOverJobs and RecordLaunch only; UpdateJobState leaves them) ---
  std::string owner;                          // the scheduler's owner id; empty: none yet
  std::optional<TimePoint> lease_expires_at;  // the owner must renew its lease before this
  // The attempt whose code its owner let start (RecordLaunch; cleared by ClaimJob): when it is
  // `attempt`, the job's code may have run. nullopt: no launch since the job was last claimed.
  std::optional<int> launched_attempt;
  // --- below: what the job reports (RecordProgress) ---
  nlohmann::json progress = nlohmann::json::object();  // latest progress snapshot
  std::map<std::string, double> metrics;               // latest value of each metric
  TimePoint created_at;
  TimePoint updated_at;  // set by the store on every write
};

struct MetricPoint {
  std::string name;
  double value = 0;
  std::optional<int64_t> step;
  TimePoint timestamp;
};

struct LogLine {
  int64_t id = 0;      // set by the store: increasing within a job
  std::string stream;  // "stdout" | "stderr"
  std::string line;
  TimePoint timestamp;
};

// One entry of the event log. Ids increase across the whole store, so a client that saw id N
// asks for events after N and misses nothing.
struct Event {
  int64_t id = 0;    // set by the store
  std::string type;  // "job.created" | "job.status" | "job.progress" | "job.metrics" | ...
  std::string sweep_id;
  std::string job_name;
  nlohmann::json data = nlohmann::json::object();
  TimePoint time;
};

// A webhook: where trainyard POSTs what happened (docs/webhooks.md).
struct WebhookRecord {
  std::string id;                   // "wh-" + 16 lowercase hex digits, chosen by the caller
  std::string url;                  // http(s) target, checked by the caller
  std::vector<std::string> events;  // the event types it receives ("job.completed", ...)
  std::string secret;               // the HMAC key of its signatures; stored, never listed out
  std::string format = "json";      // "json" | "slack"
  TimePoint created_at;
};

// One event to deliver to one webhook, and how its tries went. A delivery is `pending` until
// an answer 2xx makes it `succeeded`, or its retry window passes and it is `failed`.
struct DeliveryRecord {
  std::string id;          // "dl-" + 16 lowercase hex digits, chosen by the caller
  std::string webhook_id;  // the webhook it goes to
  std::string event_type;  // "job.completed" | "job.failed" | ... (docs/webhooks.md)
  int64_t event_id = 0;    // the event-log entry it came from
  std::string sweep_id;
  std::string job_name;                               // empty for a sweep's event
  nlohmann::json payload = nlohmann::json::object();  // the document sent (before formatting)
  std::string status = "pending";                     // pending | succeeded | failed
  int attempts = 0;                                   // tries made so far
  std::optional<int> response_code;                   // the last try's HTTP status, if any
  std::optional<int64_t> latency_ms;                  // the last try's duration
  std::string last_error;                             // why the last try failed; empty: none
  std::optional<TimePoint> next_attempt_at;           // when pending: the next try
  TimePoint retry_until;  // no try is made after this; a pending delivery then fails
  TimePoint created_at;
  TimePoint updated_at;  // set by the store on every write
};

struct EventFilter {
  std::string sweep_id;  // empty: any
  std::string job_name;  // empty: any
};

struct JobFilter {
  std::string sweep_id;  // empty: any
  // empty: any; "Queued": queued jobs; otherwise a TrainingJobStatus, matching jobs that are not
  // queued ("InProgress" then means running).
  std::string status;
  int64_t after_queue_position = 0;  // page token: jobs after this position
  size_t limit = 100;                // 0 is taken as 100
};

// What ClaimJob counts before it takes a job: the jobs that have left the queue and not ended
// (InProgress or Stopping), across every server sharing the store, but not those Uploading
// (their code has ended: their outputs are being stored). 0: no limit.
struct ClaimLimits {
  int max_running = 0;     // all jobs
  int executor_limit = 0;  // the jobs of the claimed job's executor
  int sweep_limit = 0;     // the jobs of the claimed job's sweep (its max_parallel)
  // Jobs whose code has ended and whose end the caller is recording: not counted.
  std::vector<std::string> ending;
};

// What ClaimJob did.
struct ClaimResult {
  enum class Outcome {
    kClaimed,       // the job is the caller's; `events` were appended
    kTaken,         // it left the queue already, or another caller is claiming it
    kAtMaxRunning,  // a limit of ClaimLimits is reached: nothing was written
    kAtExecutorLimit,
    kAtSweepLimit,
  };
  Outcome outcome = Outcome::kTaken;
  std::vector<Event> events;
  bool claimed() const { return outcome == Outcome::kClaimed; }
};

struct JobPage {
  std::vector<JobRecord> jobs;  // in queue order
  bool truncated = false;       // more match: ask again after the last one's queue_position
};

// What one progress callback brings (docs/progress-callback.md).
struct ProgressUpdate {
  std::optional<nlohmann::json> progress;  // the new snapshot, when it changed
  std::vector<MetricPoint> metrics;
  std::vector<LogLine> log;  // ids are assigned by the store
  // The callback's sequence number (increasing with each request of one run of the job); 0:
  // none given. An update whose sequence is not above the last one recorded under the job's
  // current token is a repeat and records nothing.
  uint64_t sequence = 0;
  // At most this many distinct metric names per job (0: no limit); points of further names are
  // dropped, and counted in ProgressRecorded.
  size_t max_metric_names = 0;
};

// What RecordProgress did with an update.
struct ProgressRecorded {
  std::vector<Event> events;           // the appended events, with their ids
  bool repeated = false;               // the sequence was already recorded: nothing was stored
  uint64_t dropped_metric_points = 0;  // points of names beyond max_metric_names
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // --- datasets ---
  // AlreadyExists when the id is taken.
  virtual Status CreateDataset(const DatasetRecord& dataset) = 0;
  virtual Result<DatasetRecord> GetDataset(const std::string& id) = 0;
  // Newest first.
  virtual Result<std::vector<DatasetRecord>> ListDatasets() = 0;
  // FailedPrecondition naming a job when a sweep that uses the dataset has a job that is
  // queued or not yet ended; NotFound when there is no such dataset.
  virtual Status DeleteDataset(const std::string& id) = 0;

  // --- sweeps ---
  // Creates the sweep, its jobs (queue positions assigned in the given order), its links to the
  // datasets it uses, and one "job.created" event per job, in one transaction. When the sweep
  // has an idempotency key that an existing sweep already has, nothing is created and the
  // existing sweep is returned. AlreadyExists when the sweep id or a job name is taken;
  // NotFound when a dataset id does not exist.
  virtual Result<SweepRecord> CreateSweep(const SweepRecord& sweep,
                                          const std::vector<std::string>& dataset_ids,
                                          const std::vector<JobRecord>& jobs) = 0;
  // Adds jobs to an existing sweep (a search's later suggestions): queue positions after every
  // job of the store, one "job.created" event each, in one transaction; nothing is written on
  // failure. NotFound when the sweep does not exist; AlreadyExists when a job name is taken.
  // With `expected_jobs` >= 0, a compare-and-set: FailedPrecondition, with nothing written,
  // unless the sweep has exactly that many jobs when the call runs, so that a search's next
  // trial numbers are added once, whichever of the servers sharing the store suggests them.
  virtual Status AddJobs(const std::string& sweep_id, const std::vector<JobRecord>& jobs,
                         int64_t expected_jobs) = 0;
  Status AddJobs(const std::string& sweep_id, const std::vector<JobRecord>& jobs) {
    return AddJobs(sweep_id, jobs, -1);
  }
  virtual Result<SweepRecord> GetSweep(const std::string& id) = 0;
  // Newest first.
  virtual Result<std::vector<SweepRecord>> ListSweeps() = 0;
  virtual Status SetSweepStopRequested(const std::string& id, bool stop_requested) = 0;
  // --- searches: one driver per sweep (docs/search.md, docs/scale-out.md) ---
  // A sweep's search, where it suggests jobs from results, is driven by one server at a time:
  // the holder of the search's lease. Every sweep is created with its search on and no holder;
  // the server that finds a sweep with nothing to drive (a grid, a search that has ended) ends
  // its search (EndSearch), after which no server takes it.
  //
  // Takes the lease of the sweep's search for `owner` until `expires_at` when the search is on
  // and the lease is free: held by nobody, by `owner` itself, or expired before `now`. A
  // compare-and-set in one statement: of servers claiming at once, exactly one gets it. false
  // when another server holds it or the search has ended. NotFound.
  virtual Result<bool> ClaimSearch(const std::string& sweep_id, const std::string& owner,
                                   TimePoint now, TimePoint expires_at) = 0;
  // Moves to `expires_at` the lease of every search `owner` holds that is still on, whether or
  // not it had expired; returns their sweep ids, sorted. A search another server took over
  // (TakeOverSearches) is not among them.
  virtual Result<std::vector<std::string>> RenewSearchLeases(const std::string& owner,
                                                             TimePoint expires_at) = 0;
  // Takes for `owner` up to `limit` (0: 100) searches that are on and whose lease is held by
  // another server (or none) and expired before `now` (or was never taken); returns their sweep
  // ids, oldest sweep first. Each such search is taken by one caller only, however many call at
  // once.
  virtual Result<std::vector<std::string>> TakeOverSearches(const std::string& owner, TimePoint now,
                                                            TimePoint expires_at, size_t limit) = 0;
  // Ends the sweep's search when `owner` holds its lease (expired or not) or nobody ever took
  // it (a sweep with nothing to drive, ended by the server that created it): no server drives
  // it any more. false, with nothing written, when another server holds it. NotFound.
  virtual Result<bool> EndSearch(const std::string& sweep_id, const std::string& owner) = 0;

  // Number of the sweep's jobs in each state: "Queued" for queued jobs, else the TrainingJobStatus
  // of jobs that left the queue. States with no job are left out.
  virtual Result<std::map<std::string, int64_t>> CountJobsByStatus(const std::string& sweep_id) = 0;

  // --- jobs ---
  virtual Result<JobRecord> GetJob(const std::string& name) = 0;
  virtual Result<JobPage> ListJobs(const JobFilter& filter) = 0;
  // Writes the scheduler's part of the job (the fields between `queued` and `ended_at`), and
  // appends `events` (ids and times are filled in; an event's time left at its default becomes
  // now), in one transaction. Returns the appended events with their ids. NotFound.
  virtual Result<std::vector<Event>> UpdateJobState(const JobRecord& job,
                                                    const std::vector<Event>& events) = 0;
  // Takes a queued job out of the queue for the caller, as UpdateJobState writes it (`job` has
  // `queued` false) plus its `owner` and `lease_expires_at`, only while the job is still queued,
  // no other caller is taking it at the same instant, and the running jobs of the store are
  // within `limits` (counted in the same transaction, so that claims of servers sharing the
  // store never pass a limit together): of several servers sharing one store, exactly one
  // claims each job. Nothing is written unless it is claimed. NotFound.
  virtual Result<ClaimResult> ClaimJob(const JobRecord& job, const std::vector<Event>& events,
                                       const ClaimLimits& limits = {}) = 0;
  // Moves to `expires_at` the lease of every job `owner` holds that has left the queue and not
  // ended (InProgress or Stopping), whether or not its lease had expired; returns their names. A
  // job another server took over (TakeOverJobs) is not among them: its owner changed.
  virtual Result<std::vector<std::string>> RenewLeases(const std::string& owner,
                                                       TimePoint expires_at) = 0;
  // Takes for `owner` up to `limit` jobs (0: 100) that have left the queue and not ended whose
  // owner is another server (or none) and whose lease expired before `now` (or that have none):
  // sets their owner and lease (`expires_at`) and returns them, in queue order. Each such job is
  // taken by one caller only, however many call at once.
  virtual Result<std::vector<JobRecord>> TakeOverJobs(const std::string& owner, TimePoint now,
                                                      TimePoint expires_at, size_t limit) = 0;
  // Records that `attempt` of the job may start its code now, only while `owner` holds the job
  // (its owner, at that attempt, not ended): true when recorded; false when another server took
  // it over (TakeOverJobs) or it moved on meanwhile, and its code must not start. Of a launch
  // and a takeover, exactly one comes first: the server taking a job over reads whether its
  // code may have run (launched_attempt). NotFound.
  virtual Result<bool> RecordLaunch(const std::string& job_name, const std::string& owner,
                                    int attempt) = 0;
  // Merges one progress callback: replaces the progress snapshot when given, sets the latest
  // value of each metric, appends the metric points and the log lines; appends a
  // "job.progress" event (data = the snapshot) when progress was given and a "job.metrics"
  // event (data = {"metrics": [{name, value, step, timestamp}...]}) when metrics were; one
  // transaction. Returns the appended events. Log lines are not events (they are read with
  // ListLogLines). A repeated sequence and the cap on metric names: see ProgressUpdate.
  // NotFound.
  virtual Result<ProgressRecorded> RecordProgress(const std::string& job_name,
                                                  const ProgressUpdate& update) = 0;
  // Every point of the job's metrics (or of the one named), in the order they were recorded.
  virtual Result<std::vector<MetricPoint>> ListMetricPoints(
      const std::string& job_name, const std::string& metric_name = "") = 0;
  // The job's log lines with id > after_id, in order, at most `limit` (0: 1000).
  virtual Result<std::vector<LogLine>> ListLogLines(const std::string& job_name, int64_t after_id,
                                                    size_t limit = 1000) = 0;

  // --- events ---
  // Events with id > after_id matching the filter, in id order, at most `limit` (0: 1000).
  virtual Result<std::vector<Event>> ListEvents(int64_t after_id, const EventFilter& filter,
                                                size_t limit = 1000) = 0;
  // The highest event id so far (0 when there is none).
  virtual Result<int64_t> LastEventId() = 0;

  // --- webhooks (docs/webhooks.md) ---
  // AlreadyExists when the id is taken.
  virtual Status CreateWebhook(const WebhookRecord& webhook) = 0;
  virtual Result<WebhookRecord> GetWebhook(const std::string& id) = 0;
  // Oldest first.
  virtual Result<std::vector<WebhookRecord>> ListWebhooks() = 0;
  // Deletes the webhook and its deliveries. NotFound.
  virtual Status DeleteWebhook(const std::string& id) = 0;
  // The id of the last event the webhook dispatcher has turned into deliveries (0: none yet).
  virtual Result<int64_t> WebhookCursor() = 0;
  // Inserts `deliveries` and moves the dispatcher's cursor from `from_cursor` (the value the
  // caller read) to `cursor`, in one transaction, so that an event is turned into deliveries
  // exactly once across restarts and across replicas sharing the store. FailedPrecondition, with
  // nothing inserted, when the cursor is no longer `from_cursor` (another dispatcher turned these
  // events meanwhile); AlreadyExists when a delivery id is taken; NotFound when a delivery names a
  // webhook that does not exist.
  virtual Status AddDeliveries(const std::vector<DeliveryRecord>& deliveries, int64_t from_cursor,
                               int64_t cursor) = 0;
  virtual Result<DeliveryRecord> GetDelivery(const std::string& id) = 0;
  // Writes the delivery's state (status, attempts, response_code, latency_ms, last_error,
  // next_attempt_at, retry_until); the rest is kept as created. NotFound.
  virtual Status UpdateDelivery(const DeliveryRecord& delivery) = 0;
  // The webhook's deliveries, newest first, at most `limit` (0: 100). NotFound for no webhook.
  virtual Result<std::vector<DeliveryRecord>> ListDeliveries(const std::string& webhook_id,
                                                             size_t limit = 100) = 0;
  // Claims the pending deliveries whose next try is at or before `now`, earliest first, at most
  // `limit`: in the same transaction their next try moves to `claim_until`, so that no other
  // dispatcher sharing the store takes them until the claimer records an outcome
  // (UpdateDelivery) or the claim runs out (a claimer that died). Rows another transaction is
  // claiming are skipped, not waited for. They come back as they were before the claim.
  virtual Result<std::vector<DeliveryRecord>> ClaimDueDeliveries(TimePoint now, size_t limit,
                                                                 TimePoint claim_until) = 0;
  // The earliest next try of any pending delivery; nullopt when none is pending.
  virtual Result<std::optional<TimePoint>> NextDeliveryTime() = 0;
};

using MetadataStorePtr = std::unique_ptr<MetadataStore>;

// Opens a store by URL: "sqlite:///abs/path.db" (created with its schema when missing; older
// schemas are migrated), "sqlite::memory:", or "postgresql://[user[:password]@]host[:port]/db
// [?sslmode=...&pool_size=N]" (postgres_metadata_store.h; the database must exist, its tables are
// made or migrated). Any other form: InvalidArgument naming the URL and the supported schemes.
Result<MetadataStorePtr> OpenMetadataStore(const std::string& url);

}  // namespace trainyard::metadata
