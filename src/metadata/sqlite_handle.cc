#include "metadata/sqlite_handle.h"

#include <utility>

namespace trainyard::metadata {

Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  // The connection's message is only about this failure when its code matches.
  message += db != nullptr && (sqlite3_errcode(db) & 0xff) == (rc & 0xff) ? sqlite3_errmsg(db)
                                                                          : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_FULL) return DiskFull("disk full: " + message);
  return Internal(message);
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqliteError(db_, bind_error_, std::string("binding ") + sqlite3_sql(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, sqlite3_sql(stmt_));
}

Status Statement::Run() {
  TY_ASSIGN_OR_RETURN(bool row, Step());
  while (row) {
    TY_ASSIGN_OR_RETURN(row, Step());
  }
  return Status::Ok();
}

int Statement::Type(int column) const {
  return sqlite3_column_type(stmt_, column);
}

int Statement::Columns() const {
  return sqlite3_column_count(stmt_);
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::Double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the store serializes all use of the connection itself.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteError(raw, rc, "opening '" + path + "'");
    sqlite3_close_v2(raw);
    return status;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(raw));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> SqliteDb::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size() + 1),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "preparing " + sql);
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(db_, it->second);
}

Status SqliteDb::Exec(const std::string& sql) {
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
  return Status::Ok();
}

Result<Transaction> Transaction::Begin(SqliteDb& db, Kind kind) {
  TY_ASSIGN_OR_RETURN(Statement begin,
                      db.Prepare(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  TY_RETURN_IF_ERROR(begin.Run());
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  // Nothing to report to: the caller is already returning the error that got us here. When
  // SQLite rolled back on its own (e.g. SQLITE_FULL), there is no transaction left to end.
  if (!sqlite3_get_autocommit(db_->raw())) {
    if (auto rollback = db_->Prepare("ROLLBACK"); rollback.ok()) (void)rollback->Run();
  }
}

Status Transaction::Commit() {
  TY_ASSIGN_OR_RETURN(Statement commit, db_->Prepare("COMMIT"));
  Status status = commit.Run();
  if (status.ok()) db_ = nullptr;  // on failure the destructor rolls back
  return status;
}

}  // namespace trainyard::metadata
