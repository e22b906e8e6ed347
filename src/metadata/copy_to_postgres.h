// Moving an installation's metadata from SQLite to PostgreSQL (`trainyard migrate`): every row of
// every table, as it is (ids, queue positions, event ids, times, the webhook dispatcher's cursor),
// so that clients resume event streams and jobs keep their places across the move.
//
// The SQLite database is first brought to the latest schema (as opening it would); the
// PostgreSQL database gets its tables if it has none, and must hold no records. The copy is one
// PostgreSQL transaction: it lands whole or not at all. Stop the server that uses the SQLite
// database first: a write made during the copy would be missed.
//
// Failures: FailedPrecondition when the target already holds records; NotFound when the SQLite
// file does not exist; Internal when a count read back differs from the source's; the stores'
// own failures otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::metadata {

// Rows copied, by table name.
using CopiedRows = std::map<std::string, int64_t>;

Result<CopiedRows> CopySqliteToPostgres(const std::string& sqlite_path,
                                        const std::string& postgres_url);

// One SQLite store and the PostgreSQL schema of the target database it goes to ("": the
// default, as CopySqliteToPostgres; "sagemaker": the SageMaker endpoint's store,
// PostgresMetadataStoreOptions::schema).
struct SqliteCopySource {
  std::string sqlite_path;
  std::string schema;
};

// Several stores, each into its schema, in one PostgreSQL transaction: all land or none. The
// rows copied of each, in the order given. Each schema must hold no records; the failures are
// CopySqliteToPostgres's, and InvalidArgument for a schema name the store refuses.
Result<std::vector<CopiedRows>> CopySqliteStoresToPostgres(
    const std::vector<SqliteCopySource>& sources, const std::string& postgres_url);

}  // namespace trainyard::metadata
