// SigV4 checking for AWS JSON services (SageMaker, CloudWatch Logs): the Authorization header
// form only (JSON services take no presigned URLs), recomputed with aws/sigv4.h under the
// general rules (path normalised, not S3's) over the signed headers the header names and the
// SHA-256 of the whole body, and compared in constant time. Internal; thread-safe.
//
// Errors are the ones AWS's JSON services answer, with their texts:
// MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException (unknown key), InvalidSignatureException (wrong scope, expired or
// not yet current, wrong signature). Their messages name access key ids, scopes, dates and the
// canonical request, never a secret.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/time_format.h"
#include "server/http/http_server.h"
#include "server/sagemaker/aws_json.h"

namespace trainyard::server::sagemaker {

// The HTTP status of authentication failures. AWS's JSON 1.1 services (SageMaker, Logs, ECS,
// ECR, DynamoDB, Cognito) answer these errors with 400, unlike the REST ones (S3, Lambda,
// API Gateway), which use 403: see docs/sagemaker-endpoint.md.
inline constexpr int kAuthFailureHttpStatus = 400;

struct JsonAuthOptions {
  const std::map<std::string, std::string>* secret_by_access_key_id = nullptr;
  std::string region;  // the credential scope's region must be this one
  std::chrono::seconds max_clock_skew{300};
  TimePoint now;
};

// Checks the request's signature over `body`. `service` is the signing name the X-Amz-Target
// calls for ("sagemaker", "logs"); empty: whatever the scope names (the target is unknown and
// will be refused after authentication). nullopt when the request is authentic.
std::optional<JsonError> AuthenticateJsonRequest(const HttpRequest& request,
                                                 const std::string& body,
                                                 const std::string& service,
                                                 const JsonAuthOptions& options);

}  // namespace trainyard::server::sagemaker
