// EcrTokenSource: registry tokens for ECR-form images (executor/container/registry_credentials.h)
// from Amazon ECR's GetAuthorizationToken (aws/ecr_authorization.h), signed with the server's AWS
// credentials (the SDKs' default chain, as the sagemaker executor's), one client per region: the
// region is the registry host's own (ACCOUNT.dkr.ecr.REGION.amazonaws.com), the registry id its
// account.
//
// Thread-safe: concurrent fetches for one registry are made one by RegistryCredentials.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "aws/credentials_provider.h"
#include "aws/json_client.h"
#include "common/environment.h"
#include "executor/container/registry_credentials.h"

namespace trainyard::app {

struct EcrTokenSourceOptions {
  // The base URL of ECR's API for every region ("https://vpce-...", a test's stand-in); empty:
  // https://api.ecr.REGION.amazonaws.com.
  std::string endpoint;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  // Tries per fetch (throttling, 5xx and dropped connections are tried again, as the SDKs do).
  int max_attempts = 3;
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{30'000};
};

// The options from the server's environment: the endpoint from `endpoint_setting`, else
// AWS_ENDPOINT_URL_ECR, else AWS_ENDPOINT_URL (the SDKs' variables, as the sagemaker executor
// follows them); the credentials from the SDKs' default chain (environment, shared files,
// container, IMDS), read at the first fetch.
EcrTokenSourceOptions EcrTokenSourceOptionsFrom(const std::string& endpoint_setting,
                                                const EnvironmentMap& environment);

class EcrTokenSource : public executor::RegistryTokenSource {
 public:
  explicit EcrTokenSource(EcrTokenSourceOptions options) : options_(std::move(options)) {}

  // GetAuthorizationToken for the host's account, in the host's region. Errors: InvalidArgument
  // for a host not of the ECR form; the call's (Unauthenticated: no AWS credentials;
  // PermissionDenied: AccessDeniedException; Unavailable: ECR not reachable), each naming the
  // endpoint or AWS's message, never a secret.
  Result<executor::RegistryToken> FetchToken(const std::string& host) override;

 private:
  aws::JsonServiceClient& ClientFor(const std::string& region);

  EcrTokenSourceOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<aws::JsonServiceClient>> clients_;  // by region
};

}  // namespace trainyard::app
