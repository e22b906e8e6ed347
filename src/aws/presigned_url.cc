#include "aws/presigned_url.h"

#include "aws/sigv4.h"
#include "aws/uri_encode.h"

namespace trainyard::aws {

Result<std::string> PresignObjectUrl(const PresignedObject& object,
                                     const Credentials& credentials) {
  std::string endpoint = object.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t scheme = endpoint.find("://");
  if ((!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) ||
      endpoint.find('/', scheme + 3) != std::string::npos || endpoint.size() == scheme + 3) {
    return InvalidArgument("endpoint '" + object.endpoint +
                           "': must be http(s)://host[:port], without a path");
  }
  if (object.bucket.empty()) return InvalidArgument("bucket: empty");
  if (object.key.empty()) return InvalidArgument("key: empty");
  // S3 signs the path as sent: each segment encoded once, '/' kept.
  const std::string path =
      "/" + UriEncode(object.bucket, true) + "/" + UriEncode(object.key, false);
  HttpRequestToSign request;
  request.method = object.method;
  request.path = path;
  request.headers.emplace_back("Host", endpoint.substr(scheme + 3));
  request.payload_sha256_hex = "UNSIGNED-PAYLOAD";
  SigningParams params;
  params.credentials = credentials;
  params.region = object.region;
  params.service = "s3";
  params.time = object.signed_at;
  params.s3_rules = true;
  TY_ASSIGN_OR_RETURN(std::string query, PresignQuery(request, params, object.expires));
  return endpoint + path + "?" + query;
}

}  // namespace trainyard::aws
