// SqliteMetadataStore: opening, datasets and sweeps. Jobs are in sqlite_job_methods.cc, events
// in sqlite_event_methods.cc.
#include "metadata/sqlite_metadata_store.h"

#include <set>
#include <utility>

#include "metadata/record_rows.h"
#include "metadata/schema.h"

namespace trainyard::metadata {
namespace {

using Kind = Transaction::Kind;

Status ConfigureConnection(SqliteDb& db, const SqliteMetadataStoreOptions& options) {
  sqlite3_busy_timeout(db.raw(), options.busy_timeout_ms);
  if (options.path != ":memory:") {
    // WAL: readers never block the writer, and a commit appends to one file. With WAL,
    // synchronous=NORMAL syncs only at checkpoints: a commit survives the process being killed
    // (kill -9) because it is in the WAL file the moment COMMIT returns; only an OS crash or
    // power cut can lose the latest commits, and never corrupts the database.
    TY_ASSIGN_OR_RETURN(Statement mode, db.Prepare("PRAGMA journal_mode = WAL"));
    TY_ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.Text(0) != "wal") {
      return Internal("could not switch the database to WAL mode (journal_mode is '" +
                      (row ? mode.Text(0) : std::string()) + "')");
    }
    // A checkpoint costs two fsyncs, paid by the commit that triggers it; every 10,000 pages
    // (about 40 MB of WAL) instead of SQLite's 1,000 keeps them rare under a stream of
    // RecordProgress calls. The WAL file is cut back to 64 MB after a checkpoint if a burst
    // (or a long reader) made it grow past that.
    TY_RETURN_IF_ERROR(
        db.Exec("PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;"));
  }
  TY_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"));
  return Status::Ok();
}

Status DatasetNotFound(const std::string& id) {
  return NotFound("dataset '" + id + "' not found");
}
Status SweepNotFound(const std::string& id) {
  return NotFound("sweep '" + id + "' not found");
}

}  // namespace

Result<std::unique_ptr<SqliteMetadataStore>> SqliteMetadataStore::Open(
    const SqliteMetadataStoreOptions& options) {
  if (options.path.empty()) return InvalidArgument("sqlite metadata store: the path is empty");
  std::string context = "metadata database '" + options.path + "'";
  auto db = SqliteDb::Open(options.path);
  if (!db.ok()) return db.status().WithContext(context);
  Status status = ConfigureConnection(**db, options);
  if (status.ok()) status = MigrateSchema(**db);
  if (!status.ok()) return status.WithContext(context);
  return std::unique_ptr<SqliteMetadataStore>(new SqliteMetadataStore(std::move(*db)));
}

Result<bool> SqliteMetadataStore::Exists(const std::string& sql, const std::string& key) {
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(sql));
  return query.BindAll(key).Step();
}

// --- datasets ---

Status SqliteMetadataStore::CreateDataset(const DatasetRecord& dataset) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM datasets WHERE id = ?", dataset.id));
  if (taken) return AlreadyExists("dataset '" + dataset.id + "' already exists");
  TY_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare(std::string("INSERT INTO datasets (") + kDatasetColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.BindAll(dataset.id, dataset.name, dataset.kind, dataset.filename, dataset.object_key,
                 static_cast<int64_t>(dataset.size), dataset.sha256_hex, dataset.content_type,
                 ToMillis(dataset.created_at));
  TY_RETURN_IF_ERROR(insert.Run());
  return transaction.Commit();
}

Result<DatasetRecord> SqliteMetadataStore::GetDataset(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kDatasetColumns +
                                                    " FROM datasets WHERE id = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(id).Step());
  if (!row) return DatasetNotFound(id);
  return ReadDataset(query);
}

Result<std::vector<DatasetRecord>> SqliteMetadataStore::ListDatasets() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  // rowid breaks ties between datasets created in the same millisecond: later insert first.
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare(std::string("SELECT ") + kDatasetColumns +
                                   " FROM datasets ORDER BY created_at_ms DESC, rowid DESC"));
  std::vector<DatasetRecord> datasets;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    datasets.push_back(ReadDataset(query));
  }
  return datasets;
}

