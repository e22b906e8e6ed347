// SqliteMetadataStore: jobs, their metric points and log lines.
#include <algorithm>
#include <limits>
#include <utility>

#include "metadata/record_rows.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {
namespace {

using Kind = Transaction::Kind;
using nlohmann::json;

Status JobNotFound(const std::string& name) {
  return NotFound("job '" + name + "' not found");
}

}  // namespace

Status SqliteMetadataStore::InsertJob(const JobRecord& job, const std::string& sweep_id,
                                      int64_t queue_position, int64_t now_ms) {
  TY_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare(std::string("INSERT INTO jobs (") + kJobColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  std::optional<int64_t> started, ended, lease;
  if (job.started_at) started = ToMillis(*job.started_at);
  if (job.ended_at) ended = ToMillis(*job.ended_at);
  if (job.lease_expires_at) lease = ToMillis(*job.lease_expires_at);
  insert.BindAll(job.name, sweep_id, queue_position, job.index, job.executor,
                 DumpStringMap(job.hyperparameters), int64_t{job.queued}, job.executor_job_name,
                 job.attempt, core::ToString(job.status), core::ToString(job.secondary_status),
                 DumpJson(core::TransitionsToJson(job.transitions)), job.failure_reason,
                 job.exit_code, job.token_sha256, started, ended, DumpJson(job.progress),
                 DumpMetricMap(job.metrics), ToMillis(job.created_at), now_ms, job.stop_reason,
                 job.owner, lease, job.image, job.image_digest, job.launched_attempt);
  return insert.Run();
}

Result<int64_t> SqliteMetadataStore::LastSequence(const std::string& sql,
                                                  const std::string& job_name) {
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(sql));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(job_name).Step());
  return row ? query.Int(0) : int64_t{0};
}

Result<JobRecord> SqliteMetadataStore::GetJob(const std::string& name) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kJobColumns +
                                                    " FROM jobs WHERE name = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(name).Step());
  if (!row) return JobNotFound(name);
  return ReadJob(query);
}

Result<JobPage> SqliteMetadataStore::ListJobs(const JobFilter& filter) {
  size_t limit = filter.limit == 0 ? kDefaultJobPageSize : filter.limit;
  // The SQL varies only in which constant conditions it has (six forms, each cached); the
  // filter's values are bound.
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE queue_position > ?";
  if (!filter.sweep_id.empty()) sql += " AND sweep_id = ?";
  if (filter.status == "Queued") {
    sql += " AND queued = 1";
  } else if (!filter.status.empty()) {
    sql += " AND queued = 0 AND status = ?";
  }
  sql += " ORDER BY queue_position LIMIT ?";

  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(sql));
  int index = 0;
  query.Bind(++index, filter.after_queue_position);
  if (!filter.sweep_id.empty()) query.Bind(++index, filter.sweep_id);
  if (!filter.status.empty() && filter.status != "Queued") query.Bind(++index, filter.status);
  // One more than asked for tells whether the page is truncated.
  query.Bind(++index, static_cast<int64_t>(limit + 1));
  JobPage page;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    if (page.jobs.size() == limit) {
      page.truncated = true;
      break;
    }
    TY_ASSIGN_OR_RETURN(JobRecord job, ReadJob(query));
    page.jobs.push_back(std::move(job));
  }
  return page;
}

