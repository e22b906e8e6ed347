// Amazon ECR's GetAuthorizationToken (AWS JSON 1.1, target prefix
// AmazonEC2ContainerRegistry_V20150921, signing name "ecr", endpoint api.ecr.REGION.amazonaws.com):
// the user name and password a container runtime pulls an ECR registry's images with, as `aws ecr
// get-login-password` prints it. The request and answer follow botocore's ecr 2015-09-21 model.
//
// Stateless functions; thread-safe as the JsonServiceClient they are given. Errors never carry
// the token or the password: they name the operation, AWS's error code and message.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/credentials_provider.h"
#include "aws/json_client.h"
#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::aws {

inline constexpr char kEcrTargetPrefix[] = "AmazonEC2ContainerRegistry_V20150921";

// The registry an ECR-form host names: "123456789012.dkr.ecr.eu-west-1.amazonaws.com" is account
// (registry id) 123456789012 in region eu-west-1.
struct EcrRegistry {
  std::string account;
  std::string region;
};

// The account and region of an ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com, with an
// optional ":PORT"); InvalidArgument naming the host otherwise.
Result<EcrRegistry> ParseEcrRegistryHost(const std::string& host);

// What GetAuthorizationToken answered, decoded.
struct EcrAuthorization {
  std::string username;  // "AWS"
  std::string password;  // a secret: never logged
  TimePoint expires_at;
  std::string proxy_endpoint;  // "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
};

// The options of a JsonServiceClient for ECR in `region`: `endpoint` empty for AWS
// (https://api.ecr.REGION.amazonaws.com), else a compatible endpoint's base URL (a VPC endpoint,
// a test's stand-in).
JsonServiceOptions EcrServiceOptions(const std::string& region, const std::string& endpoint,
                                     std::shared_ptr<CredentialsProvider> credentials);

// GetAuthorizationToken's input for one registry: {"registryIds": [registry_id]}.
nlohmann::json GetAuthorizationTokenInput(const std::string& registry_id);

// GetAuthorizationToken's answer decoded: the first authorizationData's authorizationToken
// (base64 of "USER:PASSWORD"), expiresAt (epoch seconds, as the JSON protocol writes timestamps,
// or ISO 8601) and proxyEndpoint. Unavailable "GetAuthorizationToken: ..." naming what is missing
// or malformed (never quoting the token).
Result<EcrAuthorization> ParseAuthorizationData(const nlohmann::json& output);

// Calls GetAuthorizationToken for `registry_id` (12 digits) and decodes the answer. Errors: the
// client's (no AWS credentials: Unauthenticated; AccessDeniedException: PermissionDenied; ECR not
// reachable after the client's retries: Unavailable), ParseAuthorizationData's.
Result<EcrAuthorization> GetEcrAuthorization(JsonServiceClient& client,
                                             const std::string& registry_id);

}  // namespace trainyard::aws
