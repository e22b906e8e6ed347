// PostgresMetadataStore: jobs, their metric points and log lines.
#include <algorithm>
#include <limits>
#include <utility>

#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"

namespace trainyard::metadata {
namespace {

using nlohmann::json;

Status JobNotFound(const std::string& name) {
  return NotFound("job '" + name + "' not found");
}

// Any number, the same in every trainyard: the advisory lock that makes counting claims take
// turns (ClaimJob with limits).
constexpr char kClaimLock[] = "SELECT pg_advisory_xact_lock(7419020119)";

std::optional<int64_t> OptionalMillis(const std::optional<TimePoint>& time) {
  if (!time) return std::nullopt;
  return ToMillis(*time);
}

std::optional<int64_t> OptionalInt(const std::optional<int>& value) {
  if (!value) return std::nullopt;
  return static_cast<int64_t>(*value);
}

// "$first, $first+1, ..., $first+count-1": the placeholders of one row of a multi-row INSERT.
std::string Placeholders(int first, int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    if (i > 0) text += ", ";
    text += "$" + std::to_string(first + i);
  }
  return text;
}

// Inserts one row per item, each ($1 = job_name, then `per_row` values that `add` appends), in
// statements of up to 1,000 rows: one round trip for a whole progress callback, within
// PostgreSQL's 65,535 parameters per statement.
template <typename Item, typename AddRow>
Status InsertRows(PgConnection& connection, const std::string& insert_values,
                  const std::string& job_name, int per_row, const std::vector<Item>& items,
                  AddRow add) {
  constexpr size_t kRowsPerStatement = 1000;
  for (size_t begin = 0; begin < items.size(); begin += kRowsPerStatement) {
    size_t end = std::min(items.size(), begin + kRowsPerStatement);
    std::string sql = insert_values;
    PgParams params;
    params.Add(job_name);
    int next = 2;
    for (size_t i = begin; i < end; ++i) {
      if (i > begin) sql += ", ";
      sql += "($1, " + Placeholders(next, per_row) + ")";
      next += per_row;
      add(items[i], params);
    }
    TY_RETURN_IF_ERROR(connection.Exec(sql, params).status());
  }
  return Status::Ok();
}

}  // namespace

Status PostgresMetadataStore::InsertJob(PgConnection& connection, const JobRecord& job,
                                        const std::string& sweep_id, int64_t queue_position,
                                        int64_t now_ms) {
  return connection
      .Exec(std::string("INSERT INTO jobs (") + kJobColumns + ") VALUES (" + Placeholders(1, 27) +
                ")",
            PgParams::Of(
                job.name, sweep_id, queue_position, job.index, job.executor,
                DumpStringMap(job.hyperparameters), int64_t{job.queued}, job.executor_job_name,
                job.attempt, core::ToString(job.status), core::ToString(job.secondary_status),
                DumpJson(core::TransitionsToJson(job.transitions)), job.failure_reason,
                OptionalInt(job.exit_code), job.token_sha256, OptionalMillis(job.started_at),
                OptionalMillis(job.ended_at), DumpJson(job.progress), DumpMetricMap(job.metrics),
                ToMillis(job.created_at), now_ms, job.stop_reason, job.owner,
                OptionalMillis(job.lease_expires_at), job.image, job.image_digest,
                OptionalInt(job.launched_attempt)))
      .status();
}

Result<JobRecord> PostgresMetadataStore::GetJob(const std::string& name) {
  return Transact(Access::kRead, "GetJob", [&](PgConnection& connection) -> Result<JobRecord> {
    TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(std::string("SELECT ") + kJobColumns +
                                                           " FROM jobs WHERE name = $1",
                                                       PgParams::Of(name)));
    if (rows.Rows() == 0) return JobNotFound(name);
    return ReadJob(rows.Row(0));
  });
}

