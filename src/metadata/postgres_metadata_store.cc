// PostgresMetadataStore: the URL, opening, transactions and retries, datasets and sweeps. Jobs
// are in postgres_job_methods.cc, events in postgres_event_methods.cc, webhooks in
// postgres_webhook_methods.cc.
#include "metadata/postgres_metadata_store.h"

#include <algorithm>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "common/log.h"
#include "metadata/postgres_schema.h"
#include "metadata/record_rows.h"

namespace trainyard::metadata {
namespace {

constexpr std::string_view kPoolSizeSetting = "pool_size";

// The URL with the password of its authority (user:password@) and of a password= setting
// replaced by ****.
std::string MaskPassword(const std::string& url) {
  std::string shown = url;
  size_t scheme = shown.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = shown.find_first_of("/?", start);
    size_t at = shown.rfind('@', end == std::string::npos ? shown.size() : end);
    if (at != std::string::npos && at > start) {
      size_t colon = shown.find(':', start);
      if (colon != std::string::npos && colon < at)
        shown.replace(colon + 1, at - colon - 1, "****");
    }
  }
  for (size_t at = shown.find("password="); at != std::string::npos;
       at = shown.find("password=", at + 1)) {
    if (at > 0 && shown[at - 1] != '?' && shown[at - 1] != '&' && shown[at - 1] != ' ') continue;
    size_t value = at + 9;
    size_t end = shown.find_first_of("& ", value);
    shown.replace(value, (end == std::string::npos ? shown.size() : end) - value, "****");
  }
  return shown;
}

Status DatasetNotFound(const std::string& id) {
  return NotFound("dataset '" + id + "' not found");
}
Status SweepNotFound(const std::string& id) {
  return NotFound("sweep '" + id + "' not found");
}

}  // namespace

Result<PostgresUrl> ParsePostgresUrl(const std::string& url) {
  PostgresUrl parsed;
  parsed.shown_as = MaskPassword(url);
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    return InvalidArgument("metadata store URL '" + parsed.shown_as +
                           "' is not a PostgreSQL URL (postgresql://host/database)");
  }
  // trainyard's own settings are taken out of the query; the rest goes to libpq as given.
  size_t query = url.find('?');
  parsed.conninfo = url.substr(0, query);
  if (query != std::string::npos) {
    std::string kept;
    size_t start = query + 1;
    while (start <= url.size()) {
      size_t end = url.find('&', start);
      if (end == std::string::npos) end = url.size();
      std::string setting = url.substr(start, end - start);
      if (setting.starts_with(std::string(kPoolSizeSetting) + "=")) {
        std::string value = setting.substr(kPoolSizeSetting.size() + 1);
        char* rest = nullptr;
        long long size = std::strtoll(value.c_str(), &rest, 10);
        if (value.empty() || *rest != '\0' || size < 1 || size > 1000) {
          return InvalidArgument("metadata store URL '" + parsed.shown_as + "': pool_size '" +
                                 value + "' is not a whole number from 1 to 1000");
        }
        parsed.pool_size = static_cast<size_t>(size);
      } else if (!setting.empty()) {
        kept += (kept.empty() ? "?" : "&") + setting;
      }
      start = end + 1;
    }
    parsed.conninfo += kept;
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(parsed.conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return InvalidArgument("metadata store URL '" + parsed.shown_as + "': " + reason);
  }
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr) {
      parsed.password = option->val;
    }
  }
  PQconninfoFree(options);
  return parsed;
}

PostgresMetadataStore::PostgresMetadataStore(const PostgresMetadataStoreOptions& options,
                                             const PostgresUrl& url)
    : options_(options),
      shown_as_(url.shown_as),
      pool_(url.conninfo, url.shown_as, url.pool_size.value_or(options.max_connections),
            options.acquire_timeout, options.schema) {}

