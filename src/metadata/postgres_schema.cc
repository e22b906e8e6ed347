#include "metadata/postgres_schema.h"

#include <array>
#include <string>

namespace trainyard::metadata {
namespace {

// Any number, the same in every trainyard: the advisory lock that serializes migrations.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7419020118)";

// Append only: a step, once released, is never edited (databases in the field have run it).
// The tables and columns are SQLite's (schema.cc), so that record_rows.h reads both; times are
// integer milliseconds since the epoch, JSON and maps are TEXT (kept byte for byte, as written).
// Where SQLite orders by rowid, a `seq` identity column does it here.
constexpr std::array<const char*, 6> kPostgresMigrations = {
    // 1: the initial schema, as SQLite's version 3.
    R"sql(
CREATE TABLE datasets (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  filename TEXT NOT NULL,
  object_key TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256_hex TEXT NOT NULL,
  content_type TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX datasets_by_created ON datasets(created_at_ms, seq);

CREATE TABLE sweeps (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX sweeps_by_created ON sweeps(created_at_ms, seq);

CREATE TABLE sweep_datasets (
  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  sweep_id TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  PRIMARY KEY (dataset_id, sweep_id)
);
CREATE INDEX sweep_datasets_by_sweep ON sweep_datasets(sweep_id);

CREATE TABLE jobs (
  name TEXT PRIMARY KEY,
  sweep_id TEXT NOT NULL REFERENCES sweeps(id),
  queue_position BIGINT NOT NULL UNIQUE,
  job_index BIGINT NOT NULL,
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
  started_at_ms BIGINT,
  ended_at_ms BIGINT,
  progress TEXT NOT NULL,
  metrics TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  progress_sequence BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_sweep ON jobs(sweep_id, queue_position);
CREATE INDEX jobs_by_state ON jobs(queued, status, queue_position);
CREATE INDEX jobs_in_queue ON jobs(queued, queue_position);

CREATE TABLE metric_points (
  job_name TEXT NOT NULL REFERENCES jobs(name),
  seq BIGINT NOT NULL,
  name TEXT NOT NULL,
  value DOUBLE PRECISION,
  step BIGINT,
  timestamp_ms BIGINT NOT NULL,
  PRIMARY KEY (job_name, seq)
);

CREATE TABLE log_lines (
  job_name TEXT NOT NULL REFERENCES jobs(name),
  id BIGINT NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  PRIMARY KEY (job_name, id)
);

-- Event ids and queue positions come from these counters, not from sequences: the UPDATE that
-- takes the next id holds the counter's row lock until its transaction ends, so ids are
-- committed in increasing order, and a client that saw id N has seen every id below N
-- (a sequence hands out ids in the order of the calls, but they commit in any order).
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('event', 0), ('queue_position', 0);

CREATE TABLE events (
  id BIGINT PRIMARY KEY,
  type TEXT NOT NULL,
  sweep_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  data TEXT NOT NULL,
  time_ms BIGINT NOT NULL
);
CREATE INDEX events_by_sweep ON events(sweep_id, id);
CREATE INDEX events_by_job ON events(job_name, id);

CREATE TABLE webhooks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  format TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  event_id BIGINT NOT NULL,
  sweep_id TEXT NOT NULL,
  job_name TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  response_code INTEGER,
  latency_ms BIGINT,
  last_error TEXT NOT NULL,
  next_attempt_at_ms BIGINT,
  retry_until_ms BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at_ms);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at_ms);

CREATE TABLE webhook_cursor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_event_id BIGINT NOT NULL
);
)sql",
    // 2: why trainyard stopped a job itself (early stopping), as SQLite's version 4.
    R"sql(
ALTER TABLE jobs ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
)sql",
    // 3: which server follows a running job, and until when its lease holds (SQLite's 5).
    R"sql(
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_expires_at_ms BIGINT;
)sql",
    // 4: which server drives a sweep's search, and until when its lease holds (SQLite's 6).
    R"sql(
