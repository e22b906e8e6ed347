// AWS credentials as the signer needs them. A plain value type; copy freely.
//
// Deliberately has no operator<< or ToString: the secret and the session token must never reach a
// log line by accident.
#pragma once

#include <string>

namespace trainyard::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // Empty for long-term credentials.
};

}  // namespace trainyard::aws