Result<std::unique_ptr<PostgresMetadataStore>> PostgresMetadataStore::Open(
    const PostgresMetadataStoreOptions& options) {
  TY_ASSIGN_OR_RETURN(PostgresUrl url, ParsePostgresUrl(options.url));
  if (!options.schema.empty()) TY_RETURN_IF_ERROR(CheckPostgresSchemaName(options.schema));
  std::unique_ptr<PostgresMetadataStore> store(new PostgresMetadataStore(options, url));
  std::string context = "metadata database " + url.shown_as;
  if (!options.schema.empty()) context += " schema " + options.schema;
  Status migrated = store->Transact(Access::kWrite, "Open", [&options](PgConnection& connection) {
    return MigratePostgresSchema(connection, options.schema);
  });
  if (!migrated.ok()) return migrated.WithContext(context);
  Logger("metadata")
      .info("opened PostgreSQL metadata store url={} schema={} schema_version={}", url.shown_as,
            options.schema.empty() ? "(default)" : options.schema, LatestPostgresSchemaVersion());
  return store;
}

// --- transactions ---

Status PostgresMetadataStore::Begin(PgConnection& connection, Access access) {
  return connection
      .Exec(access == Access::kRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                                    : "BEGIN ISOLATION LEVEL READ COMMITTED")
      .status();
}

Status PostgresMetadataStore::Commit(PgConnection& connection, bool* may_retry) {
  Status committed = connection.Exec("COMMIT").status();
  if (committed.ok()) return committed;
  if (connection.LastFailure() == PgConnection::Failure::kConnectionLost) {
    // The server may have committed before the connection went: trying again could apply the
    // call twice.
    *may_retry = false;
    return Unavailable(
        "PostgreSQL connection lost during COMMIT; the call may or may not have "
        "been applied: " +
        committed.message());
  }
  *may_retry = connection.LastFailure() == PgConnection::Failure::kRetryable;
  return committed;
}

void PostgresMetadataStore::Rollback(PgConnection& connection, const char* method) {
  if (connection.LastFailure() == PgConnection::Failure::kConnectionLost) return;
  // A connection that cannot roll back is left in its transaction; the pool then closes it.
  WarnIfFailed("metadata", connection.Exec("ROLLBACK").status(), "method={} url={} rollback failed",
               method, shown_as_);
}

void PostgresMetadataStore::PauseBeforeRetry(const char* method, int attempt,
                                             const Status& failure) {
  // 20 ms, 40 ms, ... up to 1 s, with jitter so that writers that collided do not collide again.
  static thread_local std::minstd_rand random(std::random_device{}());
  int64_t base = std::min<int64_t>(int64_t{20} << std::min(attempt - 2, 6), 1000);
  auto pause = std::chrono::milliseconds(base / 2 + random() % (base / 2 + 1));
  Logger("metadata")
      .warn("method={} url={} attempt={} retrying in {} ms after: {}", method, shown_as_, attempt,
            pause.count(), failure.message());
  std::this_thread::sleep_for(pause);
}

Result<bool> PostgresMetadataStore::Exists(PgConnection& connection, const std::string& sql,
                                           const std::string& key) {
  TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(sql, PgParams::Of(key)));
  return rows.Rows() > 0;
}

Result<int64_t> PostgresMetadataStore::TakeCounter(PgConnection& connection, const char* name,
                                                   int64_t count) {
  TY_ASSIGN_OR_RETURN(PgResult taken,
                      connection.Exec("UPDATE counters SET value = value + $1 WHERE name = $2 "
                                      "RETURNING value",
                                      PgParams::Of(count, name)));
  if (taken.Rows() != 1) return Internal(std::string("counter '") + name + "' is missing");
  return taken.Row(0).Int(0) - count + 1;
}

// --- datasets ---

Status PostgresMetadataStore::CreateDataset(const DatasetRecord& dataset) {
  return Transact(Access::kWrite, "CreateDataset", [&](PgConnection& connection) -> Status {
    TY_ASSIGN_OR_RETURN(
        PgResult inserted,
        connection.Exec(
            std::string("INSERT INTO datasets (") + kDatasetColumns +
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                "ON CONFLICT (id) DO NOTHING",
            PgParams::Of(dataset.id, dataset.name, dataset.kind, dataset.filename,
                         dataset.object_key, static_cast<int64_t>(dataset.size), dataset.sha256_hex,
                         dataset.content_type, ToMillis(dataset.created_at))));
    if (inserted.Changed() == 0)
      return AlreadyExists("dataset '" + dataset.id + "' already exists");
    return Status::Ok();
  });
}

