// Credentials of the EC2 instance's IAM role from the Instance Metadata Service, IMDSv2 first:
//   PUT /latest/api/token                           (X-aws-ec2-metadata-token-ttl-seconds)
//   GET /latest/meta-data/iam/security-credentials/ (X-aws-ec2-metadata-token) -> role name
//   GET /latest/meta-data/iam/security-credentials/<role>                      -> JSON document
// As the SDKs do, a PUT answered 403, 404 or 405 falls back to IMDSv1 (the GETs without a token)
// unless AWS_EC2_METADATA_V1_DISABLED=true. AWS_EC2_METADATA_DISABLED=true turns the provider
// off; AWS_EC2_METADATA_SERVICE_ENDPOINT replaces http://169.254.169.254.
// Short timeouts and one attempt by default (botocore: 1 s, 1 attempt), so that a machine without
// IMDS, the common case outside EC2, fails fast. Thread-safe (immutable after construction; a new
// token is fetched at each Fetch, which the caching provider makes rare).
#pragma once

#include <chrono>

#include "aws/credentials_provider.h"
#include "common/environment.h"

namespace trainyard::aws {

struct ImdsProviderOptions {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{1000};
  int attempts = 1;
  std::chrono::seconds token_ttl{21600};  // the SDKs' default: 6 hours
};

class ImdsProvider : public CredentialsProvider {
 public:
  explicit ImdsProvider(EnvironmentMap environment, ImdsProviderOptions options = {})
      : environment_(std::move(environment)), options_(options) {}

  // NotFound when disabled, when nothing answers at the endpoint (not on EC2) or when no role is
  // attached; Unauthenticated when IMDS refuses the token (or the PUT with IMDSv1 disabled);
  // Unavailable for other answers and unusable documents.
  Result<TimedCredentials> Fetch() override;

 private:
  EnvironmentMap environment_;
  ImdsProviderOptions options_;
};

}  // namespace trainyard::aws
