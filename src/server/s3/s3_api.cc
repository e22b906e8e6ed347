// Routing: S3 tells operations apart by method, by whether the path names a bucket or an
// object, and by "subresource" query parameters (?uploads, ?uploadId, ?delete, ?location,
// ?list-type=2, ...). Subresources this endpoint does not implement (?acl, ?policy,
// ?versioning, ...) are answered NotImplemented naming them rather than being mistaken for
// plain GETs and PUTs.
#include "server/s3/s3_api.h"

#include <algorithm>
#include <string_view>

#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"

namespace trainyard::server {
namespace {

using s3::S3Call;
using s3::S3Outcome;

// Subresources this endpoint does not implement, space-separated.
constexpr std::string_view kUnsupportedSubresources =
    "accelerate acl analytics attributes cors encryption intelligent-tiering inventory "
    "legal-hold lifecycle logging metrics notification object-lock ownershipControls policy "
    "policyStatus publicAccessBlock replication requestPayment restore retention select "
    "tagging torrent versioning versions website";

S3Outcome Route(S3Call& call) {
  const std::string& method = call.request.method;
  // awscli asks for the source's tags before a multipart copy; objects here have none.
  if (method == "GET" && !call.key.empty() && call.Has("tagging")) {
    if (auto invalid = s3::CheckBucketName(call.bucket)) return invalid;
    if (auto invalid = s3::CheckObjectKey(call.key)) return invalid;
    return s3::GetObjectTagging(call);
  }
  for (size_t start = 0; start < kUnsupportedSubresources.size();) {
    size_t end =
        std::min(kUnsupportedSubresources.find(' ', start), kUnsupportedSubresources.size());
    std::string name(kUnsupportedSubresources.substr(start, end - start));
    if (call.Has(name)) return s3::NotImplemented(method + " ?" + name);
    start = end + 1;
  }
  if (call.bucket.empty()) {
    if (method == "GET") return s3::ListBuckets(call);
    return s3::MakeError(405, "MethodNotAllowed",
                         "The specified method is not allowed against the service: " + method);
  }
  if (auto invalid = s3::CheckBucketName(call.bucket)) return invalid;
  if (call.key.empty()) {
    if (method == "GET") {
      if (call.Has("location")) return s3::GetBucketLocation(call);
      if (call.Has("uploads")) return s3::ListMultipartUploads(call);
      return s3::ListObjects(call);
    }
    if (method == "PUT") return s3::CreateBucket(call);
    if (method == "HEAD") return s3::HeadBucket(call);
    if (method == "DELETE") return s3::DeleteBucket(call);
    if (method == "POST" && call.Has("delete")) return s3::DeleteObjects(call);
    if (method == "POST") return s3::NotImplemented("POST on a bucket (browser form upload)");
    return s3::MakeError(405, "MethodNotAllowed",
                         "The specified method is not allowed against a bucket: " + method);
  }
  if (auto invalid = s3::CheckObjectKey(call.key)) return invalid;
  if (size_t stored = s3::ObjectStoreKey(call.bucket, call.key).size(); stored > 1024) {
    // The store's keys are at most 1024 bytes, and the bucket's prefix takes some of them.
    return s3::MakeError(400, "KeyTooLongError",
                         "Your key is too long: in bucket '" + call.bucket + "' keys may have " +
                             std::to_string(1024 - (stored - call.key.size())) + " bytes");
  }
  bool copy = !call.request.Header("x-amz-copy-source").empty();
  if (method == "PUT") {
    if (call.Has("uploadId") || call.Has("partNumber")) {
      return copy ? s3::UploadPartCopy(call) : s3::UploadPart(call);
    }
    return copy ? s3::CopyObject(call) : s3::PutObject(call);
  }
  if (method == "GET" && call.Has("uploadId")) return s3::ListParts(call);
  if (method == "GET" || method == "HEAD") return s3::GetObject(call);
  if (method == "DELETE") {
    return call.Has("uploadId") ? s3::AbortMultipartUpload(call) : s3::DeleteObject(call);
  }
  if (method == "POST" && call.Has("uploads")) return s3::CreateMultipartUpload(call);
  if (method == "POST" && call.Has("uploadId")) return s3::CompleteMultipartUpload(call);
  if (method == "POST") return s3::NotImplemented("POST on an object without ?uploads/?uploadId");
  return s3::MakeError(405, "MethodNotAllowed",
                       "The specified method is not allowed against an object: " + method);
}

// A read-only view's key reaches one thing: GetObject (GET or HEAD) of an object of the view,
// by a presigned URL whose query holds nothing but the signature's and the response-*
// parameters. Everything else is AccessDenied, whatever the signature allows.
S3Outcome RouteReadOnlyView(S3Call& call, const S3ReadOnlyView& view) {
  auto denied = [](const std::string& why) {
    return s3::MakeError(403, "AccessDenied", "Access Denied: this key " + why);
  };
  if (!call.Has("X-Amz-Signature")) return denied("signs presigned URLs only");
  if (call.request.method != "GET" && call.request.method != "HEAD") {
    return denied("reads objects only (GET, HEAD)");
  }
  if (call.bucket != view.bucket || call.key.empty()) {
    return denied("reads the objects of bucket '" + view.bucket + "' only");
  }
  for (const auto& [name, value] : call.request.query) {
    if (!name.starts_with("X-Amz-") && !name.starts_with("response-")) {
      return denied("takes no query parameter '" + name + "'");
    }
  }
  if (auto invalid = s3::CheckObjectKey(call.key)) return invalid;
  call.store_key = view.objects_prefix + call.key;
  return s3::GetObject(call);
}

}  // namespace

S3Api::S3Api(S3ApiOptions options)
    : options_(std::move(options)), signers_(options_.secret_by_access_key_id) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  if (options_.read_only_view) {
    signers_[options_.read_only_view->access_key_id] = options_.read_only_view->secret_access_key;
  }
}

void S3Api::Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  S3Call call{request, body, response, *options_.objects};
  call.request_id = s3::RandomHex(8);
  for (char& c : call.request_id) c = static_cast<char>(std::toupper(c));
  call.now = options_.clock();
  response.SetHeader("x-amz-request-id", call.request_id);
  response.SetHeader("x-amz-id-2", call.request_id);
  response.SetHeader("Server", "trainyard");

  // Path style: "/bucket/key..." (the key keeps every further '/', "a//b" included).
  std::string path = request.path.empty() ? "/" : request.path;
  size_t slash = path.find('/', 1);
  call.bucket = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  if (slash != std::string::npos) call.key = path.substr(slash + 1);

  s3::AuthOptions auth;
  auth.secret_by_access_key_id = &signers_;
  auth.max_clock_skew = options_.max_clock_skew;
  auth.now = call.now;
  S3Outcome outcome = s3::Authenticate(request, auth, call.auth);
  if (!outcome) {
    const S3ReadOnlyView* view =
        options_.read_only_view && call.auth.access_key_id == options_.read_only_view->access_key_id
            ? &*options_.read_only_view
            : nullptr;
    try {
      outcome = view ? RouteReadOnlyView(call, *view) : Route(call);
    } catch (const std::exception& error) {
      outcome = s3::InternalError(Internal(error.what()));
    }
  }
  if (outcome) s3::WriteS3Error(request, response, *outcome, request.path, call.request_id);
}

}  // namespace trainyard::server
