// The JSON document the container endpoint and IMDS both answer with, and the ISO 8601 times in
// it. Internal to trainyard_aws; thread-safe (pure functions).
#pragma once

#include <string>

#include "aws/credentials_provider.h"

namespace trainyard::aws {

// "2016-02-25T06:03:31Z", "2016-02-25T06:03:31.120Z" or "2016-02-25T06:03:31+00:00".
// InvalidArgument (quoting the text: it is never a secret) otherwise.
Result<TimePoint> ParseIso8601Utc(const std::string& text);

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"} (IMDS adds "Code": "Success").
// `what` names the document in errors ("container endpoint http://..."). Errors never quote the
// body, which may hold the secret; they name the missing or mistyped field.
Result<TimedCredentials> ParseJsonCredentials(const std::string& body, const std::string& what,
                                              const std::string& source);

}  // namespace trainyard::aws
