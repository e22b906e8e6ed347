// Credentials from the shared files: ~/.aws/credentials (or AWS_SHARED_CREDENTIALS_FILE) first,
// then ~/.aws/config (or AWS_CONFIG_FILE), in the profile AWS_PROFILE names (else "default"), as
// botocore's SharedCredentialProvider and ConfigProvider do. Also the region, from the same
// places. Thread-safe: the files are read again at each Fetch (the caching provider above decides
// how often that is).
#pragma once

#include <filesystem>

#include "aws/credentials_provider.h"
#include "common/environment.h"

namespace trainyard::aws {

class SharedFilesProvider : public CredentialsProvider {
 public:
  SharedFilesProvider(EnvironmentMap environment, std::filesystem::path home)
      : environment_(std::move(environment)), home_(std::move(home)) {}

  // The first file whose profile has aws_access_key_id and aws_secret_access_key (plus
  // aws_session_token when present). NotFound when neither file has the profile's keys;
  // InvalidArgument when a file is malformed or a profile holds only one of the two keys.
  Result<TimedCredentials> Fetch() override;

 private:
  EnvironmentMap environment_;
  std::filesystem::path home_;
};

// AWS_REGION, then AWS_DEFAULT_REGION, then `region` in the profile's section of the config file
// (the credentials file holds no region for the SDKs). NotFound naming every place it looked;
// InvalidArgument when the config file is malformed.
Result<std::string> ResolveRegion(const EnvironmentMap& environment,
                                  const std::filesystem::path& home);

}  // namespace trainyard::aws