Result<JobPage> PostgresMetadataStore::ListJobs(const JobFilter& filter) {
  size_t limit = filter.limit == 0 ? kDefaultJobPageSize : filter.limit;
  PgParams params;
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE queue_position > $1";
  params.Add(filter.after_queue_position);
  if (!filter.sweep_id.empty()) {
    params.Add(filter.sweep_id);
    sql += " AND sweep_id = $" + std::to_string(params.values().size());
  }
  if (filter.status == "Queued") {
    sql += " AND queued = 1";
  } else if (!filter.status.empty()) {
    params.Add(filter.status);
    sql += " AND queued = 0 AND status = $" + std::to_string(params.values().size());
  }
  // One more than asked for tells whether the page is truncated.
  params.Add(static_cast<int64_t>(limit + 1));
  sql += " ORDER BY queue_position LIMIT $" + std::to_string(params.values().size());

  return Transact(Access::kRead, "ListJobs", [&](PgConnection& connection) -> Result<JobPage> {
    TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(sql, params));
    JobPage page;
    for (int i = 0; i < rows.Rows(); ++i) {
      if (page.jobs.size() == limit) {
        page.truncated = true;
        break;
      }
      TY_ASSIGN_OR_RETURN(JobRecord job, ReadJob(rows.Row(i)));
      page.jobs.push_back(std::move(job));
    }
    return page;
  });
}

Result<std::vector<Event>> PostgresMetadataStore::WriteJobState(PgConnection& connection,
                                                                const JobRecord& job,
                                                                const std::vector<Event>& events) {
  TimePoint now = std::chrono::system_clock::now();
  TY_ASSIGN_OR_RETURN(
      PgResult updated,
      connection.Exec(
          "UPDATE jobs SET queued = $1, executor_job_name = $2, attempt = $3, status = $4, "
          "secondary_status = $5, transitions = $6, failure_reason = $7, exit_code = $8, "
          "token_sha256 = $9, started_at_ms = $10, ended_at_ms = $11, updated_at_ms = $12, "
          "stop_reason = $14, image = $15, image_digest = $16, "
          // A new token is a new run of the job, whose sequence starts again.
          "progress_sequence = CASE WHEN token_sha256 = $9 THEN progress_sequence ELSE 0 END "
          "WHERE name = $13",
          PgParams::Of(int64_t{job.queued}, job.executor_job_name, job.attempt,
                       core::ToString(job.status), core::ToString(job.secondary_status),
                       DumpJson(core::TransitionsToJson(job.transitions)), job.failure_reason,
                       OptionalInt(job.exit_code), job.token_sha256, OptionalMillis(job.started_at),
                       OptionalMillis(job.ended_at), ToMillis(now), job.name, job.stop_reason,
                       job.image, job.image_digest)));
  if (updated.Changed() == 0) return JobNotFound(job.name);
  return AppendEvents(connection, events, now);
}

Result<std::vector<Event>> PostgresMetadataStore::UpdateJobState(const JobRecord& job,
                                                                 const std::vector<Event>& events) {
  return Transact(Access::kWrite, "UpdateJobState",
                  [&](PgConnection& connection) { return WriteJobState(connection, job, events); });
}

