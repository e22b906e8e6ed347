// The PostgreSQL schema of PostgresMetadataStore and its migrations.
//
// The schema's version is the one row of trainyard_schema: version N means the first N steps of
// the ordered migration list have been applied. Opening applies the missing steps in one
// transaction (PostgreSQL's DDL is transactional; PostgresMetadataStore::Open runs it as one),
// under an advisory lock, so that several
// servers opening one database at once apply each step once and none sees half a schema.
//
// Failures: FailedPrecondition when the database has a newer version than this program knows
// (it was written by a newer trainyard); the connection's Status when PostgreSQL fails.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "metadata/postgres_connection.h"

namespace trainyard::metadata {

// The version a database has once every known migration is applied.
int64_t LatestPostgresSchemaVersion();

// Brings the database behind `connection` to LatestPostgresSchemaVersion(), inside the caller's
// transaction (which must be the caller's whole transaction: the advisory lock is held to its
// end).
Status MigratePostgresSchema(PgConnection& connection);

}  // namespace trainyard::metadata
