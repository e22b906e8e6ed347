#include "metadata/postgres_connection.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/utf8.h"

namespace trainyard::metadata {
namespace {

bool IsConnectionLoss(std::string_view sqlstate) {
  // Class 08: connection exceptions; 57P01-57P03: the server is shutting down or starting.
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// PostgreSQL's UTF8 text holds neither NUL nor invalid sequences; what a job prints may have
// both. They become U+FFFD, as the JSON encoding of the same text would make them.
std::string StorableText(std::string_view value) {
  bool clean = value.find('\0') == std::string_view::npos && CodePointCount(value).has_value();
  if (clean) return std::string(value);
  std::string valid = ToValidUtf8(value);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

// --- parameters and rows ---

PgParams& PgParams::Add(std::string_view value) {
  values_.emplace_back(StorableText(value));
  return *this;
}

PgParams& PgParams::Add(int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

PgParams& PgParams::Add(double value) {
  if (std::isnan(value)) {
    values_.emplace_back("NaN");
  } else if (std::isinf(value)) {
    values_.emplace_back(value > 0 ? "Infinity" : "-Infinity");
  } else {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    values_.emplace_back(text);
  }
  return *this;
}

PgParams& PgParams::Add(std::nullopt_t) {
  values_.emplace_back(std::nullopt);
  return *this;
}

bool PgRow::IsNull(int column) const {
  return PQgetisnull(result_, row_, column) != 0;
}

int64_t PgRow::Int(int column) const {
  return std::strtoll(PQgetvalue(result_, row_, column), nullptr, 10);
}

double PgRow::Double(int column) const {
  // strtod reads "NaN", "Infinity" and "-Infinity" as PostgreSQL writes them.
  return std::strtod(PQgetvalue(result_, row_, column), nullptr);
}

std::string PgRow::Text(int column) const {
  return std::string(PQgetvalue(result_, row_, column),
                     static_cast<size_t>(PQgetlength(result_, row_, column)));
}

std::optional<int64_t> PgRow::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

int64_t PgResult::Changed() const {
  return std::strtoll(PQcmdTuples(result_.get()), nullptr, 10);
}

// --- one connection ---

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            const std::string& shown_as,
                                                            const std::string& schema) {
  // The URL's own settings win over these defaults (they come after them): a connection
  // attempt that hangs would hold a caller, so it gives up after 10 s unless told otherwise.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "trainyard", conninfo.c_str(), nullptr};
  PGconn* connection = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (connection == nullptr) return Unavailable("PostgreSQL " + shown_as + ": out of memory");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    PQfinish(connection);
    return Unavailable("cannot connect to PostgreSQL " + shown_as + ": " + message);
  }
  // The server's notices and warnings go to the log rather than to stderr as libpq prints them.
  PQsetNoticeProcessor(
      connection,
      [](void*, const char* notice) {
        std::string text = notice;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        Logger("metadata").warn("PostgreSQL said: {}", text);
      },
      nullptr);
  std::unique_ptr<PgConnection> connected(new PgConnection(connection));
  if (!schema.empty()) {
    // For the session, not a transaction: every later statement on this connection.
    char* quoted = PQescapeIdentifier(connection, schema.data(), schema.size());
    if (quoted == nullptr) {
      return Internal("PostgreSQL " + shown_as + ": schema '" + schema +
                      "' cannot be quoted: " + PQerrorMessage(connection));
    }
    const std::string set = std::string("SET search_path TO ") + quoted;
    PQfreemem(quoted);
    TY_RETURN_IF_ERROR(connected->Exec(set).status().WithContext("PostgreSQL " + shown_as +
                                                                 ": search_path " + schema));
  }
  return connected;
}

PgConnection::~PgConnection() {
  PQfinish(connection_);
}

bool PgConnection::Reusable() const {
  return PQstatus(connection_) == CONNECTION_OK && PQtransactionStatus(connection_) == PQTRANS_IDLE;
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params) {
  last_failure_ = Failure::kNone;
  std::vector<const char*> values;
  values.reserve(params.values().size());
  for (const auto& value : params.values()) values.push_back(value ? value->c_str() : nullptr);
  std::string text(sql);
  return Checked(
      PgResult(PQexecParams(connection_, text.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, /*resultFormat=*/0)));
}

Status PgConnection::ExecScript(std::string_view sql) {
  last_failure_ = Failure::kNone;
  std::string text(sql);
  return Checked(PgResult(PQexec(connection_, text.c_str()))).status();
}

Result<PgResult> PgConnection::Checked(PgResult result) {
  // A null result: out of memory, or the connection is gone.
  ExecStatusType status = result.raw() ? PQresultStatus(result.raw()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  std::string sqlstate;
  if (result.raw()) {
    if (const char* code = PQresultErrorField(result.raw(), PG_DIAG_SQLSTATE)) sqlstate = code;
  }
  std::string message = result.raw() ? PQresultErrorMessage(result.raw()) : "";
  if (message.empty()) message = PQerrorMessage(connection_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  if (!sqlstate.empty()) message += " (SQLSTATE " + sqlstate + ")";

  if (PQstatus(connection_) != CONNECTION_OK || IsConnectionLoss(sqlstate)) {
    last_failure_ = Failure::kConnectionLost;
    return Unavailable("PostgreSQL connection lost: " + message);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    last_failure_ = Failure::kRetryable;
    return Unavailable("PostgreSQL serialization failure: " + message);
  }
  last_failure_ = Failure::kOther;
  if (sqlstate == "23505") return AlreadyExists(message);
  if (sqlstate == "53100") return DiskFull("PostgreSQL disk full: " + message);
  return Internal("PostgreSQL: " + message);
}

// --- the pool ---

PgPool::PgPool(std::string conninfo, std::string shown_as, size_t max_connections,
               std::chrono::milliseconds acquire_timeout, std::string schema)
    : conninfo_(std::move(conninfo)),
      shown_as_(std::move(shown_as)),
      schema_(std::move(schema)),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      acquire_timeout_(acquire_timeout) {}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (connection_) pool_->GiveBack(std::move(connection_));
}

Result<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  bool free = given_back_.wait_for(lock, acquire_timeout_,
                                   [this] { return !idle_.empty() || open_ < max_connections_; });
  if (!free) {
    return ResourceExhausted("all " + std::to_string(max_connections_) +
                             " connections to PostgreSQL " + shown_as_ + " stayed busy for " +
                             std::to_string(acquire_timeout_.count()) + " ms");
  }
  if (!idle_.empty()) {
    std::unique_ptr<PgConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(connection));
  }
  ++open_;  // counted while it connects, so that no more than max_connections ever open
  lock.unlock();
  Result<std::unique_ptr<PgConnection>> connection =
      PgConnection::Connect(conninfo_, shown_as_, schema_);
  if (!connection.ok()) {
    lock.lock();
    --open_;
    given_back_.notify_one();
    return connection.status();
  }
  return Lease(this, std::move(*connection));
}

void PgPool::GiveBack(std::unique_ptr<PgConnection> connection) {
  bool keep = connection->Reusable();
  if (!keep) connection.reset();  // closed before the lock is taken: PQfinish may write
  std::lock_guard lock(mu_);
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  given_back_.notify_one();
}

}  // namespace trainyard::metadata
