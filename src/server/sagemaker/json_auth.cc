// The checks run in AWS's order: a malformed header (IncompleteSignatureException) before an
// unknown key (UnrecognizedClientException), then the credential scope, then the clock, then
// the signature (all InvalidSignatureException). The texts are AWS's, so that clients and
// people searching for them find the usual explanations; a skewed clock in particular must read
// "Signature expired: ..." because botocore recognises it and corrects its clock.
#include "server/sagemaker/json_auth.h"

#include <vector>

#include "aws/amz_date.h"
#include "aws/crypto.h"
#include "aws/sigv4.h"
#include "server/s3/s3_auth.h"

namespace trainyard::server::sagemaker {
namespace {

JsonError AuthError(std::string code, std::string message) {
  return JsonError{kAuthFailureHttpStatus, std::move(code), std::move(message)};
}

JsonError InvalidSignature(std::string message) {
  return AuthError("InvalidSignatureException", std::move(message));
}

std::string Trim(const std::string& text) {
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

struct Claim {
  std::string access_key_id, day, region, service, terminator;
  std::string signed_headers, signature, date_text;
};

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sagemaker/aws4_request,
//  SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=..."
std::optional<JsonError> ParseClaim(const HttpRequest& request, const std::string& authorization,
                                    Claim& claim) {
  const std::string algorithm = "AWS4-HMAC-SHA256 ";
  if (authorization.compare(0, algorithm.size(), algorithm) != 0) {
    return AuthError("IncompleteSignatureException",
                     "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is supported. "
                     "Authorization=" +
                         authorization);
  }
  std::map<std::string, std::string> fields;
  for (const std::string& part : Split(authorization.substr(algorithm.size()), ',')) {
    std::string field = Trim(part);
    size_t equals = field.find('=');
    if (equals != std::string::npos) fields[field.substr(0, equals)] = field.substr(equals + 1);
  }
  std::string missing;
  for (const char* name : {"Credential", "Signature", "SignedHeaders"}) {
    if (fields[name].empty()) {
      missing += std::string("Authorization header requires '") + name + "' parameter. ";
    }
  }
  claim.date_text = request.Header("x-amz-date");
  if (claim.date_text.empty()) {
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
        "header. ";
  }
  if (!missing.empty()) {
    return AuthError("IncompleteSignatureException", missing + "Authorization=" + authorization);
  }
  std::vector<std::string> scope = Split(fields["Credential"], '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return AuthError("IncompleteSignatureException",
                     "Credential must have exactly 5 slash-delimited elements, e.g. "
                     "keyid/date/region/service/term, got '" +
                         fields["Credential"] + "'");
  }
  claim.access_key_id = scope[0];
  claim.day = scope[1];
  claim.region = scope[2];
  claim.service = scope[3];
  claim.terminator = scope[4];
  claim.signed_headers = fields["SignedHeaders"];
  claim.signature = fields["Signature"];
  return std::nullopt;
}

// AWS lists every problem of the scope in one message.
std::optional<JsonError> CheckScope(const Claim& claim, const std::string& service,
                                    const JsonAuthOptions& options, TimePoint date) {
  std::string problems;
  if (claim.region != options.region) {
    problems += "Credential should be scoped to a valid region, not '" + claim.region + "'. ";
  }
  if (!service.empty() && claim.service != service) {
    problems += "Credential should be scoped to correct service: '" + service + "'. ";
  }
  if (claim.terminator != "aws4_request") {
    problems += "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                claim.terminator + "'. ";
  }
  if (aws::FormatAmzDay(date) != claim.day) {
    problems +=
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        "from HTTP: '" +
        claim.day + "' != '" + aws::FormatAmzDay(date) + "', from '" + claim.date_text + "'.";
  }
  if (problems.empty()) return std::nullopt;
  while (!problems.empty() && problems.back() == ' ') problems.pop_back();
  return InvalidSignature(problems);
}

std::optional<JsonError> CheckClock(const Claim& claim, const JsonAuthOptions& options,
                                    TimePoint date) {
  std::string minutes = std::to_string(options.max_clock_skew.count() / 60) + " min.)";
  if (options.now - date > options.max_clock_skew) {
    return InvalidSignature("Signature expired: " + claim.date_text + " is now earlier than " +
                            aws::FormatAmzDate(options.now - options.max_clock_skew) + " (" +
                            aws::FormatAmzDate(options.now) + " - " + minutes);
  }
  if (date - options.now > options.max_clock_skew) {
    return InvalidSignature("Signature not yet current: " + claim.date_text +
                            " is still later than " +
                            aws::FormatAmzDate(options.now + options.max_clock_skew) + " (" +
                            aws::FormatAmzDate(options.now) + " + " + minutes);
  }
  return std::nullopt;
}

}  // namespace

std::optional<JsonError> AuthenticateJsonRequest(const HttpRequest& request,
                                                 const std::string& body,
                                                 const std::string& service,
                                                 const JsonAuthOptions& options) {
  const std::string& authorization = request.Header("authorization");
  if (authorization.empty()) {
    return AuthError("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  Claim claim;
  if (auto malformed = ParseClaim(request, authorization, claim)) return malformed;
  auto secret = options.secret_by_access_key_id->find(claim.access_key_id);
  if (secret == options.secret_by_access_key_id->end()) {
    return AuthError("UnrecognizedClientException",
                     "The security token included in the request is invalid.");
  }
  std::optional<TimePoint> date = s3::ParseAmzDate(claim.date_text);
  if (!date) {
    return AuthError("IncompleteSignatureException",
                     "Date must be in ISO-8601 'basic format'. Got '" + claim.date_text +
                         "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }
  if (auto wrong = CheckScope(claim, service, options, *date)) return wrong;
  if (auto skewed = CheckClock(claim, options, *date)) return skewed;

  aws::HttpRequestToSign to_sign;
  to_sign.method = request.method;
  to_sign.path = request.target.substr(0, request.target.find('?'));
  to_sign.query = s3::DecodeQueryPairs(request.target);
  to_sign.payload_sha256_hex = aws::Sha256Hex(body);
  bool signs_host = false;
  for (const std::string& name : Split(claim.signed_headers, ';')) {
    auto header = request.headers.find(name);
    // A signed header the request lacks cannot give the client's signature: say so below.
    if (header != request.headers.end()) to_sign.headers.emplace_back(name, header->second);
    signs_host = signs_host || name == "host";
  }
  if (!signs_host) {
    return InvalidSignature(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
        "Authorization.");
  }
  aws::SigningParams params;
  params.credentials.access_key_id = claim.access_key_id;
  params.credentials.secret_access_key = secret->second;
  params.region = claim.region;
  params.service = claim.service;
  params.time = *date;
  params.s3_rules = false;
  params.normalize_path = true;
  aws::SignedHeaderSet canonical_names;
  std::string canonical = aws::CanonicalRequest(to_sign, params, &canonical_names);
  std::string string_to_sign = aws::StringToSign(canonical, params);
  std::string expected = aws::Signature(string_to_sign, params);
  if (canonical_names.ToString() != claim.signed_headers ||
      !s3::ConstantTimeEquals(expected, claim.signature)) {
    return InvalidSignature(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.\n\nThe Canonical String for this request should have been\n'" +
        canonical + "'\n\nThe String-to-Sign should have been\n'" + string_to_sign + "'\n");
  }
  return std::nullopt;
}

}  // namespace trainyard::server::sagemaker
