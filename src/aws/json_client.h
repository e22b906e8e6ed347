// JsonServiceClient: calls an AWS service that speaks AWS JSON 1.1 (SageMaker, CloudWatch Logs):
// always `POST /` with `X-Amz-Target: <prefix>.<Operation>`, a JSON body, SigV4 over the body's
// SHA-256, and errors as {"__type": "...", "message": "..."}.
//
// Retries as the SDKs do ("standard" mode): throttling errors (ThrottlingException,
// TooManyRequestsException, RequestLimitExceeded, ...), HTTP 429/500/502/503/504 and dropped
// connections are sent again after a full-jitter exponential backoff, up to `max_attempts`
// tries. A non-idempotent call (CreateTrainingJob) may then find its own first attempt already
// done: callers handle the duplicate answer (ResourceInUse) themselves.
//
// Thread-safe; credentials are fetched for every call so that rotating ones are followed. Easy
// handles are pooled, so that consecutive calls reuse their connection (a TLS handshake per
// DescribeTrainingJob poll would cost more than the call). Errors never carry a secret: they
// name the operation, AWS's error code and message.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/credentials_provider.h"
#include "common/status.h"

namespace trainyard::aws {

struct JsonServiceOptions {
  std::string target_prefix;  // "SageMaker", "Logs_20140328"
  std::string signing_name;   // "sagemaker", "logs"
  std::string region = "us-east-1";
  // "" for AWS ("https://<endpoint_host_prefix>.<region>.amazonaws.com"); else the base URL of
  // a compatible endpoint, as "http://127.0.0.1:9100".
  std::string endpoint;
  std::string endpoint_host_prefix;  // "api.sagemaker", "logs"
  std::shared_ptr<CredentialsProvider> credentials;
  int max_attempts = 5;
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{20'000};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{60'000};
};

// An error answer of the service.
struct AwsError {
  long http_status = 0;  // 0: no answer (transport failure)
  std::string code;      // "ValidationException", "ResourceInUse" (namespace stripped)
  std::string message;
};

// The outcome of one call: the answer's JSON, or the service's error, or a local failure
// (credentials, transport after every retry) as a Status.
struct JsonCallResult {
  Status status;          // Ok when `output` holds the answer
  nlohmann::json output;  // the answer's body
  AwsError error;         // when the service answered an error (status names it too)
  bool sent = false;      // the request went out (a failure before it, as credentials, did not)
  bool ok() const { return status.ok(); }
};

class JsonServiceClient {
 public:
  explicit JsonServiceClient(JsonServiceOptions options);
  ~JsonServiceClient();

  // Sends `operation` with `input` and retries what is retryable. The Status of a service
  // error: ValidationException → InvalidArgument, ResourceNotFound* → NotFound, ResourceInUse →
  // AlreadyExists, AccessDenied/Unrecognized/InvalidSignature → PermissionDenied,
  // ResourceLimitExceeded → ResourceExhausted, others Unavailable; its message
  // "<Operation>: <code>: <message>".
  JsonCallResult Call(const std::string& operation, const nlohmann::json& input);

  const JsonServiceOptions& options() const { return options_; }
  std::string Url() const;

  // Whether AWS's SDKs retry this error code / HTTP status.
  static bool IsRetryable(const AwsError& error);

 private:
  JsonCallResult CallOnce(const std::string& operation, const std::string& body);
  void Backoff(int attempt) const;
  void* AcquireHandle();  // a CURL*, from the pool or new; null when curl cannot make one
  void ReleaseHandle(void* handle);

  JsonServiceOptions options_;
  std::string url_;
  std::string host_header_;
  std::mutex pool_mutex_;
  std::vector<void*> pool_;
};

}  // namespace trainyard::aws
