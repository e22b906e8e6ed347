#include "aws/imds_provider.h"

#include <algorithm>
#include <cctype>

#include "aws/json_credentials.h"
#include "aws/metadata_http.h"

namespace trainyard::aws {

namespace {

constexpr char kCredentialsPath[] = "/latest/meta-data/iam/security-credentials/";

bool IsTrue(const std::string& value) {
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == "true";
}

}  // namespace

Result<TimedCredentials> ImdsProvider::Fetch() {
  if (IsTrue(EnvironmentValue(environment_, "AWS_EC2_METADATA_DISABLED"))) {
    return NotFound("IMDS is disabled by AWS_EC2_METADATA_DISABLED");
  }
  std::string endpoint = EnvironmentValue(environment_, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();

  MetadataRequest request;
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.attempts = options_.attempts;

  request.method = "PUT";
  request.url = endpoint + "/latest/api/token";
  request.headers = {
      {"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options_.token_ttl.count())}};
  auto token_response = SendMetadataRequest(request);
  if (!token_response.ok()) {
    // Off EC2 nothing listens there: that is "not configured", so the chain may go on.
    return NotFound("no instance metadata service: " + token_response.status().message());
  }
  std::string token;
  long status = token_response->status;
  if (status == 200) {
    token = token_response->body;
  } else if (status == 403 || status == 404 || status == 405) {
    if (IsTrue(EnvironmentValue(environment_, "AWS_EC2_METADATA_V1_DISABLED"))) {
      return Status(StatusCode::kUnauthenticated,
                    "IMDS at " + endpoint + " refused the IMDSv2 token request (HTTP " +
                        std::to_string(status) + ") and AWS_EC2_METADATA_V1_DISABLED is true");
    }
    // Left empty: the SDKs' IMDSv1 fallback, the same GETs without a token.
  } else {
    return Unavailable("IMDS token request PUT " + request.url + " answered HTTP " +
                       std::to_string(status));
  }

  request.method = "GET";
  request.headers.clear();
  if (!token.empty()) request.headers.emplace_back("X-aws-ec2-metadata-token", token);
  auto get = [&](const std::string& path) -> Result<MetadataResponse> {
    request.url = endpoint + path;
    TY_ASSIGN_OR_RETURN(MetadataResponse response, SendMetadataRequest(request));
    if (response.status == 404) {
      return NotFound("IMDS has no " + path + " (no IAM role is attached to this instance)");
    }
    if (response.status == 401 || response.status == 403) {
      return Status(StatusCode::kUnauthenticated,
                    "IMDS refused GET " + path + " (HTTP " + std::to_string(response.status) +
                        (token.empty() ? ", without an IMDSv2 token)" : ", with an IMDSv2 token)"));
    }
    if (response.status != 200) {
      return Unavailable("IMDS answered GET " + path + " with HTTP " +
                         std::to_string(response.status));
    }
    return response;
  };

  TY_ASSIGN_OR_RETURN(MetadataResponse roles, get(kCredentialsPath));
  // One role per line; an instance profile has exactly one.
  std::string role = roles.body.substr(0, roles.body.find('\n'));
  while (!role.empty() && std::isspace(static_cast<unsigned char>(role.back()))) role.pop_back();
  if (role.empty()) return NotFound("IMDS lists no IAM role for this instance");
  std::string role_path = std::string(kCredentialsPath) + role;
  TY_ASSIGN_OR_RETURN(MetadataResponse document, get(role_path));
  return ParseJsonCredentials(document.body, "IMDS " + role_path, "imds");
}

}  // namespace trainyard::aws