Result<ClaimResult> PostgresMetadataStore::ClaimJob(const JobRecord& job,
                                                    const std::vector<Event>& events,
                                                    const ClaimLimits& limits) {
  return Transact(Access::kWrite, "ClaimJob", [&](PgConnection& connection) -> Result<ClaimResult> {
    ClaimResult result;
    // SKIP LOCKED: a job another server is claiming right now is passed over at once rather
    // than waited for; the lock taken here holds until this claim commits. The queued check is
    // made on the newest committed row, so a job claimed meanwhile is not taken twice.
    TY_ASSIGN_OR_RETURN(PgResult locked,
                        connection.Exec("SELECT 1 FROM jobs WHERE name = $1 AND queued = 1 "
                                        "FOR UPDATE SKIP LOCKED",
                                        PgParams::Of(job.name)));
    if (locked.Rows() == 0) {
      TY_ASSIGN_OR_RETURN(bool exists,
                          Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job.name));
      if (!exists) return JobNotFound(job.name);
      return result;
    }
    if (limits.max_running > 0 || limits.executor_limit > 0 || limits.sweep_limit > 0) {
      // Claims that count take turns (a transaction-scoped advisory lock, held to the commit):
      // each counts the running jobs with the claims before it committed, so that two servers
      // never both take the last free slot. READ COMMITTED: the count below is a snapshot taken
      // after the lock.
      TY_RETURN_IF_ERROR(connection.Exec(kClaimLock).status());
      TY_ASSIGN_OR_RETURN(PgResult rows,
                          connection.Exec(std::string("SELECT name, executor, sweep_id FROM jobs "
                                                      "WHERE ") +
                                          kCountedRunningCondition));
      std::vector<RunningJob> running;
      running.reserve(static_cast<size_t>(rows.Rows()));
      for (int i = 0; i < rows.Rows(); ++i) {
        PgRow row = rows.Row(i);
        running.push_back({row.Text(0), row.Text(1), row.Text(2)});
      }
      if (auto reached = ReachedLimit(running, job, limits)) {
        result.outcome = *reached;
        return result;
      }
    }
    TY_ASSIGN_OR_RETURN(result.events, WriteJobState(connection, job, events));
    TY_RETURN_IF_ERROR(
        connection
            .Exec("UPDATE jobs SET owner = $1, lease_expires_at_ms = $2, "
                  "launched_attempt = NULL WHERE name = $3",
                  PgParams::Of(job.owner, OptionalMillis(job.lease_expires_at), job.name))
            .status());
    result.outcome = ClaimResult::Outcome::kClaimed;
    return result;
  });
}

Result<std::vector<std::string>> PostgresMetadataStore::RenewLeases(const std::string& owner,
                                                                    TimePoint expires_at) {
  return Transact(Access::kWrite, "RenewLeases",
                  [&](PgConnection& connection) -> Result<std::vector<std::string>> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows,
                        connection.Exec(std::string("UPDATE jobs SET lease_expires_at_ms = $1 "
                                                    "WHERE owner = $2 AND ") +
                                            kRunningCondition + " RETURNING name",
                                        PgParams::Of(ToMillis(expires_at), owner)));
                    std::vector<std::string> names;
                    for (int i = 0; i < rows.Rows(); ++i) names.push_back(rows.Row(i).Text(0));
                    std::sort(names.begin(), names.end());
                    return names;
                  });
}

Result<std::vector<JobRecord>> PostgresMetadataStore::TakeOverJobs(const std::string& owner,
                                                                   TimePoint now,
                                                                   TimePoint expires_at,
                                                                   size_t limit) {
  if (limit == 0) limit = kDefaultJobPageSize;
  return Transact(
      Access::kWrite, "TakeOverJobs",
      [&](PgConnection& connection) -> Result<std::vector<JobRecord>> {
        // SKIP LOCKED: rows another server is taking over (or claiming, renewing) right now are
        // left to it; the lock re-checks the condition on the newest row, so a lease renewed
        // meanwhile is not taken.
        TY_ASSIGN_OR_RETURN(
            PgResult rows,
            connection.Exec(
                std::string("UPDATE jobs SET owner = $1, lease_expires_at_ms = $2 WHERE name IN "
                            "(SELECT name FROM jobs WHERE ") +
                    kRunningCondition +
                    " AND owner <> $1 AND COALESCE(lease_expires_at_ms, 0) < $3 "
                    "ORDER BY queue_position LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " +
                    kJobColumns,
                PgParams::Of(owner, ToMillis(expires_at), ToMillis(now),
                             static_cast<int64_t>(limit))));
        std::vector<JobRecord> taken;
        for (int i = 0; i < rows.Rows(); ++i) {
          TY_ASSIGN_OR_RETURN(JobRecord job, ReadJob(rows.Row(i)));
          taken.push_back(std::move(job));
        }
        std::sort(taken.begin(), taken.end(), [](const JobRecord& a, const JobRecord& b) {
          return a.queue_position < b.queue_position;
        });
        return taken;
      });
}