Result<std::vector<Event>> SqliteMetadataStore::WriteJobState(const JobRecord& job,
                                                              const std::vector<Event>& events) {
  TimePoint now = std::chrono::system_clock::now();
  TY_ASSIGN_OR_RETURN(
      Statement update,
      db_->Prepare("UPDATE jobs SET queued = ?, executor_job_name = ?, attempt = ?, status = ?, "
                   "secondary_status = ?, transitions = ?, failure_reason = ?, exit_code = ?, "
                   "token_sha256 = ?, started_at_ms = ?, ended_at_ms = ?, updated_at_ms = ?, "
                   "stop_reason = ?, image = ?, image_digest = ?, "
                   // A new token is a new run of the job, whose sequence starts again.
                   "progress_sequence = CASE WHEN token_sha256 = ? THEN progress_sequence "
                   "ELSE 0 END WHERE name = ?"));
  std::optional<int64_t> started, ended;
  if (job.started_at) started = ToMillis(*job.started_at);
  if (job.ended_at) ended = ToMillis(*job.ended_at);
  update.BindAll(int64_t{job.queued}, job.executor_job_name, job.attempt,
                 core::ToString(job.status), core::ToString(job.secondary_status),
                 DumpJson(core::TransitionsToJson(job.transitions)), job.failure_reason,
                 job.exit_code, job.token_sha256, started, ended, ToMillis(now), job.stop_reason,
                 job.image, job.image_digest, job.token_sha256, job.name);
  TY_RETURN_IF_ERROR(update.Run());
  if (sqlite3_changes(db_->raw()) == 0) return JobNotFound(job.name);
  std::vector<Event> appended;
  appended.reserve(events.size());
  for (const Event& event : events) {
    TY_ASSIGN_OR_RETURN(Event stored, AppendEvent(event, now));
    appended.push_back(std::move(stored));
  }
  return appended;
}

Result<std::vector<Event>> SqliteMetadataStore::UpdateJobState(const JobRecord& job,
                                                               const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(std::vector<Event> appended, WriteJobState(job, events));
  TY_RETURN_IF_ERROR(transaction.Commit());
  return appended;
}

Result<ClaimResult> SqliteMetadataStore::ClaimJob(const JobRecord& job,
                                                  const std::vector<Event>& events,
                                                  const ClaimLimits& limits) {
  std::lock_guard lock(mu_);
  // One writer at a time (BEGIN IMMEDIATE, across processes too): the checks and the write
  // below cannot interleave with another claim.
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare("SELECT queued FROM jobs WHERE name = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(job.name).Step());
  if (!row) return JobNotFound(job.name);
  ClaimResult result;
  if (query.Int(0) == 0) return result;  // taken already
  if (limits.max_running > 0 || limits.executor_limit > 0 || limits.sweep_limit > 0) {
    TY_ASSIGN_OR_RETURN(
        Statement running_query,
        db_->Prepare(std::string("SELECT name, executor, sweep_id FROM jobs WHERE ") +
                     kCountedRunningCondition));
    std::vector<RunningJob> running;
    while (true) {
      TY_ASSIGN_OR_RETURN(bool more, running_query.Step());
      if (!more) break;
      running.push_back({running_query.Text(0), running_query.Text(1), running_query.Text(2)});
    }
    if (auto reached = ReachedLimit(running, job, limits)) {
      result.outcome = *reached;
      return result;
    }
  }
  TY_ASSIGN_OR_RETURN(result.events, WriteJobState(job, events));
  TY_ASSIGN_OR_RETURN(Statement lease,
                      db_->Prepare("UPDATE jobs SET owner = ?, lease_expires_at_ms = ?, "
                                   "launched_attempt = NULL WHERE name = ?"));
  std::optional<int64_t> expires;
  if (job.lease_expires_at) expires = ToMillis(*job.lease_expires_at);
  TY_RETURN_IF_ERROR(lease.BindAll(job.owner, expires, job.name).Run());
  TY_RETURN_IF_ERROR(transaction.Commit());
  result.outcome = ClaimResult::Outcome::kClaimed;
  return result;
}

Result<std::vector<std::string>> SqliteMetadataStore::RenewLeases(const std::string& owner,
                                                                  TimePoint expires_at) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement update,
                      db_->Prepare(std::string("UPDATE jobs SET lease_expires_at_ms = ? WHERE "
                                               "owner = ? AND ") +
                                   kRunningCondition + " RETURNING name"));
  update.BindAll(ToMillis(expires_at), owner);
  std::vector<std::string> names;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, update.Step());
    if (!row) break;
    names.push_back(update.Text(0));
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<JobRecord>> SqliteMetadataStore::TakeOverJobs(const std::string& owner,
                                                                 TimePoint now,
                                                                 TimePoint expires_at,
                                                                 size_t limit) {
  if (limit == 0) limit = kDefaultJobPageSize;
  std::lock_guard lock(mu_);
  // The one writer: no other caller takes the same jobs between this read and the write.
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE " + kRunningCondition +
                   " AND owner <> ? AND COALESCE(lease_expires_at_ms, 0) < ? "
                   "ORDER BY queue_position LIMIT ?"));
  query.BindAll(owner, ToMillis(now), static_cast<int64_t>(limit));
  std::vector<JobRecord> taken;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(JobRecord job, ReadJob(query));
    taken.push_back(std::move(job));
  }
  for (JobRecord& job : taken) {
    TY_ASSIGN_OR_RETURN(Statement update,
                        db_->Prepare("UPDATE jobs SET owner = ?, lease_expires_at_ms = ? "
                                     "WHERE name = ?"));
    TY_RETURN_IF_ERROR(update.BindAll(owner, ToMillis(expires_at), job.name).Run());
    job.owner = owner;
    job.lease_expires_at = expires_at;
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return taken;
}