Result<DatasetRecord> PostgresMetadataStore::GetDataset(const std::string& id) {
  return Transact(Access::kRead, "GetDataset",
                  [&](PgConnection& connection) -> Result<DatasetRecord> {
                    TY_ASSIGN_OR_RETURN(PgResult rows,
                                        connection.Exec(std::string("SELECT ") + kDatasetColumns +
                                                            " FROM datasets WHERE id = $1",
                                                        PgParams::Of(id)));
                    if (rows.Rows() == 0) return DatasetNotFound(id);
                    return ReadDataset(rows.Row(0));
                  });
}

Result<std::vector<DatasetRecord>> PostgresMetadataStore::ListDatasets() {
  return Transact(Access::kRead, "ListDatasets",
                  [&](PgConnection& connection) -> Result<std::vector<DatasetRecord>> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows,
                        connection.Exec(std::string("SELECT ") + kDatasetColumns +
                                        " FROM datasets ORDER BY created_at_ms DESC, seq DESC"));
                    std::vector<DatasetRecord> datasets;
                    for (int i = 0; i < rows.Rows(); ++i)
                      datasets.push_back(ReadDataset(rows.Row(i)));
                    return datasets;
                  });
}

Status PostgresMetadataStore::DeleteDataset(const std::string& id) {
  return Transact(Access::kWrite, "DeleteDataset", [&](PgConnection& connection) -> Status {
    // The row lock makes a CreateSweep that links this dataset (FOR KEY SHARE) wait, or wait
    // for it: the check below then sees its jobs, or it sees no dataset.
    TY_ASSIGN_OR_RETURN(bool exists,
                        Exists(connection, "SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE", id));
    if (!exists) return DatasetNotFound(id);
    TY_ASSIGN_OR_RETURN(PgResult busy,
                        connection.Exec("SELECT j.name, j.sweep_id FROM sweep_datasets AS d "
                                        "JOIN jobs AS j ON j.sweep_id = d.sweep_id "
                                        "WHERE d.dataset_id = $1 AND (j.queued = 1 OR j.status "
                                        "IN ('InProgress', 'Stopping')) "
                                        "ORDER BY j.queue_position LIMIT 1",
                                        PgParams::Of(id)));
    if (busy.Rows() > 0) {
      return FailedPrecondition("dataset '" + id + "' is used by job '" + busy.Row(0).Text(0) +
                                "' of sweep '" + busy.Row(0).Text(1) + "', which has not ended");
    }
    // The sweep_datasets links of ended sweeps go with it (ON DELETE CASCADE).
    return connection.Exec("DELETE FROM datasets WHERE id = $1", PgParams::Of(id)).status();
  });
}

// --- sweeps ---

Result<SweepRecord> PostgresMetadataStore::LoadSweep(PgConnection& connection,
                                                     const std::string& id) {
  TY_ASSIGN_OR_RETURN(PgResult rows, connection.Exec(std::string("SELECT ") + kSweepColumns +
                                                         " FROM sweeps WHERE id = $1",
                                                     PgParams::Of(id)));
  if (rows.Rows() == 0) return SweepNotFound(id);
  return ReadSweep(rows.Row(0));
}

