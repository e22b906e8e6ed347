// A POST over plain HTTP/1.1 on a connection of its own: how trainyard-wrap reports to an
// http:// callback without loading libcurl.
//
// Loading libcurl (and its TLS, Kerberos, LDAP, SSH and IDN libraries) takes 20-35 ms, paid by
// every job that reports anything, before its first report: a quarter of a short trial's life
// and most of the way to its first progress event. A callback in plain HTTP (the server on the
// same host or network) needs none of it. https:// URLs and callbacks through a proxy still go
// through libcurl (progress_reporter.cc chooses).
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::wrapper {

struct HttpUrl {
  std::string host;         // a name, an IPv4 address, or an IPv6 address without its brackets
  std::string port;         // "80" when the URL names none
  std::string target;       // path and query: "/api/v1/jobs/j/progress"
  std::string host_header;  // as sent in Host: "127.0.0.1:8080", "[::1]:8080"
};

// The parts of an "http://host[:port][/path][?query]" URL; nullopt for any other scheme, for
// user information, or for what is not such a URL.
std::optional<HttpUrl> ParseHttpUrl(const std::string& url);

struct PostOutcome {
  long status = 0;    // the response's status code; 0 when no response came
  std::string error;  // why no response came (connection refused, timed out, abandoned...)
};

struct PostRequest {
  HttpUrl url;
  std::vector<std::string> headers;  // "Name: value", beside Host, Content-Length, Connection
  std::string body;
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds timeout{10'000};  // the whole exchange, connecting included
};

// Sends `request` with "Connection: close" and reads the answer's status line and headers, and
// its body up to Content-Length or the end of the connection (discarded). Gives up as soon as
// `abandon` turns true (checked at least every 100 ms).
PostOutcome PostPlainHttp(const PostRequest& request, const std::atomic<bool>& abandon);

}  // namespace trainyard::wrapper
