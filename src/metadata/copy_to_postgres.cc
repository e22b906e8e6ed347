#include "metadata/copy_to_postgres.h"

#include <sqlite3.h>

#include <filesystem>
#include <vector>

#include "common/log.h"
#include "metadata/postgres_connection.h"
#include "metadata/postgres_metadata_store.h"
#include "metadata/record_rows.h"
#include "metadata/sqlite_handle.h"
#include "metadata/sqlite_metadata_store.h"

namespace trainyard::metadata {
namespace {

struct Table {
  const char* name;
  std::string columns;  // the same in both schemas
  const char* order;    // the source's order, which the target's identity columns follow
};

// Parents before children (the foreign keys), each in its own order.
std::vector<Table> Tables() {
  return {
      {"datasets", kDatasetColumns, "rowid"},
      {"sweeps", kSweepColumns, "rowid"},
      {"sweep_datasets", "dataset_id, sweep_id", "sweep_id, dataset_id"},
      {"jobs", std::string(kJobColumns) + ", progress_sequence", "queue_position"},
      {"metric_points", "job_name, seq, name, value, step, timestamp_ms", "job_name, seq"},
      {"log_lines", "job_name, id, stream, line, timestamp_ms", "job_name, id"},
      {"events", kEventColumns, "id"},
      {"webhooks", kWebhookColumns, "rowid"},
      {"webhook_deliveries", kDeliveryColumns, "rowid"},
      {"webhook_cursor", "id, last_event_id", "id"},
  };
}

int ColumnCount(const std::string& columns) {
  int count = 1;
  for (char c : columns) count += c == ',' ? 1 : 0;
  return count;
}

// Copies one table in statements of up to 500 rows; the number of rows.
Result<int64_t> CopyTable(SqliteDb& source, PgConnection& target, const Table& table) {
  constexpr int kRowsPerStatement = 500;
  const int columns = ColumnCount(table.columns);
  TY_ASSIGN_OR_RETURN(Statement rows,
                      source.Prepare(std::string("SELECT ") + table.columns + " FROM " +
                                     table.name + " ORDER BY " + table.order));
  const std::string insert =
      std::string("INSERT INTO ") + table.name + " (" + table.columns + ") VALUES ";
  int64_t copied = 0;
  bool more = true;
  while (more) {
    std::string sql = insert;
    PgParams params;
    int in_statement = 0;
    while (in_statement < kRowsPerStatement) {
      TY_ASSIGN_OR_RETURN(more, rows.Step());
      if (!more) break;
      sql += in_statement == 0 ? "(" : ", (";
      for (int column = 0; column < columns; ++column) {
        if (column > 0) sql += ", ";
        sql += "$" + std::to_string(in_statement * columns + column + 1);
        switch (rows.Type(column)) {
          case SQLITE_NULL:  // also a NaN metric value, which both stores read back as NaN
            params.Add(std::nullopt);
            break;
          case SQLITE_INTEGER: params.Add(rows.Int(column)); break;
          case SQLITE_FLOAT: params.Add(rows.Double(column)); break;
          default: params.Add(rows.Text(column));
        }
      }
      sql += ")";
      ++in_statement;
    }
    if (in_statement == 0) break;
    TY_RETURN_IF_ERROR(target.Exec(sql, params).status().WithContext(table.name));
    copied += in_statement;
  }
  return copied;
}

Result<int64_t> CountRows(PgConnection& target, const char* table) {
  TY_ASSIGN_OR_RETURN(PgResult count, target.Exec(std::string("SELECT count(*) FROM ") + table));
  return count.Row(0).Int(0);
}

Result<CopiedRows> CopyAll(SqliteDb& source, PgConnection& target) {
  for (const char* table : {"datasets", "sweeps", "jobs", "events", "webhooks"}) {
    TY_ASSIGN_OR_RETURN(int64_t count, CountRows(target, table));
    if (count > 0) {
      return FailedPrecondition("the PostgreSQL database already holds records (" +
                                std::to_string(count) + " in " + table +
                                "); migrate into an empty database");
    }
  }
  // A read transaction on the source: one snapshot of every table.
  TY_RETURN_IF_ERROR(source.Exec("BEGIN"));
  CopiedRows copied;
  Status status;
  for (const Table& table : Tables()) {
    Result<int64_t> rows = CopyTable(source, target, table);
    if (!rows.ok()) {
      status = rows.status();
      break;
    }
    copied[table.name] = *rows;
  }
  // What was read is not changed: the read transaction ends either way. A failure to end it
  // adds nothing to the copy's own result.
  if (Status ended = source.Exec("COMMIT"); !ended.ok()) {
    Logger("metadata")
        .warn("migrate: the read of the SQLite store did not end cleanly: {}", ended.message());
  }
  TY_RETURN_IF_ERROR(status);
  // The counters continue after the copied ids (postgres_schema.cc).
  TY_RETURN_IF_ERROR(target
                         .Exec("UPDATE counters SET value = (SELECT COALESCE(MAX(id), 0) FROM "
                               "events) WHERE name = 'event'")
                         .status());
  TY_RETURN_IF_ERROR(target
                         .Exec("UPDATE counters SET value = (SELECT COALESCE(MAX(queue_position), "
                               "0) FROM jobs) WHERE name = 'queue_position'")
                         .status());
  for (const auto& [table, rows] : copied) {
    TY_ASSIGN_OR_RETURN(int64_t count, CountRows(target, table.c_str()));
    if (count != rows) {
      return Internal("table " + table + ": " + std::to_string(rows) + " rows copied, " +
                      std::to_string(count) + " found after the copy");
    }
  }
  return copied;
}

}  // namespace

Result<CopiedRows> CopySqliteToPostgres(const std::string& sqlite_path,
                                        const std::string& postgres_url) {
  TY_ASSIGN_OR_RETURN(std::vector<CopiedRows> copied,
                      CopySqliteStoresToPostgres({{sqlite_path, ""}}, postgres_url));
  return std::move(copied.front());
}

Result<std::vector<CopiedRows>> CopySqliteStoresToPostgres(
    const std::vector<SqliteCopySource>& sources, const std::string& postgres_url) {
  TY_ASSIGN_OR_RETURN(PostgresUrl url, ParsePostgresUrl(postgres_url));
  std::vector<std::unique_ptr<SqliteDb>> databases;
  for (const SqliteCopySource& source : sources) {
    if (!std::filesystem::exists(source.sqlite_path)) {
      return NotFound("SQLite metadata database '" + source.sqlite_path + "' not found");
    }
    // Opening brings each to the latest schema (and makes the PostgreSQL schema and tables).
    TY_RETURN_IF_ERROR(SqliteMetadataStore::Open({.path = source.sqlite_path}).status());
    TY_RETURN_IF_ERROR(
        PostgresMetadataStore::Open({.url = postgres_url, .schema = source.schema}).status());
    TY_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> database, SqliteDb::Open(source.sqlite_path));
    databases.push_back(std::move(database));
  }