Result<bool> PostgresMetadataStore::RecordLaunch(const std::string& job_name,
                                                 const std::string& owner, int attempt) {
  return Transact(Access::kWrite, "RecordLaunch", [&](PgConnection& connection) -> Result<bool> {
    // A takeover of the same row waits for this update, or this one for it, and then reads the
    // row as the other left it: of the two, exactly one finds the job as it expected.
    TY_ASSIGN_OR_RETURN(
        PgResult rows,
        connection.Exec(std::string("UPDATE jobs SET launched_attempt = $1 WHERE name = $2 AND "
                                    "owner = $3 AND attempt = $1 AND ") +
                            kRunningCondition + " RETURNING name",
                        PgParams::Of(static_cast<int64_t>(attempt), job_name, owner)));
    if (rows.Rows() == 1) return true;
    TY_ASSIGN_OR_RETURN(bool exists,
                        Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job_name));
    if (!exists) return JobNotFound(job_name);
    return false;
  });
}

Result<ProgressRecorded> PostgresMetadataStore::RecordProgress(const std::string& job_name,
                                                               const ProgressUpdate& update) {
  return Transact(
      Access::kWrite, "RecordProgress", [&](PgConnection& connection) -> Result<ProgressRecorded> {
        TimePoint now = std::chrono::system_clock::now();
        ProgressRecorded recorded;
        // The job's row is locked until the end: concurrent updates of one job take turns, so its
        // metric points and log lines are numbered once each.
        TY_ASSIGN_OR_RETURN(PgResult job,
                            connection.Exec("SELECT sweep_id, metrics, progress_sequence FROM jobs "
                                            "WHERE name = $1 FOR UPDATE",
                                            PgParams::Of(job_name)));
        if (job.Rows() == 0) return JobNotFound(job_name);
        std::string sweep_id = job.Row(0).Text(0);
        if (update.sequence != 0 &&
            update.sequence <= static_cast<uint64_t>(std::max<int64_t>(job.Row(0).Int(2), 0))) {
          recorded.repeated = true;
          return recorded;  // nothing was written
        }
        std::optional<std::string> metrics_text;
        std::vector<MetricPoint> kept_metrics;
        const std::vector<MetricPoint>* stored_points = &update.metrics;
        if (!update.metrics.empty()) {
          TY_ASSIGN_OR_RETURN(auto latest,
                              ParseMetricMap(job.Row(0).Text(1), "job '" + job_name + "' metrics"));
          kept_metrics = MergeMetricPoints(update.metrics, update.max_metric_names, latest,
                                           recorded.dropped_metric_points);
          stored_points = &kept_metrics;
          if (!stored_points->empty()) metrics_text = DumpMetricMap(latest);
        }
        std::optional<std::string> progress_text;
        if (update.progress) progress_text = DumpJson(*update.progress);
        // BIGINT is signed: a sequence beyond int64's range is stored as its maximum.
        auto sequence = static_cast<int64_t>(
            std::min<uint64_t>(update.sequence, std::numeric_limits<int64_t>::max()));
        TY_RETURN_IF_ERROR(
            connection
                .Exec("UPDATE jobs SET progress = COALESCE($1, progress), "
                      "metrics = COALESCE($2, metrics), updated_at_ms = $3, "
                      "progress_sequence = GREATEST(progress_sequence, $4) "
                      "WHERE name = $5",
                      PgParams::Of(progress_text, metrics_text, ToMillis(now), sequence, job_name))
                .status());

        if (!stored_points->empty()) {
          TY_ASSIGN_OR_RETURN(PgResult last,
                              connection.Exec("SELECT COALESCE(MAX(seq), 0) FROM metric_points "
                                              "WHERE job_name = $1",
                                              PgParams::Of(job_name)));
          int64_t seq = last.Row(0).Int(0);
          TY_RETURN_IF_ERROR(InsertRows(
              connection,
              "INSERT INTO metric_points (job_name, seq, name, value, step, timestamp_ms) VALUES ",
              job_name, 5, *stored_points, [&](const MetricPoint& point, PgParams& params) {
                params.Add(++seq)
                    .Add(point.name)
                    .Add(point.value)
                    .Add(point.step)
                    .Add(ToMillis(point.timestamp));
              }));
        }
        if (!update.log.empty()) {
          TY_ASSIGN_OR_RETURN(PgResult last,
                              connection.Exec("SELECT COALESCE(MAX(id), 0) FROM log_lines "
                                              "WHERE job_name = $1",
                                              PgParams::Of(job_name)));
          int64_t id = last.Row(0).Int(0);
          TY_RETURN_IF_ERROR(InsertRows(
              connection,
              "INSERT INTO log_lines (job_name, id, stream, line, timestamp_ms) VALUES ", job_name,
              4, update.log, [&](const LogLine& line, PgParams& params) {
                params.Add(++id).Add(line.stream).Add(line.line).Add(ToMillis(line.timestamp));
              }));
        }

        std::vector<Event> events;
        if (update.progress) {
          events.push_back(Event{.type = "job.progress",
                                 .sweep_id = sweep_id,
                                 .job_name = job_name,
                                 .data = *update.progress});
        }
        if (!stored_points->empty()) {
          json points = json::array();
          for (const MetricPoint& point : *stored_points) points.push_back(MetricPointJson(point));
          events.push_back(Event{.type = "job.metrics",
                                 .sweep_id = sweep_id,
                                 .job_name = job_name,
                                 .data = {{"metrics", std::move(points)}}});
        }
        TY_ASSIGN_OR_RETURN(recorded.events, AppendEvents(connection, std::move(events), now));
        return recorded;
      });
}

