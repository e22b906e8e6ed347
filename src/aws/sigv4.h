// AWS Signature Version 4 (AWS4-HMAC-SHA256): signs an HTTP request with an Authorization header
// (SignWithHeaders) or as a presigned URL query (PresignQuery).
//
// Every function here is pure and thread-safe. The stages (CanonicalRequest, StringToSign,
// Signature) are public so that tests can compare each one with the published vectors.
// Failures (missing credentials, region, service or payload hash; bad expiry) are InvalidArgument
// naming the field. Nothing here logs; the secret and the session token never leave these
// functions except as the session token header/parameter the protocol requires.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The request as it will go on the wire.
struct HttpRequestToSign {
  std::string method;  // "GET", "PUT", ...
  // The path as on the wire, already percent-encoded where it needs to be ("/test%24file.text").
  std::string path;
  // DECODED name/value pairs ("a b" not "a%20b"), in any order; the signer encodes and sorts
  // them. A parameter without '=' ("?lifecycle") is a pair with an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // As given: any case, duplicates allowed (they are joined in order). Must include Host.
  HeaderList headers;
  // Lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_sha256_hex;
};

struct SigningParams {
  Credentials credentials;
  std::string region;   // "us-east-1"
  std::string service;  // "s3", "sagemaker", ...
  TimePoint time;       // The signing time; whole seconds are used.
  // S3's variant: the path is neither normalised nor encoded a second time, and the
  // x-amz-content-sha256 header is added and signed.
  bool s3_rules = false;
  // For other services: add and sign x-amz-content-sha256 too (the CRT's "sign_body").
  bool sign_payload_header = false;
  // Remove "." / ".." / empty path segments before encoding (ignored under s3_rules, which never
  // normalises: "a//b" is a distinct S3 key).
  bool normalize_path = true;
  // Some services (IoT) want the session token added after signing, outside the signature.
  bool omit_session_token = false;
};

// The lowercase, sorted names of the signed headers.
struct SignedHeaderSet {
  std::vector<std::string> names;
  std::string ToString() const;  // "host;x-amz-date"
};

// "a=1&b=" : encoded with UriEncode(.., true), sorted by encoded name then value.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// The headers CanonicalRequest would sign for these request headers.
SignedHeaderSet SignedHeadersOf(const HeaderList& headers);

// The canonical request of SigV4's task 1, over exactly the headers and query in `request` (it
// adds nothing). `signed_headers`, when not null, receives the names it signed.
std::string CanonicalRequest(const HttpRequestToSign& request, const SigningParams& params,
                             SignedHeaderSet* signed_headers);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
std::string StringToSign(const std::string& canonical_request, const SigningParams& params);

// Lowercase hex HMAC of the string to sign under the key derived from the secret, day, region and
// service.
std::string Signature(const std::string& string_to_sign, const SigningParams& params);

// "20150830/us-east-1/service/aws4_request".
std::string CredentialScope(const SigningParams& params);

struct SignedRequest {
  // To add to the request (replacing any of the same name): X-Amz-Date, x-amz-content-sha256
  // (S3 or sign_payload_header), X-Amz-Security-Token (with a session token), Authorization.
  HeaderList headers_to_add;
  // The intermediate stages, for tests and debugging; they hold no secret.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Signs with an Authorization header. Headers of the request named like the ones it adds are
// ignored (re-signing a request replaces its old signature).
Result<SignedRequest> SignWithHeaders(HttpRequestToSign request, const SigningParams& params);

struct PresignedQuery {
  // The whole query string to send, encoded: the request's own parameters and the X-Amz-*
  // ones in canonical order, then X-Amz-Signature (and, with omit_session_token, the token).
  std::string query_string;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Maximum presigned-URL lifetime AWS accepts: 7 days.
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};

// Presigns: the signature goes into the query, the headers (normally only Host) are signed as
// given. `expires` must be 1..604800 seconds (else InvalidArgument naming X-Amz-Expires).
Result<PresignedQuery> Presign(HttpRequestToSign request, const SigningParams& params,
                               std::chrono::seconds expires);

// Presign(...).query_string.
Result<std::string> PresignQuery(HttpRequestToSign request, const SigningParams& params,
                                 std::chrono::seconds expires);

}  // namespace trainyard::aws
