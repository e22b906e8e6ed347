// AWS JSON 1.1 error answers look like {"__type": "ValidationException", "message": "..."}.
// Real services often write "__type" with a namespace ("com.amazon.coral.validate#...");
// botocore and the other SDKs keep only what follows '#', so the plain code is what they see
// either way, and it is what simpler clients expect.
#include "server/sagemaker/aws_json.h"

#include <cmath>

#include "server/s3/s3_names.h"
#include "server/sagemaker/sagemaker_api.h"

namespace trainyard::server::sagemaker {

JsonReply ValidationException(std::string message) {
  return JsonReply::Fail({400, "ValidationException", std::move(message)});
}

JsonReply SageMakerError(std::string code, std::string message) {
  return JsonReply::Fail({400, std::move(code), std::move(message)});
}

JsonReply LogsResourceNotFound(std::string message) {
  return JsonReply::Fail({400, "ResourceNotFoundException", std::move(message)});
}

JsonReply LogsInvalidParameter(std::string message) {
  return JsonReply::Fail({400, "InvalidParameterException", std::move(message)});
}

JsonReply InternalFailure(const Status& status) {
  return JsonReply::Fail({500, "InternalFailure", "trainyard: " + status.message()});
}

void WriteJsonReply(ResponseWriter& response, const JsonReply& reply,
                    const std::string& request_id) {
  if (response.headers_sent()) return;
  std::string body;
  if (reply.ok()) {
    response.SetStatus(200);
    body = reply.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    const JsonError& error = reply.error();
    response.SetStatus(error.http_status);
    response.SetHeader("x-amzn-ErrorType", error.code);
    nlohmann::json document = {{"__type", error.code}};
    if (!error.message.empty()) document["message"] = error.message;
    body = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  response.SetHeader("x-amzn-RequestId", request_id);
  response.SetHeader("Content-Type", kAmzJsonContentType);
  response.WriteBody(body);
}

std::string NewRequestId() {
  std::string hex = s3::RandomHex(16);
  hex[12] = '4';  // a version 4 UUID, as AWS's request ids are
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

int64_t EpochMilliseconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

double EpochSeconds(TimePoint time) {
  return static_cast<double>(EpochMilliseconds(time)) / 1000.0;
}

std::optional<TimePoint> TimeFromEpochSeconds(const nlohmann::json& value) {
  double seconds = 0;
  if (value.is_number()) {
    seconds = value.get<double>();
  } else if (value.is_string()) {
    try {
      size_t used = 0;
      seconds = std::stod(value.get<std::string>(), &used);
      if (used != value.get_ref<const std::string&>().size()) return std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(seconds)) return std::nullopt;
  return TimePoint(std::chrono::milliseconds(std::llround(seconds * 1000.0)));
}

}  // namespace trainyard::server::sagemaker

namespace trainyard::server {

ErrorDocument SageMakerConnectionErrorDocument(int status, const Status& error) {
  std::string code = status == 503   ? "ServiceUnavailable"
                     : status >= 500 ? "InternalFailure"
                                     : "ValidationException";
  nlohmann::json document = {{"__type", code}, {"message", error.message()}};
  // As the endpoint's own answers: botocore reads the error's code from x-amzn-ErrorType first.
  return {sagemaker::kAmzJsonContentType,
          document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          {{"x-amzn-ErrorType", code}, {"x-amzn-RequestId", sagemaker::NewRequestId()}}};
}

}  // namespace trainyard::server
