// Credentials from the container credentials endpoint: what ECS tasks, EKS Pod Identity and
// SageMaker training containers are given. Configured by the environment, as in every SDK:
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  GET http://169.254.170.2<uri>  (wins when both set)
//   AWS_CONTAINER_CREDENTIALS_FULL_URI      GET <uri>; https to any host, plain http only to a
//                                           loopback address or the ECS/EKS agent addresses
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  its content is the Authorization header (re-read at
//                                           each fetch: EKS rotates it); wins over
//   AWS_CONTAINER_AUTHORIZATION_TOKEN       the Authorization header value
// The answer is {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}.
// Thread-safe (immutable after construction).
#pragma once

#include <chrono>

#include "aws/credentials_provider.h"
#include "common/environment.h"

namespace trainyard::aws {

struct ContainerProviderOptions {
  // botocore's ContainerMetadataFetcher: 2 s timeout, 3 attempts.
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{2000};
  int attempts = 3;
  // Where a relative URI is resolved (tests point it at a loopback server).
  std::string relative_uri_base = "http://169.254.170.2";
};

class ContainerProvider : public CredentialsProvider {
 public:
  explicit ContainerProvider(EnvironmentMap environment, ContainerProviderOptions options = {})
      : environment_(std::move(environment)), options_(std::move(options)) {}

  // NotFound when neither URI variable is set. Otherwise: InvalidArgument for a refused or
  // malformed FULL_URI, an unreadable token file or a token with a line break; Unavailable (or
  // DeadlineExceeded) when the endpoint cannot be reached, answers 5xx or an unusable document;
  // Unauthenticated when it answers 401/403; Unavailable for other statuses.
  Result<TimedCredentials> Fetch() override;

 private:
  EnvironmentMap environment_;
  ContainerProviderOptions options_;
};

// Whether the SDKs allow plain http to this host (as SplitUrl reports it): 127.0.0.0/8, ::1,
// "localhost", the ECS agent 169.254.170.2 and the EKS Pod Identity agent 169.254.170.23 /
// fd00:ec2::23. Host names other than "localhost" are refused rather than resolved.
bool IsAllowedHttpContainerHost(const std::string& host);

}  // namespace trainyard::aws
