// S3's error answers. The message of an error never holds a secret: the authentication code
// builds its messages from access key ids, scopes and dates only.
#include "server/s3/s3_error.h"

#include "server/s3/s3_api.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_xml.h"

namespace trainyard::server::s3 {

S3Error MakeError(int http_status, std::string code, std::string message) {
  return S3Error{http_status, std::move(code), std::move(message)};
}

S3Error NoSuchBucket(const std::string& bucket) {
  return MakeError(404, "NoSuchBucket", "The specified bucket does not exist: '" + bucket + "'");
}

S3Error NoSuchKey(const std::string& key) {
  return MakeError(404, "NoSuchKey", "The specified key does not exist: '" + key + "'");
}

S3Error NoSuchUpload(const std::string& upload_id) {
  return MakeError(404, "NoSuchUpload",
                   "The specified multipart upload does not exist: '" + upload_id + "'");
}

S3Error InvalidArgument(std::string message) {
  return MakeError(400, "InvalidArgument", std::move(message));
}

S3Error NotImplemented(const std::string& operation) {
  return MakeError(501, "NotImplemented",
                   operation + " is not implemented by the trainyard S3 endpoint");
}

S3Error InternalError(const Status& status) {
  return MakeError(500, "InternalError", "We encountered an internal error: " + status.message());
}

S3Error MalformedXml(const std::string& what) {
  return MakeError(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate: " + what);
}

S3Error FromStoreStatus(const Status& status, const std::string& key) {
  switch (status.code()) {
    case StatusCode::kNotFound: return NoSuchKey(key);
    case StatusCode::kInvalidArgument: return InvalidArgument(status.message());
    case StatusCode::kFailedPrecondition:
      return MakeError(409, "InvalidArgument", status.message());
    default: return InternalError(status);
  }
}

void WriteS3Error(const HttpRequest& request, ResponseWriter& response, const S3Error& error,
                  const std::string& resource, const std::string& request_id) {
  if (response.headers_sent()) return;
  response.SetStatus(error.http_status);
  response.SetHeader("x-amz-request-id", request_id);
  if (request.method == "HEAD") {
    response.SetContentLength(0);
    return;
  }
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>";
  body += XmlElement("Code", error.code);
  body += XmlElement("Message", error.message);
  body += XmlElement("Resource", resource);
  body += XmlElement("RequestId", request_id);
  body += "</Error>";
  response.SetHeader("Content-Type", "application/xml");
  response.WriteBody(body);
}

}  // namespace trainyard::server::s3

namespace trainyard::server {

ErrorDocument S3ConnectionErrorDocument(int status, const Status& error) {
  std::string code = status >= 500 ? "InternalError" : "InvalidRequest";
  switch (status) {
    case 408: code = "RequestTimeout"; break;
    case 413: code = "EntityTooLarge"; break;
    case 431: code = "RequestHeaderSectionTooLarge"; break;
    case 501: code = "NotImplemented"; break;
    case 503: code = "SlowDown"; break;
    default: break;
  }
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>";
  body += s3::XmlElement("Code", code);
  body += s3::XmlElement("Message", error.message());
  const std::string request_id = s3::RandomHex(8);
  body += s3::XmlElement("RequestId", request_id);
  body += "</Error>";
  return {"application/xml", std::move(body), {{"x-amz-request-id", request_id}}};
}

}  // namespace trainyard::server
