// Why the checks run in this order: S3 reports a malformed header before an unknown key, an
// unknown key before a skewed clock, and a skewed clock before a wrong signature, and clients
// (botocore) react to RequestTimeTooSkewed by correcting their clock and retrying.
#include "server/s3/s3_auth.h"

#include <ctime>

#include "aws/amz_date.h"
#include "aws/uri_encode.h"

namespace trainyard::server::s3 {
namespace {

S3Error Malformed(const std::string& message) {
  return MakeError(400, "AuthorizationHeaderMalformed",
                   "The authorization header is malformed; " + message);
}

S3Error QueryError(const std::string& message) {
  return MakeError(400, "AuthorizationQueryParametersError", message);
}

bool IsLowerHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Trim(const std::string& text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

struct Scope {
  std::string access_key_id, day, region, service;
};

// "AKID/20150830/us-east-1/s3/aws4_request"
std::optional<Scope> ParseCredential(const std::string& credential) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = credential.find('/', start);
    parts.push_back(credential.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty()) return std::nullopt;
  return Scope{parts[0], parts[1], parts[2], parts[3]};
}

std::vector<std::string> SplitSignedHeaders(const std::string& text) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= text.size()) {
    size_t semicolon = text.find(';', start);
    if (semicolon == std::string::npos) semicolon = text.size();
    if (semicolon > start) names.push_back(text.substr(start, semicolon - start));
    start = semicolon + 1;
  }
  return names;
}

// Everything both forms share once their parts are parsed: key, scope, clock, signature.
struct Claim {
  Scope scope;
  std::string date_text;
  std::string signed_headers;
  std::string signature;
  std::vector<std::pair<std::string, std::string>> query;  // without X-Amz-Signature
  std::string payload_sha256;
  bool presigned = false;
  std::chrono::seconds expires{0};
};

S3Outcome Verify(const HttpRequest& request, const AuthOptions& options, const Claim& claim,
                 AuthenticatedRequest& out) {
  auto secret = options.secret_by_access_key_id->find(claim.scope.access_key_id);
  if (secret == options.secret_by_access_key_id->end()) {
    return MakeError(403, "InvalidAccessKeyId",
                     "The AWS Access Key Id you provided does not exist in our records: '" +
                         claim.scope.access_key_id + "'");
  }
  if (claim.scope.service != "s3") {
    return Malformed("the credential scope's service must be 's3', not '" + claim.scope.service +
                     "'");
  }
  std::optional<TimePoint> date = ParseAmzDate(claim.date_text);
  if (!date) {
    return claim.presigned
               ? QueryError("X-Amz-Date must be YYYYMMDDTHHMMSSZ, got '" + claim.date_text + "'")
               : MakeError(403, "AccessDenied",
                           "AWS authentication requires a valid x-amz-date header, "
                           "got '" +
                               claim.date_text + "'");
  }
  if (aws::FormatAmzDay(*date) != claim.scope.day) {
    return Malformed("the credential scope's date '" + claim.scope.day +
                     "' is not the day of the request date '" + claim.date_text + "'");
  }
  auto skew = std::chrono::duration_cast<std::chrono::seconds>(options.now - *date);
  if (claim.presigned) {
    if (-skew > options.max_clock_skew) {
      return MakeError(403, "AccessDenied",
                       "Request is not valid yet (X-Amz-Date " + claim.date_text + ")");
    }
    if (skew > claim.expires) {
      return MakeError(403, "AccessDenied",
                       "Request has expired (X-Amz-Date " + claim.date_text + ", X-Amz-Expires " +
                           std::to_string(claim.expires.count()) + ")");
    }
  } else if (skew > options.max_clock_skew || -skew > options.max_clock_skew) {
    return MakeError(403, "RequestTimeTooSkewed",
                     "The difference between the request time (" + claim.date_text +
                         ") and the server's time (" + aws::FormatAmzDate(options.now) +
                         ") is too large");
  }

  aws::HttpRequestToSign to_sign;
  to_sign.method = request.method;
  to_sign.path = request.target.substr(0, request.target.find('?'));
  to_sign.query = claim.query;
  to_sign.payload_sha256_hex = claim.payload_sha256;
  std::vector<std::string> names = SplitSignedHeaders(claim.signed_headers);
  bool signs_host = false;
  for (const std::string& name : names) {
    auto header = request.headers.find(name);
    if (header == request.headers.end()) {
      return MakeError(403, "SignatureDoesNotMatch",
                       "the signed header '" + name + "' is not in the request");
    }
    to_sign.headers.emplace_back(name, header->second);
    signs_host = signs_host || name == "host";
  }
  if (!signs_host) return Malformed("SignedHeaders must include 'host'");

  aws::SigningParams params;
  params.credentials.access_key_id = claim.scope.access_key_id;
  params.credentials.secret_access_key = secret->second;
  params.region = claim.scope.region;
  params.service = "s3";
  params.time = *date;
  params.s3_rules = true;
  aws::SignedHeaderSet canonical_names;
  std::string canonical = aws::CanonicalRequest(to_sign, params, &canonical_names);
  std::string expected = aws::Signature(aws::StringToSign(canonical, params), params);
  if (canonical_names.ToString() != claim.signed_headers ||
      !ConstantTimeEquals(expected, claim.signature)) {
    return MakeError(403, "SignatureDoesNotMatch",
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your key and signing method. The canonical request was:\n" +
                         canonical);
  }
  out.access_key_id = claim.scope.access_key_id;
  out.payload_sha256 = claim.payload_sha256;
  out.signing = params;
  out.seed_signature = expected;
  return std::nullopt;
}

