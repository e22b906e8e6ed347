// A small AWS JSON 1.1 client for the SageMaker endpoint's tests: requests signed with
// aws::SignWithHeaders (service "sagemaker" or "logs") and sent with libcurl, answers kept as
// they came, with their JSON parsed. Options let a test break the signature in each way AWS
// tells apart. Not thread-safe; one per test.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "common/time_format.h"

namespace trainyard::server::sagemaker::testing {

struct JsonTestRequest {
  std::string target;  // "SageMaker.CreateTrainingJob"
  std::string body = "{}";
  std::string method = "POST";
  std::string service = "sagemaker";            // the credential scope's service
  std::string region = "us-east-1";             // the credential scope's region
  std::optional<TimePoint> signing_time;        // default: now
  std::optional<aws::Credentials> credentials;  // default: the client's
  bool sign = true;
  std::string body_after_signing;  // non-empty: sent instead of `body` (a tampered request)
  std::map<std::string, std::string> headers;  // set after signing, replacing any of the name
};

struct JsonTestResponse {
  long status = 0;                             // 0: no answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json;  // the parsed body (null when it is not JSON)
  // "__type", or "" for a success.
  std::string Type() const;
  std::string Message() const;
};

class JsonTestClient {
 public:
  JsonTestClient(std::string endpoint, aws::Credentials credentials)
      : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {}

  JsonTestResponse Send(const JsonTestRequest& request);
  // Signed calls: "SageMaker.<operation>" for "sagemaker", "Logs_20140328.<operation>" for
  // "logs".
  JsonTestResponse SageMaker(const std::string& operation, const nlohmann::json& input);
  JsonTestResponse Logs(const std::string& operation, const nlohmann::json& input);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;  // "http://127.0.0.1:PORT"
  aws::Credentials credentials_;
};

}  // namespace trainyard::server::sagemaker::testing