ALTER TABLE sweeps ADD COLUMN searching INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sweeps ADD COLUMN search_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sweeps ADD COLUMN search_lease_expires_at_ms BIGINT;
CREATE INDEX sweeps_searching ON sweeps(created_at_ms, seq) WHERE searching = 1;
)sql",
    // 5: the training image a job ran, as requested and by digest (SQLite's 7).
    R"sql(
ALTER TABLE jobs ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN image_digest TEXT NOT NULL DEFAULT '';
)sql",
    // 6: which attempt of a job its owner let start its code (SQLite's 8).
    R"sql(
ALTER TABLE jobs ADD COLUMN launched_attempt INTEGER;
UPDATE jobs SET launched_attempt = attempt
  WHERE queued = 0 AND status IN ('InProgress', 'Stopping') AND secondary_status <> 'Starting';
)sql",
};

Status Migrate(PgConnection& connection, const std::string& schema) {
  TY_RETURN_IF_ERROR(connection.Exec(kMigrationLock).status());
  if (!schema.empty()) {
    // Under the lock, so that servers starting at once make it once. Looked up first: CREATE
    // SCHEMA IF NOT EXISTS asks for the CREATE privilege on the database even when the schema
    // exists, and an administrator may have made it for a user without that privilege.
    TY_ASSIGN_OR_RETURN(
        PgResult found,
        connection.Exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", PgParams::Of(schema)));
    if (found.Rows() == 0) {
      char* quoted = PQescapeIdentifier(connection.raw(), schema.data(), schema.size());
      if (quoted == nullptr) return Internal("schema '" + schema + "' cannot be quoted");
      const std::string create = std::string("CREATE SCHEMA ") + quoted;
      PQfreemem(quoted);
      TY_RETURN_IF_ERROR(connection.Exec(create).status().WithContext("schema " + schema));
    }
  }
  TY_RETURN_IF_ERROR(connection
                         .Exec("CREATE TABLE IF NOT EXISTS trainyard_schema ("
                               "id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)")
                         .status());
  TY_ASSIGN_OR_RETURN(PgResult current,
                      connection.Exec("SELECT version FROM trainyard_schema WHERE id = 1"));
  int64_t version = current.Rows() == 0 ? 0 : current.Row(0).Int(0);
  if (version > LatestPostgresSchemaVersion()) {
    return FailedPrecondition("metadata database schema version " + std::to_string(version) +
                              " is newer than this trainyard knows (" +
                              std::to_string(LatestPostgresSchemaVersion()) +
                              "); use a newer trainyard");
  }
  if (version < 0) {
    return FailedPrecondition("metadata database has an invalid schema version " +
                              std::to_string(version));
  }
  for (int64_t step = version; step < LatestPostgresSchemaVersion(); ++step) {
    TY_RETURN_IF_ERROR(connection.ExecScript(kPostgresMigrations[static_cast<size_t>(step)])
                           .WithContext("schema migration " + std::to_string(step + 1)));
  }
  return connection
      .Exec(
          "INSERT INTO trainyard_schema (id, version) VALUES (1, $1) "
          "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
          PgParams::Of(LatestPostgresSchemaVersion()))
      .status();
}

}  // namespace

int64_t LatestPostgresSchemaVersion() {
  return static_cast<int64_t>(kPostgresMigrations.size());
}

Status MigratePostgresSchema(PgConnection& connection, const std::string& schema) {
  return Migrate(connection, schema);
}

Status CheckPostgresSchemaName(const std::string& schema) {
  auto refuse = [&schema](const std::string& reason) {
    return InvalidArgument("schema '" + schema + "': " + reason);
  };
  if (schema.empty() || schema.size() > 63) return refuse("must be 1 to 63 characters long");
  if (schema[0] < 'a' || schema[0] > 'z') return refuse("must start with a lower-case letter");
  for (char c : schema) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return refuse("may hold only lower-case letters, digits and underscores");
    }
  }
  if (schema.starts_with("pg_")) return refuse("names starting with pg_ are PostgreSQL's own");
  if (schema == "public") return refuse("public holds the tables of a store without a schema");
  return Status::Ok();
}

}  // namespace trainyard::metadata