S3Outcome ParseHeaderClaim(const HttpRequest& request, const std::string& authorization,
                           Claim& claim) {
  const std::string algorithm = "AWS4-HMAC-SHA256 ";
  if (authorization.compare(0, algorithm.size(), algorithm) != 0) {
    return MakeError(400, "InvalidRequest",
                     "Only AWS4-HMAC-SHA256 (SigV4) signatures are supported");
  }
  std::map<std::string, std::string> fields;
  std::string rest = authorization.substr(algorithm.size());
  size_t start = 0;
  while (start < rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    std::string field = Trim(rest.substr(start, comma - start));
    size_t equals = field.find('=');
    if (equals != std::string::npos) fields[field.substr(0, equals)] = field.substr(equals + 1);
    start = comma + 1;
  }
  for (const char* name : {"Credential", "SignedHeaders", "Signature"}) {
    if (fields[name].empty()) return Malformed(std::string("it has no ") + name);
  }
  std::optional<Scope> scope = ParseCredential(fields["Credential"]);
  if (!scope) {
    return Malformed("Credential must be KEYID/YYYYMMDD/REGION/s3/aws4_request, got '" +
                     fields["Credential"] + "'");
  }
  claim.scope = *scope;
  claim.signed_headers = fields["SignedHeaders"];
  claim.signature = fields["Signature"];
  claim.date_text = request.Header("x-amz-date");
  claim.query = DecodeQueryPairs(request.target);
  claim.payload_sha256 = request.Header("x-amz-content-sha256");
  if (claim.payload_sha256.empty()) {
    return MakeError(400, "InvalidRequest",
                     "Missing required header for this request: x-amz-content-sha256");
  }
  if (!IsLowerHex64(claim.payload_sha256) && claim.payload_sha256 != kUnsignedPayload &&
      claim.payload_sha256.rfind("STREAMING-", 0) != 0) {
    return MakeError(400, "InvalidArgument",
                     "x-amz-content-sha256 must be the body's lowercase hex SHA-256, "
                     "UNSIGNED-PAYLOAD or a STREAMING- mode, got '" +
                         claim.payload_sha256 + "'");
  }
  return std::nullopt;
}

