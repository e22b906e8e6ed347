// The small blocking HTTP client over libcurl that the container and IMDS credential providers
// use, and the slurm executor's REST transport (slurmrestd) with it: one request, one answer, no
// proxy, no redirects. Thread-safe (one easy handle per call).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trainyard::aws {

struct MetadataRequest {
  std::string method = "GET";  // "GET", "PUT", "POST", "DELETE", ...
  std::string url;
  std::string body;  // sent when not empty (give its Content-Type in `headers`)
  // Sent as given. Their values (tokens) never appear in an error.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{1000};
  int attempts = 1;  // tries on a transport error or a 5xx answer
  // A longer answer fails the call (Unavailable): a credentials document is a few KB.
  size_t max_response_bytes = 1 << 20;
};

struct MetadataResponse {
  long status = 0;
  std::string body;
};

// Any HTTP answer is a response (the caller judges its status). A transport failure (refused,
// timed out, unresolvable) is Unavailable, or DeadlineExceeded for a timeout, naming the method,
// URL and curl's reason. No proxy is used (a proxy must never see a link-local metadata call) and
// redirects are not followed.
Result<MetadataResponse> SendMetadataRequest(const MetadataRequest& request);

// The URL as it may appear in a message: without user info ("user:pass@") or query string,
// either of which can carry a secret.
std::string RedactUrl(const std::string& url);

struct UrlParts {
  std::string scheme;  // lower case: "http", "https"
  std::string host;    // as curl reports it: "127.0.0.1", "localhost", "[::1]"
};

// InvalidArgument (naming the URL) when curl cannot parse it.
Result<UrlParts> SplitUrl(const std::string& url);

}  // namespace trainyard::aws
