#include "aws/ecr_authorization.h"

#include <cmath>

#include "aws/crypto.h"

namespace trainyard::aws {
namespace {

constexpr char kOperation[] = "GetAuthorizationToken";

Status Malformed(const std::string& what) {
  return Unavailable(std::string(kOperation) + ": the answer's " + what);
}

}  // namespace

Result<EcrRegistry> ParseEcrRegistryHost(const std::string& host) {
  std::string name = host.substr(0, host.find(':'));
  const std::string middle = ".dkr.ecr.", tail = ".amazonaws.com";
  size_t middle_at = name.find(middle);
  bool ok =
      middle_at == 12 && name.substr(0, 12).find_first_not_of("0123456789") == std::string::npos;
  EcrRegistry registry;
  if (ok) {
    registry.account = name.substr(0, 12);
    std::string rest = name.substr(middle_at + middle.size());
    ok = rest.size() > tail.size() &&
         rest.compare(rest.size() - tail.size(), tail.size(), tail) == 0;
    if (ok) registry.region = rest.substr(0, rest.size() - tail.size());
    ok = ok && !registry.region.empty() && registry.region.find('.') == std::string::npos;
  }
  if (!ok) {
    return InvalidArgument("'" + host +
                           "' is no ECR registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com, with a "
                           "12-digit account)");
  }
  return registry;
}

JsonServiceOptions EcrServiceOptions(const std::string& region, const std::string& endpoint,
                                     std::shared_ptr<CredentialsProvider> credentials) {
  JsonServiceOptions options;
  options.target_prefix = kEcrTargetPrefix;
  options.signing_name = "ecr";
  options.endpoint_host_prefix = "api.ecr";
  options.region = region;
  options.endpoint = endpoint;
  options.credentials = std::move(credentials);
  return options;
}

nlohmann::json GetAuthorizationTokenInput(const std::string& registry_id) {
  return {{"registryIds", nlohmann::json::array({registry_id})}};
}

Result<EcrAuthorization> ParseAuthorizationData(const nlohmann::json& output) {
  if (!output.is_object() || !output.contains("authorizationData") ||
      !output["authorizationData"].is_array() || output["authorizationData"].empty() ||
      !output["authorizationData"][0].is_object()) {
    return Malformed("authorizationData is missing or empty");
  }
  const nlohmann::json& data = output["authorizationData"][0];
  if (!data.contains("authorizationToken") || !data["authorizationToken"].is_string()) {
    return Malformed("authorizationToken is missing");
  }
  std::optional<std::string> decoded = Base64Decode(data["authorizationToken"].get<std::string>());
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (!decoded || colon == 0 || colon == std::string::npos || colon + 1 == decoded->size()) {
    return Malformed("authorizationToken is not base64 of USER:PASSWORD");
  }
  EcrAuthorization authorization;
  authorization.username = decoded->substr(0, colon);
  authorization.password = decoded->substr(colon + 1);
  const nlohmann::json expires = data.value("expiresAt", nlohmann::json());
  if (expires.is_number()) {
    // The JSON protocol writes timestamps as epoch seconds, with a fraction.
    double seconds = expires.get<double>();
    if (!std::isfinite(seconds) || seconds <= 0) return Malformed("expiresAt is not a time");
    // To the millisecond, as AWS writes them (a double has no exact nanoseconds for them).
    authorization.expires_at = TimePoint(
        std::chrono::round<std::chrono::milliseconds>(std::chrono::duration<double>(seconds)));
  } else if (expires.is_string()) {
    std::optional<TimePoint> parsed = ParseIso8601(expires.get<std::string>());
    if (!parsed) return Malformed("expiresAt is not a time");
    authorization.expires_at = *parsed;
  } else {
    return Malformed("expiresAt is missing");
  }
  authorization.proxy_endpoint = data.value("proxyEndpoint", "");
  return authorization;
}

Result<EcrAuthorization> GetEcrAuthorization(JsonServiceClient& client,
                                             const std::string& registry_id) {
  JsonCallResult result = client.Call(kOperation, GetAuthorizationTokenInput(registry_id));
  if (!result.ok()) return result.status;
  return ParseAuthorizationData(result.output);
}

}  // namespace trainyard::aws