S3Outcome ParseQueryClaim(const HttpRequest& request, Claim& claim) {
  std::map<std::string, std::string> amz;
  for (auto& [name, value] : DecodeQueryPairs(request.target)) {
    if (name.rfind("X-Amz-", 0) == 0) amz[name] = value;
    if (name != "X-Amz-Signature") claim.query.emplace_back(name, value);
  }
  if (amz["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256") {
    return QueryError("X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'");
  }
  for (const char* name : {"X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                           "X-Amz-Signature"}) {
    if (amz[name].empty()) return QueryError(std::string("the query has no ") + name);
  }
  std::optional<Scope> scope = ParseCredential(amz["X-Amz-Credential"]);
  if (!scope) {
    return QueryError("X-Amz-Credential must be KEYID/YYYYMMDD/REGION/s3/aws4_request, got '" +
                      amz["X-Amz-Credential"] + "'");
  }
  const std::string& expires = amz["X-Amz-Expires"];
  long long seconds = 0;
  try {
    size_t used = 0;
    seconds = std::stoll(expires, &used);
    if (used != expires.size()) seconds = 0;
  } catch (const std::exception&) {
    seconds = 0;
  }
  if (seconds < 1 || seconds > aws::kMaxPresignExpiry.count()) {
    return QueryError("X-Amz-Expires must be a number of seconds from 1 to 604800, got '" +
                      expires + "'");
  }
  claim.scope = *scope;
  claim.presigned = true;
  claim.expires = std::chrono::seconds(seconds);
  claim.date_text = amz["X-Amz-Date"];
  claim.signed_headers = amz["X-Amz-SignedHeaders"];
  claim.signature = amz["X-Amz-Signature"];
  claim.payload_sha256 = request.Header("x-amz-content-sha256");
  if (claim.payload_sha256.empty()) claim.payload_sha256 = kUnsignedPayload;
  return std::nullopt;
}

}  // namespace

std::optional<TimePoint> ParseAmzDate(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  parts.tm_mon = std::stoi(text.substr(4, 2)) - 1;
  parts.tm_mday = std::stoi(text.substr(6, 2));
  parts.tm_hour = std::stoi(text.substr(9, 2));
  parts.tm_min = std::stoi(text.substr(11, 2));
  parts.tm_sec = std::stoi(text.substr(13, 2));
  if (parts.tm_mon > 11 || parts.tm_mday < 1 || parts.tm_mday > 31 || parts.tm_hour > 23 ||
      parts.tm_min > 59 || parts.tm_sec > 60) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

std::vector<std::pair<std::string, std::string>> DecodeQueryPairs(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t question = target.find('?');
  if (question == std::string::npos) return pairs;
  std::string query = target.substr(question + 1);
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    size_t equals = pair.find('=');
    std::string name = pair.substr(0, equals);
    std::string value = equals == std::string::npos ? "" : pair.substr(equals + 1);
    pairs.emplace_back(aws::UriDecode(name), aws::UriDecode(value));
  }
  return pairs;
}

S3Outcome Authenticate(const HttpRequest& request, const AuthOptions& options,
                       AuthenticatedRequest& out) {
  Claim claim;
  const std::string& authorization = request.Header("authorization");
  S3Outcome parsed;
  if (!authorization.empty()) {
    parsed = ParseHeaderClaim(request, authorization, claim);
  } else if (request.query.count("X-Amz-Algorithm") || request.query.count("X-Amz-Signature")) {
    parsed = ParseQueryClaim(request, claim);
  } else if (request.query.count("AWSAccessKeyId") && request.query.count("Signature")) {
    // botocore before 1.36 presigns us-east-1 URLs with SigV2 unless told otherwise.
    return MakeError(403, "AccessDenied",
                     "SigV2 presigned URLs are not supported; presign with SigV4 (boto3: "
                     "botocore.config.Config(signature_version='s3v4'))");
  } else {
    return MakeError(403, "AccessDenied",
                     "Access Denied: anonymous requests are not allowed; sign with SigV4");
  }
  if (parsed) return parsed;
  return Verify(request, options, claim, out);
}

}  // namespace trainyard::server::s3
