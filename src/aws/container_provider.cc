#include "aws/container_provider.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "aws/json_credentials.h"
#include "aws/metadata_http.h"

namespace trainyard::aws {

namespace {

// The Authorization header value, "" when none is configured.
Result<std::string> AuthorizationToken(const EnvironmentMap& environment) {
  std::string token;
  if (std::string path = EnvironmentValue(environment, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
      !path.empty()) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return InvalidArgument("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + path + " cannot be read");
    }
    std::ostringstream text;
    text << file.rdbuf();
    token = text.str();
    // A token file written by `echo` ends with a newline that is not part of the token.
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  } else {
    token = EnvironmentValue(environment, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  // A line break would let the value inject headers; the SDKs reject such a value too.
  if (token.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgument("the container authorization token contains a line break");
  }
  return token;
}

}  // namespace

bool IsAllowedHttpContainerHost(const std::string& host) {
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  in6_addr v6{}, loopback{}, eks{};
  if (::inet_pton(AF_INET6, bare.c_str(), &v6) != 1) return false;
  ::inet_pton(AF_INET6, "::1", &loopback);
  ::inet_pton(AF_INET6, "fd00:ec2::23", &eks);
  return std::equal(v6.s6_addr, v6.s6_addr + 16, loopback.s6_addr) ||
         std::equal(v6.s6_addr, v6.s6_addr + 16, eks.s6_addr);
}

Result<TimedCredentials> ContainerProvider::Fetch() {
  std::string relative = EnvironmentValue(environment_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::string full = EnvironmentValue(environment_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  std::string url;
  if (!relative.empty()) {
    url = options_.relative_uri_base + relative;
  } else if (!full.empty()) {
    auto parts = SplitUrl(full);
    if (!parts.ok()) return parts.status().WithContext("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    // The token goes to whatever host this names, so plain http must stay on this machine (or
    // reach the ECS/EKS agents); anything else needs TLS.
    if (parts->scheme != "https" &&
        !(parts->scheme == "http" && IsAllowedHttpContainerHost(parts->host))) {
      return InvalidArgument("AWS_CONTAINER_CREDENTIALS_FULL_URI " + RedactUrl(full) +
                             " is refused: it must use https, or http to a loopback address, "
                             "169.254.170.2 or 169.254.170.23");
    }
    url = full;
  } else {
    return NotFound(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not "
        "set");
  }
  TY_ASSIGN_OR_RETURN(std::string token, AuthorizationToken(environment_));
  MetadataRequest request;
  request.url = url;
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.attempts = options_.attempts;
  if (!token.empty()) request.headers.emplace_back("Authorization", token);
  request.headers.emplace_back("Accept", "application/json");
  TY_ASSIGN_OR_RETURN(MetadataResponse response, SendMetadataRequest(request));
  // The body of an error answer is not quoted: nothing guarantees it holds no secret.
  std::string what = "container credentials endpoint " + RedactUrl(url);
  if (response.status == 401 || response.status == 403) {
    return Status(StatusCode::kUnauthenticated,
                  what + " answered HTTP " + std::to_string(response.status) +
                      (token.empty() ? " (no authorization token was configured)"
                                     : " (the authorization token was refused)"));
  }
  if (response.status != 200) {
    return Unavailable(what + " answered HTTP " + std::to_string(response.status));
  }
  return ParseJsonCredentials(response.body, what, "container");
}

}  // namespace trainyard::aws