Status SqliteMetadataStore::DeleteDataset(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM datasets WHERE id = ?", id));
  if (!exists) return DatasetNotFound(id);
  TY_ASSIGN_OR_RETURN(Statement busy,
                      db_->Prepare("SELECT j.name, j.sweep_id FROM sweep_datasets AS d "
                                   "JOIN jobs AS j ON j.sweep_id = d.sweep_id "
                                   "WHERE d.dataset_id = ? AND (j.queued = 1 OR j.status IN "
                                   "('InProgress', 'Stopping')) "
                                   "ORDER BY j.queue_position LIMIT 1"));
  TY_ASSIGN_OR_RETURN(bool in_use, busy.BindAll(id).Step());
  if (in_use) {
    return FailedPrecondition("dataset '" + id + "' is used by job '" + busy.Text(0) +
                              "' of sweep '" + busy.Text(1) + "', which has not ended");
  }
  // The sweep_datasets links of ended sweeps go with it (ON DELETE CASCADE).
  TY_ASSIGN_OR_RETURN(Statement remove, db_->Prepare("DELETE FROM datasets WHERE id = ?"));
  TY_RETURN_IF_ERROR(remove.BindAll(id).Run());
  return transaction.Commit();
}

// --- sweeps ---

Result<SweepRecord> SqliteMetadataStore::LoadSweep(const std::string& id) {
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kSweepColumns +
                                                    " FROM sweeps WHERE id = ?"));
  TY_ASSIGN_OR_RETURN(bool row, query.BindAll(id).Step());
  if (!row) return SweepNotFound(id);
  return ReadSweep(query);
}

Result<SweepRecord> SqliteMetadataStore::LoadSweepByIdempotencyKey(const std::string& key,
                                                                   bool* found) {
  TY_ASSIGN_OR_RETURN(Statement query, db_->Prepare(std::string("SELECT ") + kSweepColumns +
                                                    " FROM sweeps WHERE idempotency_key = ?"));
  TY_ASSIGN_OR_RETURN(*found, query.BindAll(key).Step());
  if (!*found) return SweepRecord{};
  return ReadSweep(query);
}

Result<SweepRecord> SqliteMetadataStore::CreateSweep(const SweepRecord& sweep,
                                                     const std::vector<std::string>& dataset_ids,
                                                     const std::vector<JobRecord>& jobs) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  if (sweep.idempotency_key) {
    bool found = false;
    TY_ASSIGN_OR_RETURN(SweepRecord existing,
                        LoadSweepByIdempotencyKey(*sweep.idempotency_key, &found));
    if (found) return existing;  // a retried request: nothing more is written
  }
  TY_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM sweeps WHERE id = ?", sweep.id));
  if (taken) return AlreadyExists("sweep '" + sweep.id + "' already exists");
  for (const std::string& id : dataset_ids) {
    TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM datasets WHERE id = ?", id));
    if (!exists) return DatasetNotFound(id);
  }
  std::set<std::string> names;
  for (const JobRecord& job : jobs) {
    TY_ASSIGN_OR_RETURN(taken, Exists("SELECT 1 FROM jobs WHERE name = ?", job.name));
    if (taken || !names.insert(job.name).second) {
      return AlreadyExists("job '" + job.name + "' already exists");
    }
  }

  TY_ASSIGN_OR_RETURN(Statement insert,
                      db_->Prepare(std::string("INSERT INTO sweeps (") + kSweepColumns +
                                   ") VALUES (?, ?, ?, ?, ?, ?)"));
  insert.BindAll(sweep.id, sweep.name, DumpJson(sweep.spec), sweep.idempotency_key,
                 int64_t{sweep.stop_requested}, ToMillis(sweep.created_at));
  TY_RETURN_IF_ERROR(insert.Run());
  for (const std::string& id : dataset_ids) {
    TY_ASSIGN_OR_RETURN(Statement link,
                        db_->Prepare("INSERT OR IGNORE INTO sweep_datasets (dataset_id, sweep_id) "
                                     "VALUES (?, ?)"));
    TY_RETURN_IF_ERROR(link.BindAll(id, sweep.id).Run());
  }

  TY_ASSIGN_OR_RETURN(Statement last,
                      db_->Prepare("SELECT COALESCE(MAX(queue_position), 0) FROM jobs"));
  TY_ASSIGN_OR_RETURN(bool row, last.Step());
  int64_t position = row ? last.Int(0) : 0;
  TimePoint now = std::chrono::system_clock::now();
  for (const JobRecord& job : jobs) {
    TY_RETURN_IF_ERROR(InsertJob(job, sweep.id, ++position, ToMillis(now)));
    Event created{.type = "job.created",
                  .sweep_id = sweep.id,
                  .job_name = job.name,
                  .data = {{"index", job.index}, {"hyperparameters", job.hyperparameters}}};
    TY_RETURN_IF_ERROR(AppendEvent(std::move(created), now).status());
  }
  // Read back rather than echoed, so that the caller sees exactly what a GetSweep will return.
  TY_ASSIGN_OR_RETURN(SweepRecord stored, LoadSweep(sweep.id));
  TY_RETURN_IF_ERROR(transaction.Commit());
  return stored;
}

