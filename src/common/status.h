// Status and Result<T>: how every trainyard module reports an expected failure.
//
// An expected failure (bad input, I/O, a peer's error, a missing file) is a value, never an
// exception. Codes follow the canonical set so that one table (ToExitCode, later the HTTP
// mapping) can translate them at the edge. Messages name the thing: "channel 'training' ...".
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace trainyard {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kCancelled,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: hyperparameter 'lr' ..." (or "OK").
  std::string ToString() const;
  // The same status with "context: " put before the message.
  Status WithContext(const std::string& context) const;
  // A ResourceExhausted made by DiskFull: the disk (or a quota) is full, not the request too
  // large. HTTP tells them apart (507 and 413).
  bool disk_full() const { return disk_full_; }

 private:
  friend Status DiskFull(std::string message);
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool disk_full_ = false;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
// ResourceExhausted for a full disk or quota (ENOSPC, EDQUOT, SQLITE_FULL): see disk_full().
inline Status DiskFull(std::string m) {
  Status status(StatusCode::kResourceExhausted, std::move(m));
  status.disk_full_ = true;
  return status;
}
inline Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Process exit code for a failed status, used by the command-line tools (0 for OK).
int ToExitCode(const Status& status);
// Prints "<program>: <message>" to stderr and returns ToExitCode(status): a command's failure.
int ReportFailure(const char* program, const Status& status);

// HTTP status for a failed status (docs/api.md): InvalidArgument 400, Unauthenticated 401,
// PermissionDenied 403, NotFound 404, AlreadyExists and FailedPrecondition 409,
// ResourceExhausted 413 (507 when disk_full()), Cancelled 499, Unavailable 503, DeadlineExceeded
// 504, others 500.
int ToHttpStatus(const Status& status);

// The code whose StatusCodeName is `name` ("NotFound"); kInternal for an unknown name.
StatusCode ParseStatusCodeName(const std::string& name);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace trainyard

#define TY_CONCAT_INNER(a, b) a##b
#define TY_CONCAT(a, b) TY_CONCAT_INNER(a, b)

#define TY_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::trainyard::Status ty_status_ = (expr); \
    if (!ty_status_.ok()) return ty_status_; \
  } while (0)

#define TY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define TY_ASSIGN_OR_RETURN(lhs, expr) \
  TY_ASSIGN_OR_RETURN_IMPL(TY_CONCAT(ty_result_, __LINE__), lhs, expr)
