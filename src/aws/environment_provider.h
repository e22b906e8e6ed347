// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), read from an
// EnvironmentMap handed down by the main. Thread-safe (immutable after construction).
#pragma once

#include "aws/credentials_provider.h"
#include "common/environment.h"

namespace trainyard::aws {

class EnvironmentProvider : public CredentialsProvider {
 public:
  explicit EnvironmentProvider(EnvironmentMap environment) : environment_(std::move(environment)) {}

  // NotFound when neither key variable is set; InvalidArgument when only one of them is (botocore's
  // PartialCredentialsError) or AWS_CREDENTIAL_EXPIRATION is not ISO 8601.
  Result<TimedCredentials> Fetch() override;

 private:
  EnvironmentMap environment_;
};

}  // namespace trainyard::aws
