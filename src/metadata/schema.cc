#include "metadata/schema.h"

#include <array>
#include <string>

namespace trainyard::metadata {
namespace {

// Append only: a step, once released, is never edited (databases in the field have run it).
// Times are integer milliseconds since the epoch; JSON and maps are TEXT.
constexpr std::array<const char*, 8> kMigrations = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  filename TEXT NOT NULL,
  object_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256_hex TEXT NOT NULL,
  content_type TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX datasets_by_created ON datasets(created_at_ms);

CREATE TABLE sweeps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX sweeps_by_created ON sweeps(created_at_ms);

CREATE TABLE sweep_datasets (
  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  sweep_id TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  PRIMARY KEY (dataset_id, sweep_id)
) WITHOUT ROWID;
CREATE INDEX sweep_datasets_by_sweep ON sweep_datasets(sweep_id);

CREATE TABLE jobs (
  name TEXT PRIMARY KEY,
  sweep_id TEXT NOT NULL REFERENCES sweeps(id),
  queue_position INTEGER NOT NULL UNIQUE,
  job_index INTEGER NOT NULL,
  executor TEXT NOT NULL,
  hyperparameters TEXT NOT NULL,
  queued INTEGER NOT NULL,
  executor_job_name TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  secondary_status TEXT NOT NULL,
  transitions TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  exit_code INTEGER,
  token_sha256 TEXT NOT NULL,
  started_at_ms INTEGER,
  ended_at_ms INTEGER,
  progress TEXT NOT NULL,
  metrics TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX jobs_by_sweep ON jobs(sweep_id, queue_position);
CREATE INDEX jobs_by_state ON jobs(queued, status, queue_position);
CREATE INDEX jobs_in_queue ON jobs(queued, queue_position);

-- Metric points and log lines are clustered by job (WITHOUT ROWID, keyed by job and a
-- per-job sequence): one b-tree to write per insert instead of a table and an index, which
-- matters for RecordProgress, the hottest write.
CREATE TABLE metric_points (
  job_name TEXT NOT NULL REFERENCES jobs(name),
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  step INTEGER,
  timestamp_ms INTEGER NOT NULL,
  PRIMARY KEY (job_name, seq)
) WITHOUT ROWID;

CREATE TABLE log_lines (
  job_name TEXT NOT NULL REFERENCES jobs(name),
  id INTEGER NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  PRIMARY KEY (job_name, id)
) WITHOUT ROWID;

-- Ids are rowids: each new event gets the highest id + 1. Nothing deletes events; a future
-- retention step must keep the newest event so that ids are never reused.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  sweep_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  data TEXT NOT NULL,
  time_ms INTEGER NOT NULL
);
CREATE INDEX events_by_sweep ON events(sweep_id, id);
CREATE INDEX events_by_job ON events(job_name, id);
)sql",
    // 2: the last progress callback sequence recorded under the job's current token, so that a
    // repeated request stores nothing twice (reset when the token changes: a new run).
    R"sql(
ALTER TABLE jobs ADD COLUMN progress_sequence INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: webhooks, their deliveries, and how far the webhook dispatcher has read the event log
    // (one row, id 1).
    R"sql(
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  format TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  sweep_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  response_code INTEGER,
  latency_ms INTEGER,
  last_error TEXT NOT NULL,
  next_attempt_at_ms INTEGER,
  retry_until_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at_ms);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at_ms);

CREATE TABLE webhook_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_event_id INTEGER NOT NULL
);
)sql",
    // 4: why trainyard stopped a job itself (early stopping), kept from the stop's intent to its
    // end across restarts.
    R"sql(
ALTER TABLE jobs ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
)sql",
    // 5: which server follows a running job, and until when its lease holds (ClaimJob,
    // RenewLeases, TakeOverJobs).
    R"sql(
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_expires_at_ms INTEGER;
)sql",
    // 6: which server drives a sweep's search, and until when its lease holds (ClaimSearch,
    // RenewSearchLeases, TakeOverSearches, EndSearch). Every sweep, old ones too, starts with its
    // search on: the first server to take it ends the search of one with nothing to drive.
    R"sql(
ALTER TABLE sweeps ADD COLUMN searching INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sweeps ADD COLUMN search_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sweeps ADD COLUMN search_lease_expires_at_ms INTEGER;
CREATE INDEX sweeps_searching ON sweeps(created_at_ms) WHERE searching = 1;
)sql",
    // 7: the training image a job ran, as requested and by digest (docs/container.md).
    R"sql(
ALTER TABLE jobs ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN image_digest TEXT NOT NULL DEFAULT '';
)sql",
    // 8: which attempt of a job its owner let start its code (RecordLaunch), so that a server
    // taking the job over knows whether the code may have run. Jobs running at the upgrade may
    // have started theirs once they were past Starting.
    R"sql(
ALTER TABLE jobs ADD COLUMN launched_attempt INTEGER;
UPDATE jobs SET launched_attempt = attempt
  WHERE queued = 0 AND status IN ('InProgress', 'Stopping') AND secondary_status <> 'Starting';
)sql",
};

Result<int64_t> UserVersion(SqliteDb& db) {
  TY_ASSIGN_OR_RETURN(Statement query, db.Prepare("PRAGMA user_version"));
  TY_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return Internal("PRAGMA user_version returned no row");
  return query.Int(0);
}

}  // namespace

int64_t LatestSchemaVersion() {
  return static_cast<int64_t>(kMigrations.size());
}

Status MigrateSchema(SqliteDb& db) {
  // The version is read inside the write transaction so that two processes opening a new
  // database at once cannot both apply the same step.
  TY_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db, Transaction::Kind::kWrite));
  TY_ASSIGN_OR_RETURN(int64_t version, UserVersion(db));
  if (version > LatestSchemaVersion()) {
    return FailedPrecondition("metadata database schema version " + std::to_string(version) +
                              " is newer than this trainyard knows (" +
                              std::to_string(LatestSchemaVersion()) + "); use a newer trainyard");
  }
  if (version < 0) {
    return FailedPrecondition("metadata database has an invalid schema version " +
                              std::to_string(version));
  }
  if (version == LatestSchemaVersion()) return Status::Ok();
  for (int64_t step = version; step < LatestSchemaVersion(); ++step) {
    TY_RETURN_IF_ERROR(db.Exec(kMigrations[static_cast<size_t>(step)])
                           .WithContext("schema migration " + std::to_string(step + 1)));
  }
  // PRAGMA takes no bound parameters; the value is our own integer, not input.
  TY_RETURN_IF_ERROR(db.Exec("PRAGMA user_version = " + std::to_string(LatestSchemaVersion())));
  return transaction.Commit();
}

}  // namespace trainyard::metadata
