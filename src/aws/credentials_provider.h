// Where the signer's credentials come from: one interface, the providers of the AWS SDKs'
// default chain (environment_provider.h, shared_files_provider.h, container_provider.h,
// imds_provider.h) and the chain and cache over them (credentials_chain.h).
//
// Error policy shared by every provider: NotFound means "this source is not configured here" (the
// chain goes on to the next source); any other code means the source is configured but broken
// (the chain stops, as the SDKs do, rather than silently switching to another identity).
// Messages name files, variables, URLs and HTTP statuses, never a secret key, session token or
// authorization token.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::aws {

struct TimedCredentials {
  Credentials credentials;
  // When the credentials stop working; nullopt for long-term keys.
  std::optional<TimePoint> expiration;
  // Where they came from, for logs: "environment", "shared-credentials-file:NAME",
  // "shared-config-file:NAME", "container", "imds". Never holds a secret.
  std::string source;
};

// Implementations say whether they are thread-safe; the caching provider is.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<TimedCredentials> Fetch() = 0;
};

using CredentialsProviderPtr = std::unique_ptr<CredentialsProvider>;

// The current time; injectable so that tests can drive expiry.
using Clock = std::function<TimePoint()>;

}  // namespace trainyard::aws
