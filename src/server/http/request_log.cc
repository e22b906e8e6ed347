#include "server/http/request_log.h"

#include <strings.h>

#include "common/log.h"

namespace trainyard::server::internal {

std::string RequestLogMessage(const HttpRequest& request, const RequestOutcome& outcome) {
  std::string path = request.target.substr(0, request.target.find('?'));
  auto milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(outcome.duration);
  std::string message =
      "method=" + request.method + " path=" + path + " status=" + std::to_string(outcome.status) +
      " duration_ms=" + std::to_string(milliseconds.count()) + " remote=" + request.remote_address;
  if (!outcome.request_id.empty()) message += " request=" + outcome.request_id;
  if (!outcome.failure.empty()) message += " error=" + outcome.failure;
  return message;
}

void LogRequest(const std::string& logger_name, const HttpRequest& request,
                const RequestOutcome& outcome) {
  auto level = outcome.status >= 500 ? spdlog::level::warn : spdlog::level::info;
  Logger(logger_name).log(level, "{}", RequestLogMessage(request, outcome));
}

void LogRefusedConnection(const std::string& logger_name, const std::string& remote, int status,
                          const std::string& reason) {
  Logger(logger_name).warn("remote={} status={} refused: {}", remote, status, reason);
}

bool IsRequestIdHeader(const std::string& name) {
  for (const char* known : {"x-amz-request-id", "x-amzn-requestid", "x-request-id"}) {
    if (strcasecmp(name.c_str(), known) == 0) return true;
  }
  return false;
}

}  // namespace trainyard::server::internal
