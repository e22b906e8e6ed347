// Thin RAII wrappers over the SQLite C API, used by SqliteMetadataStore: SqliteDb owns one
// connection and its cache of prepared statements, Statement is one use of a cached statement
// (bind, step, read columns; reset when it goes), Transaction rolls back unless committed.
//
// Thread-safety: none. A SqliteDb and everything taken from it must be used by one thread at a
// time; SqliteMetadataStore guards its SqliteDb with a mutex.
//
// Failures: every SQLite error becomes a Status: SQLITE_FULL is ResourceExhausted ("disk
// full"), anything else Internal with sqlite3_errmsg, prefixed with what was being done.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::metadata {

// The Status for SQLite result code `rc` on `db` (which may be null), "context: message".
Status SqliteError(sqlite3* db, int rc, std::string_view context);

// One use of a prepared statement. Binding errors are remembered and reported by the next
// Step/Run. Parameters are 1-based, columns 0-based, as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, std::nullopt_t);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : Bind(index, std::nullopt);
  }
  // Binds the arguments to parameters 1, 2, ... in order.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 0;
    (Bind(++index, args), ...);
    return *this;
  }

  // Advances to the next row: true when there is one, false when done.
  Result<bool> Step();
  // Steps a statement that returns no rows (INSERT, UPDATE, ...) to its end.
  Status Run();

  bool IsNull(int column) const;
  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL: what the row holds.
  int Type(int column) const;
  int Columns() const;
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;  // owned by the SqliteDb's cache; reset here, never finalized
  int bind_error_ = SQLITE_OK;
};

// One connection with a cache of prepared statements keyed by their SQL text.
class SqliteDb {
 public:
  // `path` is a file name or ":memory:". Opens read-write, creating the file when missing.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // The cached statement for `sql` (one statement), prepared on first use. `sql` must be a
  // constant of the program: values go in bound parameters.
  Result<Statement> Prepare(const std::string& sql);
  // Runs one or more statements without parameters (schema scripts, PRAGMAs, BEGIN/COMMIT).
  Status Exec(const std::string& sql);
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE (writes) or BEGIN DEFERRED (reads); rolls back when destroyed uncommitted.
class Transaction {
 public:
  enum class Kind { kRead, kWrite };
  static Result<Transaction> Begin(SqliteDb& db, Kind kind);
  ~Transaction();
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;

  Status Commit();

 private:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // null once committed or rolled back
};

}  // namespace trainyard::metadata