Result<std::vector<MetricPoint>> PostgresMetadataStore::ListMetricPoints(
    const std::string& job_name, const std::string& metric_name) {
  std::string sql = "SELECT name, value, step, timestamp_ms FROM metric_points WHERE job_name = $1";
  if (!metric_name.empty()) sql += " AND name = $2";
  sql += " ORDER BY seq";
  PgParams params = PgParams::Of(job_name);
  if (!metric_name.empty()) params.Add(metric_name);
  return Transact(Access::kRead, "ListMetricPoints",
                  [&](PgConnection& connection) -> Result<std::vector<MetricPoint>> {
                    TY_ASSIGN_OR_RETURN(
                        bool exists,
                        Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job_name));
                    if (!exists) return JobNotFound(job_name);
                    TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(sql, params));
                    std::vector<MetricPoint> points;
                    points.reserve(static_cast<size_t>(rows.Rows()));
                    for (int i = 0; i < rows.Rows(); ++i) {
                      PgRow row = rows.Row(i);
                      points.push_back(MetricPoint{.name = row.Text(0),
                                                   .value = ReadMetricValue(row, 1),
                                                   .step = row.OptionalInt(2),
                                                   .timestamp = FromMillis(row.Int(3))});
                    }
                    return points;
                  });
}

Result<std::vector<LogLine>> PostgresMetadataStore::ListLogLines(const std::string& job_name,
                                                                 int64_t after_id, size_t limit) {
  if (limit == 0) limit = kDefaultListLimit;
  return Transact(
      Access::kRead, "ListLogLines", [&](PgConnection& connection) -> Result<std::vector<LogLine>> {
        TY_ASSIGN_OR_RETURN(bool exists,
                            Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job_name));
        if (!exists) return JobNotFound(job_name);
        TY_ASSIGN_OR_RETURN(
            PgResult rows,
            connection.Exec("SELECT id, stream, line, timestamp_ms FROM log_lines "
                            "WHERE job_name = $1 AND id > $2 ORDER BY id LIMIT $3",
                            PgParams::Of(job_name, after_id, static_cast<int64_t>(limit))));
        std::vector<LogLine> lines;
        lines.reserve(static_cast<size_t>(rows.Rows()));
        for (int i = 0; i < rows.Rows(); ++i) {
          PgRow row = rows.Row(i);
          lines.push_back(LogLine{.id = row.Int(0),
                                  .stream = row.Text(1),
                                  .line = row.Text(2),
                                  .timestamp = FromMillis(row.Int(3))});
        }
        return lines;
      });
}

}  // namespace trainyard::metadata