Result<bool> SqliteMetadataStore::RecordLaunch(const std::string& job_name,
                                               const std::string& owner, int attempt) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(
      Statement update,
      db_->Prepare(std::string("UPDATE jobs SET launched_attempt = ? WHERE name = ? "
                               "AND owner = ? AND attempt = ? AND ") +
                   kRunningCondition));
  TY_RETURN_IF_ERROR(update.BindAll(attempt, job_name, owner, attempt).Run());
  const bool recorded = sqlite3_changes(db_->raw()) == 1;
  if (!recorded) {
    TY_ASSIGN_OR_RETURN(Statement exists, db_->Prepare("SELECT 1 FROM jobs WHERE name = ?"));
    TY_ASSIGN_OR_RETURN(bool found, exists.BindAll(job_name).Step());
    if (!found) return JobNotFound(job_name);
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return recorded;
}

Result<ProgressRecorded> SqliteMetadataStore::RecordProgress(const std::string& job_name,
                                                             const ProgressUpdate& update) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TimePoint now = std::chrono::system_clock::now();
  ProgressRecorded recorded;
  std::string sweep_id;
  std::optional<std::string> metrics_text;
  // Only the metric points within the cap on names; the rest of the update as update.
  std::vector<MetricPoint> kept_metrics;
  const std::vector<MetricPoint>* stored_points = &update.metrics;
  {
    TY_ASSIGN_OR_RETURN(
        Statement query,
        db_->Prepare("SELECT sweep_id, metrics, progress_sequence FROM jobs WHERE name = ?"));
    TY_ASSIGN_OR_RETURN(bool row, query.BindAll(job_name).Step());
    if (!row) return JobNotFound(job_name);
    sweep_id = query.Text(0);
    if (update.sequence != 0 &&
        update.sequence <= static_cast<uint64_t>(std::max<int64_t>(query.Int(2), 0))) {
      recorded.repeated = true;
      return recorded;  // the transaction rolls back: nothing was written
    }
    // The latest-value map is only rewritten when there are new points.
    if (!update.metrics.empty()) {
      TY_ASSIGN_OR_RETURN(auto latest,
                          ParseMetricMap(query.Text(1), "job '" + job_name + "' metrics"));
      kept_metrics = MergeMetricPoints(update.metrics, update.max_metric_names, latest,
                                       recorded.dropped_metric_points);
      stored_points = &kept_metrics;
      if (!stored_points->empty()) metrics_text = DumpMetricMap(latest);
    }
  }
  std::optional<std::string> progress_text;
  if (update.progress) progress_text = DumpJson(*update.progress);
  TY_ASSIGN_OR_RETURN(Statement write,
                      db_->Prepare("UPDATE jobs SET progress = COALESCE(?, progress), "
                                   "metrics = COALESCE(?, metrics), updated_at_ms = ?, "
                                   "progress_sequence = MAX(progress_sequence, ?) "
                                   "WHERE name = ?"));
  // SQLite's integers are signed: a sequence beyond int64's range is stored as its maximum.
  auto sequence = static_cast<int64_t>(
      std::min<uint64_t>(update.sequence, std::numeric_limits<int64_t>::max()));
  TY_RETURN_IF_ERROR(
      write.BindAll(progress_text, metrics_text, ToMillis(now), sequence, job_name).Run());

  if (!(*stored_points).empty()) {
    TY_ASSIGN_OR_RETURN(int64_t seq, LastSequence("SELECT COALESCE(MAX(seq), 0) FROM "
                                                  "metric_points WHERE job_name = ?",
                                                  job_name));
    for (const MetricPoint& point : (*stored_points)) {
      TY_ASSIGN_OR_RETURN(Statement insert,
                          db_->Prepare("INSERT INTO metric_points (job_name, seq, name, value, "
                                       "step, timestamp_ms) VALUES (?, ?, ?, ?, ?, ?)"));
      insert.BindAll(job_name, ++seq, point.name, point.value, point.step,
                     ToMillis(point.timestamp));
      TY_RETURN_IF_ERROR(insert.Run());
    }
  }
  if (!update.log.empty()) {
    TY_ASSIGN_OR_RETURN(
        int64_t id,
        LastSequence("SELECT COALESCE(MAX(id), 0) FROM log_lines WHERE job_name = ?", job_name));
    for (const LogLine& line : update.log) {
      TY_ASSIGN_OR_RETURN(Statement insert,
                          db_->Prepare("INSERT INTO log_lines (job_name, id, stream, line, "
                                       "timestamp_ms) VALUES (?, ?, ?, ?, ?)"));
      insert.BindAll(job_name, ++id, line.stream, line.line, ToMillis(line.timestamp));
      TY_RETURN_IF_ERROR(insert.Run());
    }
  }

  std::vector<Event>& appended = recorded.events;
  if (update.progress) {
    Event progress{.type = "job.progress",
                   .sweep_id = sweep_id,
                   .job_name = job_name,
                   .data = *update.progress};
    TY_ASSIGN_OR_RETURN(Event stored, AppendEvent(std::move(progress), now));
    appended.push_back(std::move(stored));
  }
  if (!(*stored_points).empty()) {
    json points = json::array();
    for (const MetricPoint& point : (*stored_points)) points.push_back(MetricPointJson(point));
    Event metrics{.type = "job.metrics",
                  .sweep_id = sweep_id,
                  .job_name = job_name,
                  .data = {{"metrics", std::move(points)}}};
    TY_ASSIGN_OR_RETURN(Event stored, AppendEvent(std::move(metrics), now));
    appended.push_back(std::move(stored));
  }
  TY_RETURN_IF_ERROR(transaction.Commit());
  return recorded;
}

