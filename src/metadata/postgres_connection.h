// One libpq connection to PostgreSQL, the statements PostgresMetadataStore runs on it, and the
// pool it is taken from.
//
// Parameters and results travel as text (libpq's text format): integers in decimal, doubles with
// 17 significant digits (NaN and the infinities spelled as PostgreSQL spells them), so a value
// reads back exactly as it was written. Rows are read with the accessors of sqlite_handle.h's
// Statement, so record_rows.h's readers take them as they are.
//
// Failures are Status values, "context: PostgreSQL's message", and the connection remembers what
// kind of failure the last one was (LastFailure), which decides whether a transaction is tried
// again: a serialization failure or a deadlock (SQLSTATE 40001, 40P01) and a lost connection
// (class 08, an administrator's shutdown, or libpq's CONNECTION_BAD) are kUnavailable-coded and
// retryable; a unique violation (23505) is AlreadyExists, a full disk (53100) ResourceExhausted,
// anything else Internal.
//
// Thread-safety: a PgConnection is used by one thread at a time (the pool hands it to one
// caller); PgPool is safe from many threads.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trainyard::metadata {

// Statement parameters $1, $2, ... in order, as text; nullopt is SQL NULL.
class PgParams {
 public:
  PgParams& Add(std::string_view value);
  PgParams& Add(const std::string& value) { return Add(std::string_view(value)); }
  PgParams& Add(const char* value) { return Add(std::string_view(value)); }
  PgParams& Add(int64_t value);
  PgParams& Add(int value) { return Add(static_cast<int64_t>(value)); }
  PgParams& Add(double value);
  PgParams& Add(std::nullopt_t);
  template <typename T>
  PgParams& Add(const std::optional<T>& value) {
    return value ? Add(*value) : Add(std::nullopt);
  }
  template <typename... Args>
  static PgParams Of(const Args&... args) {
    PgParams params;
    (params.Add(args), ...);
    return params;
  }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// One row of a result, read by column number.
class PgRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}
  bool IsNull(int column) const;
  int64_t Int(int column) const;  // 0 when NULL
  double Double(int column) const;
  std::string Text(int column) const;  // "" when NULL
  std::optional<int64_t> OptionalInt(int column) const;

 private:
  const PGresult* result_;
  int row_;
};

// A statement's result; owns the PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, PQclear) {}
  int Rows() const { return PQntuples(result_.get()); }
  PgRow Row(int row) const { return PgRow(result_.get(), row); }
  // Rows a command changed (UPDATE, DELETE, INSERT).
  int64_t Changed() const;
  const PGresult* raw() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class PgConnection {
 public:
  enum class Failure { kNone, kRetryable, kConnectionLost, kOther };

  // `conninfo`: a postgresql:// URL or key=value string, as libpq takes it (TLS settings such as
  // sslmode, sslrootcert, sslcert and sslkey included); `shown_as` names the server in errors
  // (the URL without its password). `schema`, when not empty, is the connection's search_path
  // for the whole session: its statements' unqualified tables are that schema's (which need not
  // exist yet). Unavailable when the server cannot be reached.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                       const std::string& shown_as,
                                                       const std::string& schema = "");
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. The failure is remembered in LastFailure until the next call.
  Result<PgResult> Exec(std::string_view sql, const PgParams& params = {});
  // Runs several statements without parameters (a migration step), in one round trip.
  Status ExecScript(std::string_view sql);
  Failure LastFailure() const { return last_failure_; }
  // False once the connection is lost, or left inside a transaction: it is then not reused.
  bool Reusable() const;
  PGconn* raw() const { return connection_; }

 private:
  explicit PgConnection(PGconn* connection) : connection_(connection) {}
  // `result`, or the Status of its failure (remembered in last_failure_).
  Result<PgResult> Checked(PgResult result);
  PGconn* connection_;
  Failure last_failure_ = Failure::kNone;
};

// Up to `max_connections` connections, opened on demand and kept open between calls; each with
// `schema` as its search_path when it is not empty (PgConnection::Connect).
class PgPool {
 public:
  PgPool(std::string conninfo, std::string shown_as, size_t max_connections,
         std::chrono::milliseconds acquire_timeout, std::string schema = "");
  ~PgPool();

  // A connection taken from the pool, given back when it goes (closed instead when it is not
  // Reusable).
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() const { return *connection_; }
    PgConnection* operator->() const { return connection_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  // An idle connection, or a new one while fewer than max_connections are open; waits up to
  // acquire_timeout for one to be given back (ResourceExhausted then). Unavailable when a new
  // connection cannot be opened.
  Result<Lease> Acquire();

 private:
  void GiveBack(std::unique_ptr<PgConnection> connection);

  const std::string conninfo_;
  const std::string shown_as_;
  const std::string schema_;
  const size_t max_connections_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable given_back_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                  // guarded by mu_: idle and leased
};

}  // namespace trainyard::metadata
