// SigV4 checking for the S3 endpoint: both the Authorization header form and presigned URLs
// (X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders/Signature in the query), recomputed
// with aws/sigv4.h under S3's rules and compared in constant time. Internal; thread-safe.
//
// Errors are S3's: AccessDenied (no signature, expired presign), InvalidAccessKeyId,
// SignatureDoesNotMatch, RequestTimeTooSkewed, AuthorizationHeaderMalformed,
// AuthorizationQueryParametersError, InvalidRequest (no x-amz-content-sha256). Their messages
// name access key ids, scopes and dates, never a secret.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "aws/sigv4.h"
#include "common/time_format.h"
#include "server/http/http_server.h"
#include "server/s3/s3_error.h"

namespace trainyard::server::s3 {

inline constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";
inline constexpr char kStreamingSignedPayload[] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

struct AuthenticatedRequest {
  std::string access_key_id;
  // What the client declared about the body: 64 lowercase hex digits (verify while reading),
  // "UNSIGNED-PAYLOAD", or a STREAMING-... mode (aws-chunked body).
  std::string payload_sha256;
  // For STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the parameters and the request's signature, which
  // seed the chain of chunk signatures.
  aws::SigningParams signing;
  std::string seed_signature;
};

struct AuthOptions {
  const std::map<std::string, std::string>* secret_by_access_key_id = nullptr;
  std::chrono::seconds max_clock_skew{900};
  TimePoint now;
};

// Checks the request's signature. nullopt (and `out` filled) when it is valid.
S3Outcome Authenticate(const HttpRequest& request, const AuthOptions& options,
                       AuthenticatedRequest& out);

// "20150830T123600Z" as a time point; nullopt when malformed.
std::optional<TimePoint> ParseAmzDate(const std::string& text);

// Whether two strings are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// The raw query string's name/value pairs, percent-decoded ('+' kept), in order.
std::vector<std::pair<std::string, std::string>> DecodeQueryPairs(const std::string& target);

}  // namespace trainyard::server::s3