Result<SweepRecord> PostgresMetadataStore::CreateSweep(const SweepRecord& sweep,
                                                       const std::vector<std::string>& dataset_ids,
                                                       const std::vector<JobRecord>& jobs) {
  return Transact(
      Access::kWrite, "CreateSweep", [&](PgConnection& connection) -> Result<SweepRecord> {
        if (sweep.idempotency_key) {
          // Two requests with one key wait for each other here; the second then finds the first's
          // sweep (READ COMMITTED: each statement sees what committed before it).
          TY_RETURN_IF_ERROR(connection
                                 .Exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                       PgParams::Of(*sweep.idempotency_key))
                                 .status());
          TY_ASSIGN_OR_RETURN(PgResult existing,
                              connection.Exec(std::string("SELECT ") + kSweepColumns +
                                                  " FROM sweeps WHERE idempotency_key = $1",
                                              PgParams::Of(*sweep.idempotency_key)));
          if (existing.Rows() > 0) return ReadSweep(existing.Row(0));  // a retried request
        }
        TY_ASSIGN_OR_RETURN(bool taken,
                            Exists(connection, "SELECT 1 FROM sweeps WHERE id = $1", sweep.id));
        if (taken) return AlreadyExists("sweep '" + sweep.id + "' already exists");
        for (const std::string& id : dataset_ids) {
          // KEY SHARE: a concurrent DeleteDataset waits until this sweep's links are in.
          TY_ASSIGN_OR_RETURN(
              bool exists,
              Exists(connection, "SELECT 1 FROM datasets WHERE id = $1 FOR KEY SHARE", id));
          if (!exists) return DatasetNotFound(id);
        }
        std::set<std::string> names;
        for (const JobRecord& job : jobs) {
          TY_ASSIGN_OR_RETURN(taken,
                              Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job.name));
          if (taken || !names.insert(job.name).second) {
            return AlreadyExists("job '" + job.name + "' already exists");
          }
        }

        TY_RETURN_IF_ERROR(
            connection
                .Exec(
                    std::string("INSERT INTO sweeps (") + kSweepColumns +
                        ") VALUES ($1, $2, $3, $4, $5, $6)",
                    PgParams::Of(sweep.id, sweep.name, DumpJson(sweep.spec), sweep.idempotency_key,
                                 int64_t{sweep.stop_requested}, ToMillis(sweep.created_at)))
                .status());
        for (const std::string& id : dataset_ids) {
          TY_RETURN_IF_ERROR(connection
                                 .Exec("INSERT INTO sweep_datasets (dataset_id, sweep_id) "
                                       "VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                       PgParams::Of(id, sweep.id))
                                 .status());
        }
        TimePoint now = std::chrono::system_clock::now();
        std::vector<Event> created;
        if (!jobs.empty()) {
          TY_ASSIGN_OR_RETURN(int64_t position, TakeCounter(connection, "queue_position",
                                                            static_cast<int64_t>(jobs.size())));
          for (const JobRecord& job : jobs) {
            TY_RETURN_IF_ERROR(InsertJob(connection, job, sweep.id, position++, ToMillis(now)));
            created.push_back(
                Event{.type = "job.created",
                      .sweep_id = sweep.id,
                      .job_name = job.name,
                      .data = {{"index", job.index}, {"hyperparameters", job.hyperparameters}}});
          }
        }
        TY_RETURN_IF_ERROR(AppendEvents(connection, std::move(created), now).status());
        // Read back rather than echoed, so that the caller sees exactly what a GetSweep will
        // return.
        return LoadSweep(connection, sweep.id);
      });
}

