#include "common/status.h"

#include <cstdio>

namespace trainyard {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kResourceExhausted: return "ResourceExhausted";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kDeadlineExceeded: return "DeadlineExceeded";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status with_context = *this;
  with_context.message_ = context + ": " + message_;
  return with_context;
}

// Exit codes follow the BSD sysexits spirit: 2 for usage errors, distinct codes for the rest so
// scripts can tell "your input is wrong" from "the machine is in trouble".
int ReportFailure(const char* program, const Status& status) {
  std::fprintf(stderr, "%s: %s\n", program, status.message().c_str());
  return ToExitCode(status);
}

int ToExitCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kAlreadyExists: return 4;
    case StatusCode::kFailedPrecondition: return 5;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated: return 6;
    case StatusCode::kResourceExhausted: return 7;
    case StatusCode::kUnavailable: return 8;
    // Apart from 8, so that a script can tell "gave up waiting" from "nobody answered".
    case StatusCode::kDeadlineExceeded: return 9;
    case StatusCode::kCancelled: return 130;
    default: return 1;
  }
}

int ToHttpStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return status.disk_full() ? 507 : 413;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

StatusCode ParseStatusCodeName(const std::string& name) {
  for (int code = 0; code <= static_cast<int>(StatusCode::kInternal); ++code) {
    if (name == StatusCodeName(static_cast<StatusCode>(code))) return static_cast<StatusCode>(code);
  }
  return StatusCode::kInternal;
}

}  // namespace trainyard
