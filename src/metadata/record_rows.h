// How the metadata stores' records map to table rows, in SQLite and PostgreSQL alike (the two
// schemas share their table and column names): the column list each SELECT uses and the
// readers that turn a row (in that column order) back into a record, plus the JSON text
// encodings of json fields and maps. A job's status, secondary status and transitions are typed
// in JobRecord and text in the row (the API's spellings, SecondaryStatusTransitions' JSON):
// ReadJob converts them on the way in, each store's job writes on the way out.
//
// The readers take any Row with the accessors of sqlite_handle.h's Statement (IsNull, Int,
// Double, Text, OptionalInt by column): a SQLite statement or a PostgreSQL result row.
//
// Thread-safety: the readers only read the row they are given.
// Failures: a stored JSON text that does not parse, or a status or transition that core cannot
// read, is Internal, naming the record and field.
#pragma once

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_format.h"
#include "metadata/metadata_store.h"

namespace trainyard::metadata {

// How many rows a call that was given no limit returns: jobs (ListJobs, TakeOverJobs), searches
// and the rest (events, log lines, metric points, deliveries).
inline constexpr size_t kDefaultJobPageSize = 100;
inline constexpr size_t kDefaultSearchPageSize = 100;  // RenewSearchLeases, TakeOverSearches
inline constexpr size_t kDefaultListLimit = 1000;

// Timestamps are stored as integer milliseconds since the Unix epoch.
int64_t ToMillis(TimePoint time);
TimePoint FromMillis(int64_t millis);

inline constexpr char kDatasetColumns[] =
    "id, name, kind, filename, object_key, size, sha256_hex, content_type, created_at_ms";
inline constexpr char kSweepColumns[] =
    "id, name, spec, idempotency_key, stop_requested, created_at_ms";
inline constexpr char kJobColumns[] =
    "name, sweep_id, queue_position, job_index, executor, hyperparameters, queued, "
    "executor_job_name, attempt, status, secondary_status, transitions, failure_reason, "
    "exit_code, token_sha256, started_at_ms, ended_at_ms, progress, metrics, created_at_ms, "
    "updated_at_ms, stop_reason, owner, lease_expires_at_ms, image, image_digest, launched_attempt";
inline constexpr char kEventColumns[] = "id, type, sweep_id, job_name, data, time_ms";
inline constexpr char kWebhookColumns[] = "id, url, events, secret, format, created_at_ms";
inline constexpr char kDeliveryColumns[] =
    "id, webhook_id, event_type, event_id, sweep_id, job_name, payload, status, attempts, "
    "response_code, latency_ms, last_error, next_attempt_at_ms, retry_until_ms, created_at_ms, "
    "updated_at_ms";

// Compact JSON text; invalid UTF-8 in strings is replaced rather than failing the write.
std::string DumpJson(const nlohmann::json& value);
// `what` names the record and field for the error ("job 'x' progress").
Result<nlohmann::json> ParseJson(const std::string& text, std::string_view what);

std::string DumpStringMap(const std::map<std::string, std::string>& map);
// NaN and infinities have no JSON form: they are stored as null and read back as NaN.
std::string DumpMetricMap(const std::map<std::string, double>& map);

// The SQL condition of a job that counts against ClaimLimits: out of the queue, not ended.
inline constexpr char kRunningCondition[] = "queued = 0 AND status IN ('InProgress', 'Stopping')";
// The running jobs that ClaimJob counts against the limits: not those storing their outputs
// (Uploading), whose code has ended, whichever server stores them.
inline constexpr char kCountedRunningCondition[] =
    "queued = 0 AND status IN ('InProgress', 'Stopping') AND secondary_status <> 'Uploading'";

// One running job, as ClaimJob counts it.
struct RunningJob {
  std::string name;
  std::string executor;
  std::string sweep_id;
};
// The first limit of `limits` that the running jobs reach for `job` (those in limits.ending not
// counted); nullopt when it may be claimed. The same in every store.
std::optional<ClaimResult::Outcome> ReachedLimit(const std::vector<RunningJob>& running,
                                                 const JobRecord& job, const ClaimLimits& limits);

// An update's metric points merged into a job's latest values, keeping at most `max_names`
// names (0: no cap): returns the points kept and counts the others in `dropped`.
std::vector<MetricPoint> MergeMetricPoints(const std::vector<MetricPoint>& points, size_t max_names,
                                           std::map<std::string, double>& latest,
                                           uint64_t& dropped);
Result<std::map<std::string, double>> ParseMetricMap(const std::string& text,
                                                     std::string_view what);

// Encodes one metric point as in the API: {"name", "value", "step" (when set), "timestamp"}.
nlohmann::json MetricPointJson(const MetricPoint& point);

// --- readers ---

// A stored value that core cannot read back (written by something else, or damaged) is the
// store's failure: Internal, naming the record and field.
template <typename T>
Result<T> ReadTyped(Result<T> value, const std::string& what) {
  if (!value.ok()) {
    return Internal(what + ": stored value is not readable: " + value.status().message());
  }
  return value;
}

template <typename Row>
DatasetRecord ReadDataset(const Row& row) {
  DatasetRecord dataset;
  dataset.id = row.Text(0);
  dataset.name = row.Text(1);
  dataset.kind = row.Text(2);
  dataset.filename = row.Text(3);
  dataset.object_key = row.Text(4);
  dataset.size = static_cast<uint64_t>(row.Int(5));
  dataset.sha256_hex = row.Text(6);
  dataset.content_type = row.Text(7);
  dataset.created_at = FromMillis(row.Int(8));
  return dataset;
}

template <typename Row>
Result<SweepRecord> ReadSweep(const Row& row) {
  SweepRecord sweep;
  sweep.id = row.Text(0);
  sweep.name = row.Text(1);
  TY_ASSIGN_OR_RETURN(sweep.spec, ParseJson(row.Text(2), "sweep '" + sweep.id + "' spec"));
  if (!row.IsNull(3)) sweep.idempotency_key = row.Text(3);
  sweep.stop_requested = row.Int(4) != 0;
  sweep.created_at = FromMillis(row.Int(5));
  return sweep;
}

template <typename Row>
Result<JobRecord> ReadJob(const Row& row) {
  JobRecord job;
  job.name = row.Text(0);
  std::string what = "job '" + job.name + "' ";
  job.sweep_id = row.Text(1);
  job.queue_position = row.Int(2);
  job.index = row.Int(3);
  job.executor = row.Text(4);
  TY_ASSIGN_OR_RETURN(nlohmann::json hyperparameters,
                      ParseJson(row.Text(5), what + "hyperparameters"));
  if (!hyperparameters.is_object()) return Internal(what + "hyperparameters: not an object");
  for (const auto& [key, value] : hyperparameters.items()) {
    if (!value.is_string()) return Internal(what + "hyperparameter '" + key + "' not a string");
    job.hyperparameters[key] = value.template get<std::string>();
  }
  job.queued = row.Int(6) != 0;
  job.executor_job_name = row.Text(7);
  job.attempt = static_cast<int>(row.Int(8));
  TY_ASSIGN_OR_RETURN(job.status, ReadTyped(core::ParseJobStatus(row.Text(9)), what + "status"));
  TY_ASSIGN_OR_RETURN(job.secondary_status, ReadTyped(core::ParseSecondaryStatus(row.Text(10)),
                                                      what + "secondary_status"));
  TY_ASSIGN_OR_RETURN(nlohmann::json transitions, ParseJson(row.Text(11), what + "transitions"));
  TY_ASSIGN_OR_RETURN(job.transitions,
                      ReadTyped(core::TransitionsFromJson(transitions), what + "transitions"));
  job.failure_reason = row.Text(12);
  if (!row.IsNull(13)) job.exit_code = static_cast<int>(row.Int(13));
  job.token_sha256 = row.Text(14);
  if (!row.IsNull(15)) job.started_at = FromMillis(row.Int(15));
  if (!row.IsNull(16)) job.ended_at = FromMillis(row.Int(16));
  TY_ASSIGN_OR_RETURN(job.progress, ParseJson(row.Text(17), what + "progress"));
  TY_ASSIGN_OR_RETURN(job.metrics, ParseMetricMap(row.Text(18), what + "metrics"));
  job.created_at = FromMillis(row.Int(19));
  job.updated_at = FromMillis(row.Int(20));
  job.stop_reason = row.Text(21);
  job.owner = row.Text(22);
  if (!row.IsNull(23)) job.lease_expires_at = FromMillis(row.Int(23));
  job.image = row.Text(24);
  job.image_digest = row.Text(25);
  if (!row.IsNull(26)) job.launched_attempt = static_cast<int>(row.Int(26));
  return job;
}

template <typename Row>
Result<Event> ReadEvent(const Row& row) {
  Event event;
  event.id = row.Int(0);
  event.type = row.Text(1);
  event.sweep_id = row.Text(2);
  event.job_name = row.Text(3);
  TY_ASSIGN_OR_RETURN(event.data,
                      ParseJson(row.Text(4), "event " + std::to_string(event.id) + " data"));
  event.time = FromMillis(row.Int(5));
  return event;
}

template <typename Row>
Result<WebhookRecord> ReadWebhook(const Row& row) {
  WebhookRecord webhook;
  webhook.id = row.Text(0);
  webhook.url = row.Text(1);
  TY_ASSIGN_OR_RETURN(nlohmann::json events,
                      ParseJson(row.Text(2), "webhook '" + webhook.id + "' events"));
  if (!events.is_array()) return Internal("webhook '" + webhook.id + "' events: not a list");
  for (const nlohmann::json& event : events) {
    if (!event.is_string()) return Internal("webhook '" + webhook.id + "' events: not text");
    webhook.events.push_back(event.get<std::string>());
  }
  webhook.secret = row.Text(3);
  webhook.format = row.Text(4);
  webhook.created_at = FromMillis(row.Int(5));
  return webhook;
}

template <typename Row>
Result<DeliveryRecord> ReadDelivery(const Row& row) {
  DeliveryRecord delivery;
  delivery.id = row.Text(0);
  delivery.webhook_id = row.Text(1);
  delivery.event_type = row.Text(2);
  delivery.event_id = row.Int(3);
  delivery.sweep_id = row.Text(4);
  delivery.job_name = row.Text(5);
  TY_ASSIGN_OR_RETURN(delivery.payload,
                      ParseJson(row.Text(6), "delivery '" + delivery.id + "' payload"));
  delivery.status = row.Text(7);
  delivery.attempts = static_cast<int>(row.Int(8));
  if (auto code = row.OptionalInt(9)) delivery.response_code = static_cast<int>(*code);
  delivery.latency_ms = row.OptionalInt(10);
  delivery.last_error = row.Text(11);
  if (auto next = row.OptionalInt(12)) delivery.next_attempt_at = FromMillis(*next);
  delivery.retry_until = FromMillis(row.Int(13));
  delivery.created_at = FromMillis(row.Int(14));
  delivery.updated_at = FromMillis(row.Int(15));
  return delivery;
}

// A metric value from a REAL column: SQLite stores NaN as NULL.
template <typename Row>
double ReadMetricValue(const Row& row, int column) {
  if (row.IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
  return row.Double(column);
}

}  // namespace trainyard::metadata
