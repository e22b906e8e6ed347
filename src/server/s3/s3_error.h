// S3 errors as values (code, HTTP status, message) and how they are answered: S3's
// <Error><Code/><Message/><Resource/><RequestId/></Error> document, or no body for HEAD.
// Internal to the S3 endpoint; thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::s3 {

struct S3Error {
  int http_status = 500;
  std::string code;  // S3's error code: "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;
};

// nullopt: the operation has written its answer; otherwise the error to answer with.
using S3Outcome = std::optional<S3Error>;

S3Error MakeError(int http_status, std::string code, std::string message);
S3Error NoSuchBucket(const std::string& bucket);
S3Error NoSuchKey(const std::string& key);
S3Error NoSuchUpload(const std::string& upload_id);
S3Error InvalidArgument(std::string message);
S3Error NotImplemented(const std::string& operation);
S3Error InternalError(const Status& status);
S3Error MalformedXml(const std::string& what);

// A store failure in S3's terms: NotFound -> NoSuchKey naming `key`, InvalidArgument -> 400
// InvalidArgument, FailedPrecondition -> 409 InvalidArgument (a key that is also a "folder"),
// others -> 500 InternalError.
S3Error FromStoreStatus(const Status& status, const std::string& key);

// Writes the error answer (XML; no body for HEAD), with x-amz-request-id. Does nothing when
// the response's headers are already out (the connection then just ends early).
void WriteS3Error(const HttpRequest& request, ResponseWriter& response, const S3Error& error,
                  const std::string& resource, const std::string& request_id);

}  // namespace trainyard::server::s3
