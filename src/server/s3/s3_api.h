// S3Api: an S3-compatible endpoint (path-style addressing, SigV4 authentication) over any
// ObjectStore, so that awscli, boto3 and other S3 clients can use trainyard's store on one
// machine. It is an HttpServer Handler; `trainyard server --s3-listen` serves it on its own
// listener. docs/s3.md lists the operations it supports; anything else is NotImplemented.
//
// Store layout inside the ObjectStore (everything under "s3/"):
//   s3/buckets/<bucket>                    bucket marker: {"created": "<ISO 8601>"}
//   s3/objects/<bucket>/<key>              an object, with its content type and x-amz-meta-*
//   s3/uploads/<upload-id>/upload.json     a multipart upload in progress: bucket, key,
//                                          initiated, content type, metadata
//   s3/uploads/<upload-id>/part-00001 ...  its parts; CompleteMultipartUpload streams them, in
//                                          order, into one Put of the final key, then deletes them
// Keys must pass storage::ValidateObjectKey (no "..", "//" or control bytes), so no request can
// address anything outside these prefixes. The local store cannot keep both "a" and "a/b" in
// one bucket (a file cannot also be a directory): such a Put is refused with InvalidArgument.
//
// Thread-safety: Handle may be called from many connection threads at once; the only state is
// the options. Failures are answered as S3 does (an <Error> XML document with S3's code, or an
// empty body for HEAD); secrets never appear in an answer or a log line.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/time_format.h"
#include "server/http/http_server.h"
#include "storage/object_store.h"

namespace trainyard::server {

// A key pair of the server's own that reads the store's objects under `objects_prefix`, and
// nothing else: object <key> of bucket `bucket` is the store's <objects_prefix><key>, by a
// presigned GET or HEAD only (no listing, no other key, no other method, no header-signed
// request). How a job in object-store staging fetches a dataset where it lies
// (docs/slurm.md). The view exists for this key alone: any other key addressing `bucket`
// addresses the S3 bucket of that name, as without the view.
struct S3ReadOnlyView {
  std::string bucket = "trainyard-datasets";
  std::string objects_prefix = "datasets/";
  std::string access_key_id;
  std::string secret_access_key;
};

struct S3ApiOptions {
  storage::ObjectStore* objects = nullptr;  // not owned; must outlive the S3Api
  // Who may sign requests: access key id -> secret access key. Empty: every request is refused.
  std::map<std::string, std::string> secret_by_access_key_id;
  // None: no view. Its key id must not be one of secret_by_access_key_id.
  std::optional<S3ReadOnlyView> read_only_view;
  // A signed request whose X-Amz-Date is further than this from `clock()` is refused with
  // RequestTimeTooSkewed (as S3 does, 15 minutes).
  std::chrono::seconds max_clock_skew{900};
  std::function<TimePoint()> clock;  // empty: std::chrono::system_clock::now
};

// The body of the answers that the S3 listener's HttpServer writes by itself
// (HttpServerOptions::error_document): S3's <Error> document, with the code S3 uses for the
// case (503: SlowDown, 408: RequestTimeout, 413: EntityTooLarge, 431:
// RequestHeaderSectionTooLarge, 501: NotImplemented, other 4xx: InvalidRequest, 5xx:
// InternalError), so that SDKs retry or report it as they would S3's own.
ErrorDocument S3ConnectionErrorDocument(int status, const Status& error);

class S3Api {
 public:
  explicit S3Api(S3ApiOptions options);
  // Answers one S3 request. Never throws; every failure becomes an S3 error answer.
  void Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response);

 private:
  S3ApiOptions options_;
  // secret_by_access_key_id and the view's key: whoever may sign at all.
  std::map<std::string, std::string> signers_;
};

}  // namespace trainyard::server
