// SigV4 tasks 2-4 (string to sign, signing key, signature) and the two ways of attaching the
// result to a request.
#include "aws/sigv4.h"

#include <algorithm>
#include <cctype>

#include "aws/amz_date.h"
#include "aws/crypto.h"
#include "aws/uri_encode.h"

namespace trainyard::aws {
namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";
constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

void RemoveHeader(HeaderList& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

bool IsHexSha256(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status Validate(const HttpRequestToSign& request, const SigningParams& params) {
  if (params.credentials.access_key_id.empty()) {
    return InvalidArgument("SigV4: credentials have no access key id");
  }
  if (params.credentials.secret_access_key.empty()) {
    return InvalidArgument("SigV4: credentials have no secret access key");
  }
  if (params.region.empty()) return InvalidArgument("SigV4: no region to sign for");
  if (params.service.empty()) return InvalidArgument("SigV4: no service to sign for");
  if (request.method.empty()) return InvalidArgument("SigV4: request has no method");
  if (request.payload_sha256_hex != kUnsignedPayload && !IsHexSha256(request.payload_sha256_hex)) {
    return InvalidArgument(
        "SigV4: payload_sha256_hex must be 64 lowercase hex digits or UNSIGNED-PAYLOAD, got '" +
        request.payload_sha256_hex + "'");
  }
  return Status::Ok();
}

bool HasSessionToken(const SigningParams& params) {
  return !params.credentials.session_token.empty();
}

}  // namespace

std::string CredentialScope(const SigningParams& params) {
  return FormatAmzDay(params.time) + "/" + params.region + "/" + params.service + "/aws4_request";
}

std::string StringToSign(const std::string& canonical_request, const SigningParams& params) {
  return std::string(kAlgorithm) + "\n" + FormatAmzDate(params.time) + "\n" +
         CredentialScope(params) + "\n" + Sha256Hex(canonical_request);
}

std::string Signature(const std::string& string_to_sign, const SigningParams& params) {
  // The key is scoped step by step so that a leaked derived key is only good for one day, region
  // and service.
  std::string key =
      HmacSha256("AWS4" + params.credentials.secret_access_key, FormatAmzDay(params.time));
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, params.service);
  key = HmacSha256(key, "aws4_request");
  return HexEncode(HmacSha256(key, string_to_sign));
}

Result<SignedRequest> SignWithHeaders(HttpRequestToSign request, const SigningParams& params) {
  TY_RETURN_IF_ERROR(Validate(request, params));
  SignedRequest signed_request;
  auto add = [&](const std::string& name, const std::string& value) {
    RemoveHeader(request.headers, name);
    request.headers.emplace_back(name, value);
    signed_request.headers_to_add.emplace_back(name, value);
  };
  RemoveHeader(request.headers, "Authorization");
  add("X-Amz-Date", FormatAmzDate(params.time));
  if (params.s3_rules || params.sign_payload_header) {
    add("x-amz-content-sha256", request.payload_sha256_hex);
  }
  if (HasSessionToken(params) && !params.omit_session_token) {
    add("X-Amz-Security-Token", params.credentials.session_token);
  }

  SignedHeaderSet signed_headers;
  signed_request.canonical_request = CanonicalRequest(request, params, &signed_headers);
  signed_request.string_to_sign = StringToSign(signed_request.canonical_request, params);
  signed_request.signature = Signature(signed_request.string_to_sign, params);
  signed_request.headers_to_add.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + params.credentials.access_key_id +
                           "/" + CredentialScope(params) + ", SignedHeaders=" +
                           signed_headers.ToString() + ", Signature=" + signed_request.signature);
  if (HasSessionToken(params) && params.omit_session_token) {
    signed_request.headers_to_add.emplace_back("X-Amz-Security-Token",
                                               params.credentials.session_token);
  }
  return signed_request;
}

Result<PresignedQuery> Presign(HttpRequestToSign request, const SigningParams& params,
                               std::chrono::seconds expires) {
  TY_RETURN_IF_ERROR(Validate(request, params));
  if (expires.count() < 1 || expires > kMaxPresignExpiry) {
    return InvalidArgument("SigV4: X-Amz-Expires must be between 1 and 604800 seconds, got " +
                           std::to_string(expires.count()));
  }
  for (const auto& [name, value] : request.query) {
    if (EqualsIgnoreCase(name, "X-Amz-Signature")) {
      return InvalidArgument("SigV4: request to presign already has an X-Amz-Signature parameter");
    }
  }
  RemoveHeader(request.headers, "Authorization");
  auto& query = request.query;
  query.emplace_back("X-Amz-Algorithm", kAlgorithm);
  query.emplace_back("X-Amz-Credential",
                     params.credentials.access_key_id + "/" + CredentialScope(params));
  query.emplace_back("X-Amz-Date", FormatAmzDate(params.time));
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  query.emplace_back("X-Amz-SignedHeaders", SignedHeadersOf(request.headers).ToString());
  if (HasSessionToken(params) && !params.omit_session_token) {
    query.emplace_back("X-Amz-Security-Token", params.credentials.session_token);
  }

  PresignedQuery presigned;
  presigned.canonical_request = CanonicalRequest(request, params, nullptr);
  presigned.string_to_sign = StringToSign(presigned.canonical_request, params);
  presigned.signature = Signature(presigned.string_to_sign, params);
  // The signature cannot sign itself, so it goes last, after the canonically ordered rest.
  presigned.query_string =
      CanonicalQueryString(request.query) + "&X-Amz-Signature=" + presigned.signature;
  if (HasSessionToken(params) && params.omit_session_token) {
    presigned.query_string +=
        "&X-Amz-Security-Token=" + UriEncode(params.credentials.session_token, true);
  }
  return presigned;
}

Result<std::string> PresignQuery(HttpRequestToSign request, const SigningParams& params,
                                 std::chrono::seconds expires) {
  TY_ASSIGN_OR_RETURN(PresignedQuery presigned, Presign(std::move(request), params, expires));
  return presigned.query_string;
}

}  // namespace trainyard::aws