Status SqliteMetadataStore::AddJobs(const std::string& sweep_id, const std::vector<JobRecord>& jobs,
                                    int64_t expected_jobs) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM sweeps WHERE id = ?", sweep_id));
  if (!exists) return NotFound("sweep '" + sweep_id + "' not found");
  if (expected_jobs >= 0) {
    // The one writer: no other caller adds jobs between this count and the inserts.
    TY_ASSIGN_OR_RETURN(Statement count,
                        db_->Prepare("SELECT COUNT(*) FROM jobs WHERE sweep_id = ?"));
    TY_ASSIGN_OR_RETURN(bool row, count.BindAll(sweep_id).Step());
    const int64_t has = row ? count.Int(0) : 0;
    if (has != expected_jobs) {
      return FailedPrecondition("sweep '" + sweep_id + "' has " + std::to_string(has) +
                                " jobs, not the " + std::to_string(expected_jobs) +
                                " expected: another server added its next jobs");
    }
  }
  std::set<std::string> names;
  for (const JobRecord& job : jobs) {
    TY_ASSIGN_OR_RETURN(bool taken, Exists("SELECT 1 FROM jobs WHERE name = ?", job.name));
    if (taken || !names.insert(job.name).second) {
      return AlreadyExists("job '" + job.name + "' already exists");
    }
  }
  TY_ASSIGN_OR_RETURN(Statement last,
                      db_->Prepare("SELECT COALESCE(MAX(queue_position), 0) FROM jobs"));
  TY_ASSIGN_OR_RETURN(bool row, last.Step());
  int64_t position = row ? last.Int(0) : 0;
  TimePoint now = std::chrono::system_clock::now();
  for (const JobRecord& job : jobs) {
    TY_RETURN_IF_ERROR(InsertJob(job, sweep_id, ++position, ToMillis(now)));
    Event created{.type = "job.created",
                  .sweep_id = sweep_id,
                  .job_name = job.name,
                  .data = {{"index", job.index}, {"hyperparameters", job.hyperparameters}}};
    TY_RETURN_IF_ERROR(AppendEvent(std::move(created), now).status());
  }
  return transaction.Commit();
}

Result<SweepRecord> SqliteMetadataStore::GetSweep(const std::string& id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  return LoadSweep(id);
}

Result<std::vector<SweepRecord>> SqliteMetadataStore::ListSweeps() {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare(std::string("SELECT ") + kSweepColumns +
                                   " FROM sweeps ORDER BY created_at_ms DESC, rowid DESC"));
  std::vector<SweepRecord> sweeps;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    TY_ASSIGN_OR_RETURN(SweepRecord sweep, ReadSweep(query));
    sweeps.push_back(std::move(sweep));
  }
  return sweeps;
}

Status SqliteMetadataStore::SetSweepStopRequested(const std::string& id, bool stop_requested) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kWrite));
  TY_ASSIGN_OR_RETURN(Statement update,
                      db_->Prepare("UPDATE sweeps SET stop_requested = ? WHERE id = ?"));
  TY_RETURN_IF_ERROR(update.BindAll(int64_t{stop_requested}, id).Run());
  if (sqlite3_changes(db_->raw()) == 0) return SweepNotFound(id);
  return transaction.Commit();
}

Result<std::map<std::string, int64_t>> SqliteMetadataStore::CountJobsByStatus(
    const std::string& sweep_id) {
  std::lock_guard lock(mu_);
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(*db_, Kind::kRead));
  TY_ASSIGN_OR_RETURN(bool exists, Exists("SELECT 1 FROM sweeps WHERE id = ?", sweep_id));
  if (!exists) return SweepNotFound(sweep_id);
  TY_ASSIGN_OR_RETURN(Statement query,
                      db_->Prepare("SELECT CASE WHEN queued = 1 THEN 'Queued' ELSE status END "
                                   "AS state, COUNT(*) FROM jobs WHERE sweep_id = ? "
                                   "GROUP BY state"));
  query.BindAll(sweep_id);
  std::map<std::string, int64_t> counts;
  while (true) {
    TY_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    counts[query.Text(0)] = query.Int(1);
  }
  return counts;
}

}  // namespace trainyard::metadata