  TY_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> target,
                      PgConnection::Connect(url.conninfo, url.shown_as));
  TY_RETURN_IF_ERROR(target->Exec("BEGIN ISOLATION LEVEL SERIALIZABLE").status());
  std::vector<CopiedRows> all;
  Status failed;
  for (size_t i = 0; i < sources.size() && failed.ok(); ++i) {
    const std::string& schema = sources[i].schema;
    // Each store's tables by their unqualified names, as the store finds them.
    std::string search_path = "DEFAULT";
    if (!schema.empty()) {
      char* quoted = PQescapeIdentifier(target->raw(), schema.data(), schema.size());
      if (quoted == nullptr) {
        failed = Internal("schema '" + schema + "' cannot be quoted");
        break;
      }
      search_path = quoted;
      PQfreemem(quoted);
    }
    failed = target->Exec("SET LOCAL search_path TO " + search_path).status();
    // No server may write while the copy runs: the tables are locked to its end.
    if (failed.ok()) failed = target->Exec("LOCK TABLE counters IN EXCLUSIVE MODE").status();
    if (!failed.ok()) break;
    Result<CopiedRows> copied = CopyAll(*databases[i], *target);
    if (!copied.ok()) {
      failed = copied.status().WithContext(schema.empty()
                                               ? sources[i].sqlite_path
                                               : sources[i].sqlite_path + " into schema " + schema);
      break;
    }
    all.push_back(std::move(copied).value());
  }
  if (!failed.ok()) {
    // Nothing of the copy stays; a failed rollback leaves the transaction to end with the
    // connection, which is closed here.
    if (Status rolled_back = target->Exec("ROLLBACK").status(); !rolled_back.ok()) {
      Logger("metadata")
          .warn("migrate to {}: rollback failed (the connection is closed): {}", url.shown_as,
                rolled_back.message());
    }
    return failed.WithContext("migrate to " + url.shown_as);
  }
  TY_RETURN_IF_ERROR(target->Exec("COMMIT").status().WithContext("migrate to " + url.shown_as));
  return all;
}

}  // namespace trainyard::metadata
