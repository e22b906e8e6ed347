// The SQLite schema of SqliteMetadataStore and its migrations.
//
// The schema's version is PRAGMA user_version: version N means the first N steps of the
// ordered migration list have been applied. Opening applies the missing steps, all in one
// transaction, so a database is never left half-migrated.
//
// Thread-safety: call during open, before the SqliteDb is shared.
// Failures: FailedPrecondition when the database has a newer version than this program knows
// (it was written by a newer trainyard); Internal/ResourceExhausted when SQLite fails.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "metadata/sqlite_handle.h"

namespace trainyard::metadata {

// The version a database has once every known migration is applied.
int64_t LatestSchemaVersion();

// Brings the database at `db` to LatestSchemaVersion().
Status MigrateSchema(SqliteDb& db);

}  // namespace trainyard::metadata
