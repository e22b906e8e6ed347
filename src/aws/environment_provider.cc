#include "aws/environment_provider.h"

#include "aws/json_credentials.h"

namespace trainyard::aws {

Result<TimedCredentials> EnvironmentProvider::Fetch() {
  TimedCredentials result;
  result.source = "environment";
  result.credentials.access_key_id = EnvironmentValue(environment_, "AWS_ACCESS_KEY_ID");
  result.credentials.secret_access_key = EnvironmentValue(environment_, "AWS_SECRET_ACCESS_KEY");
  if (result.credentials.access_key_id.empty() && result.credentials.secret_access_key.empty()) {
    return NotFound("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (result.credentials.access_key_id.empty()) {
    return InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  if (result.credentials.secret_access_key.empty()) {
    return InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  // botocore still reads AWS_SECURITY_TOKEN, the boto2-era name, when AWS_SESSION_TOKEN is unset.
  result.credentials.session_token = EnvironmentValue(environment_, "AWS_SESSION_TOKEN");
  if (result.credentials.session_token.empty()) {
    result.credentials.session_token = EnvironmentValue(environment_, "AWS_SECURITY_TOKEN");
  }
  // botocore (and the CLI's credential_process export) also read the expiry of temporary keys.
  if (std::string expiration = EnvironmentValue(environment_, "AWS_CREDENTIAL_EXPIRATION");
      !expiration.empty()) {
    auto parsed = ParseIso8601Utc(expiration);
    if (!parsed.ok()) return parsed.status().WithContext("AWS_CREDENTIAL_EXPIRATION");
    result.expiration = *parsed;
  }
  return result;
}

}  // namespace trainyard::aws
