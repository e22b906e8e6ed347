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
#include <string>

#include "common/status.h"
#include "metadata/postgres_connection.h"

namespace trainyard::metadata {

// The version a database has once every known migration is applied.
int64_t LatestPostgresSchemaVersion();

// Brings the database behind `connection` to LatestPostgresSchemaVersion(), inside the caller's
// transaction (which must be the caller's whole transaction: the advisory lock is held to its
// end). `schema`, when not empty, is the PostgreSQL schema the tables live in (the connection's
// search_path, PgConnection::Connect): it is created first when it does not exist, and has its
// own trainyard_schema version, so that each schema is migrated on its own.
Status MigratePostgresSchema(PgConnection& connection, const std::string& schema = "");

// InvalidArgument naming `schema` unless it is a name trainyard may keep its tables under: 1 to
// 63 lower-case letters, digits and underscores, starting with a letter, and not "pg_..."
// (PostgreSQL's own) nor "public" (the default search_path's, where a store without a schema
// keeps its tables).
Status CheckPostgresSchemaName(const std::string& schema);

}  // namespace trainyard::metadata