Result<std::vector<MetricPoint>> SqliteMetadataStore::ListMetricPoints(
    const std::string& job_name, const std::string& metric_name) {
  std::string sql = "SELECT name, value, step, timestamp_ms FROM metric_points WHERE job_name = ?";
  if (!metric_name.empty()) sql += " AND name = ?";
  sql += " ORDER BY seq";

  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM jobs WHERE name = ?", job_name));
  if (!exists) return JobNotFound(job_name);
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(sql));
  query.Bind(1, job_name);
  if (!metric_name.empty()) query.Bind(2, metric_name);
  std::vector<MetricPoint> points;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    points.push_back(MetricPoint{.name = query.Text(0),
                                 .value = ReadMetricValue(query, 1),
                                 .step = query.OptionalInt(2),
                                 .timestamp = FromMillis(query.Int(3))});
  }
  return points;
}

Result<std::vector<LogLine>> SqliteMetadataStore::ListLogLines(const std::string& job_name,
                                                               int64_t after_id, size_t limit) {
  if (limit == 0) limit = kDefaultListLimit;
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM jobs WHERE name = ?", job_name));
  if (!exists) return JobNotFound(job_name);
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare("SELECT id, stream, line, timestamp_ms FROM log_lines "
                                   "WHERE job_name = ? AND id > ? ORDER BY id LIMIT ?"));
  query.BindAll(job_name, after_id, static_cast<int64_t>(limit));
  std::vector<LogLine> lines;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    lines.push_back(LogLine{.id = query.Int(0),
                            .stream = query.Text(1),
                            .line = query.Text(2),
                            .timestamp = FromMillis(query.Int(3))});
  }
  return lines;
}

}  // namespace trainyard::metadata
