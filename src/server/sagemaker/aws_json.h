// AWS JSON 1.1 answers of the SageMaker endpoint: a reply is either a JSON body or an error
// (HTTP status, "__type" code, message), written with x-amzn-RequestId on every answer and
// x-amzn-ErrorType on errors. Internal; thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"
#include "common/time_format.h"
#include "server/http/http_server.h"

namespace trainyard::server::sagemaker {

inline constexpr char kAmzJsonContentType[] = "application/x-amz-json-1.1";

struct JsonError {
  int http_status = 400;
  std::string code;     // "__type": "ValidationException", "ResourceInUse", ...
  std::string message;  // empty: the answer has no "message" (UnknownOperationException)
};

class JsonReply {
 public:
  static JsonReply Ok(nlohmann::json body) { return JsonReply(std::move(body), std::nullopt); }
  static JsonReply Fail(JsonError error) { return JsonReply({}, std::move(error)); }
  bool ok() const { return !error_; }
  const JsonError& error() const { return *error_; }
  const nlohmann::json& body() const { return body_; }

 private:
  JsonReply(nlohmann::json body, std::optional<JsonError> error)
      : body_(std::move(body)), error_(std::move(error)) {}
  nlohmann::json body_;
  std::optional<JsonError> error_;
};

// The errors this endpoint answers, all HTTP 400 unless said otherwise.
JsonReply ValidationException(std::string message);
JsonReply SageMakerError(std::string code, std::string message);  // ResourceInUse, ...
JsonReply LogsResourceNotFound(std::string message);              // ResourceNotFoundException
JsonReply LogsInvalidParameter(std::string message);              // InvalidParameterException
// 500 InternalFailure with the status's message (store failures).
JsonReply InternalFailure(const Status& status);

// Writes the reply as application/x-amz-json-1.1 with x-amzn-RequestId (and x-amzn-ErrorType).
// Does nothing when the response's headers are already out.
void WriteJsonReply(ResponseWriter& response, const JsonReply& reply,
                    const std::string& request_id);

// A random request id in AWS's form, "8f1a7c3e-2b4d-4e6f-9a0b-1c2d3e4f5a6b".
std::string NewRequestId();

// Epoch seconds with milliseconds, as AWS JSON writes timestamps (1716212345.123).
double EpochSeconds(TimePoint time);
int64_t EpochMilliseconds(TimePoint time);
// The inverse of EpochSeconds for a JSON number (or a numeric string); nullopt otherwise.
std::optional<TimePoint> TimeFromEpochSeconds(const nlohmann::json& value);

}  // namespace trainyard::server::sagemaker