Status PostgresMetadataStore::AddJobs(const std::string& sweep_id,
                                      const std::vector<JobRecord>& jobs, int64_t expected_jobs) {
  return Transact(Access::kWrite, "AddJobs", [&](PgConnection& connection) -> Status {
    // The sweep's row lock makes adds to one sweep take turns, so that the count below (a
    // statement that starts after the lock, and so sees the adds committed before it) holds
    // until this transaction's inserts commit.
    TY_ASSIGN_OR_RETURN(
        bool exists,
        Exists(connection,
               expected_jobs >= 0 ? "SELECT 1 FROM sweeps WHERE id = $1 FOR NO KEY UPDATE"
                                  : "SELECT 1 FROM sweeps WHERE id = $1",
               sweep_id));
    if (!exists) return SweepNotFound(sweep_id);
    if (expected_jobs >= 0) {
      TY_ASSIGN_OR_RETURN(
          PgResult count,
          connection.Exec("SELECT COUNT(*) FROM jobs WHERE sweep_id = $1", PgParams::Of(sweep_id)));
      const int64_t has = count.Row(0).Int(0);
      if (has != expected_jobs) {
        return FailedPrecondition("sweep '" + sweep_id + "' has " + std::to_string(has) +
                                  " jobs, not the " + std::to_string(expected_jobs) +
                                  " expected: another server added its next jobs");
      }
    }
    std::set<std::string> names;
    for (const JobRecord& job : jobs) {
      TY_ASSIGN_OR_RETURN(bool taken,
                          Exists(connection, "SELECT 1 FROM jobs WHERE name = $1", job.name));
      if (taken || !names.insert(job.name).second) {
        return AlreadyExists("job '" + job.name + "' already exists");
      }
    }
    if (jobs.empty()) return Status::Ok();
    TimePoint now = std::chrono::system_clock::now();
    // Positions after every job of the store, as CreateSweep's: the queue stays FIFO.
    TY_ASSIGN_OR_RETURN(int64_t position, TakeCounter(connection, "queue_position",
                                                      static_cast<int64_t>(jobs.size())));
    std::vector<Event> created;
    for (const JobRecord& job : jobs) {
      TY_RETURN_IF_ERROR(InsertJob(connection, job, sweep_id, position++, ToMillis(now)));
      created.push_back(
          Event{.type = "job.created",
                .sweep_id = sweep_id,
                .job_name = job.name,
                .data = {{"index", job.index}, {"hyperparameters", job.hyperparameters}}});
    }
    return AppendEvents(connection, std::move(created), now).status();
  });
}

Result<SweepRecord> PostgresMetadataStore::GetSweep(const std::string& id) {
  return Transact(Access::kRead, "GetSweep",
                  [&](PgConnection& connection) { return LoadSweep(connection, id); });
}

Result<std::vector<SweepRecord>> PostgresMetadataStore::ListSweeps() {
  return Transact(Access::kRead, "ListSweeps",
                  [&](PgConnection& connection) -> Result<std::vector<SweepRecord>> {
                    TY_ASSIGN_OR_RETURN(
                        PgResult rows,
                        connection.Exec(std::string("SELECT ") + kSweepColumns +
                                        " FROM sweeps ORDER BY created_at_ms DESC, seq DESC"));
                    std::vector<SweepRecord> sweeps;
                    for (int i = 0; i < rows.Rows(); ++i) {
                      TY_ASSIGN_OR_RETURN(SweepRecord sweep, ReadSweep(rows.Row(i)));
                      sweeps.push_back(std::move(sweep));
                    }
                    return sweeps;
                  });
}

Status PostgresMetadataStore::SetSweepStopRequested(const std::string& id, bool stop_requested) {
  return Transact(Access::kWrite, "SetSweepStopRequested", [&](PgConnection& connection) -> Status {
    TY_ASSIGN_OR_RETURN(PgResult updated,
                        connection.Exec("UPDATE sweeps SET stop_requested = $1 WHERE id = $2",
                                        PgParams::Of(int64_t{stop_requested}, id)));
    if (updated.Changed() == 0) return SweepNotFound(id);
    return Status::Ok();
  });
}

Result<std::map<std::string, int64_t>> PostgresMetadataStore::CountJobsByStatus(
    const std::string& sweep_id) {
  return Transact(
      Access::kRead, "CountJobsByStatus",
      [&](PgConnection& connection) -> Result<std::map<std::string, int64_t>> {
        TY_ASSIGN_OR_RETURN(bool exists,
                            Exists(connection, "SELECT 1 FROM sweeps WHERE id = $1", sweep_id));
        if (!exists) return SweepNotFound(sweep_id);
        TY_ASSIGN_OR_RETURN(PgResult rows,
                            connection.Exec("SELECT CASE WHEN queued = 1 THEN 'Queued' ELSE "
                                            "status END AS state, COUNT(*) FROM jobs "
                                            "WHERE sweep_id = $1 GROUP BY state",
                                            PgParams::Of(sweep_id)));
        std::map<std::string, int64_t> counts;
        for (int i = 0; i < rows.Rows(); ++i) counts[rows.Row(i).Text(0)] = rows.Row(i).Int(1);
        return counts;
      });
}

}  // namespace trainyard::metadata
