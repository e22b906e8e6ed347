// Bucket operations. A bucket is a marker object (s3/buckets/<name>); its objects live under
// s3/objects/<name>/, so an empty bucket costs one small object.
#include <sstream>

#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"

namespace trainyard::server::s3 {

std::string S3Call::Param(const std::string& name) const {
  auto it = request.query.find(name);
  return it == request.query.end() ? "" : it->second;
}

void WriteXml(S3Call& call, int status, const std::string& document) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + document;
  call.response.SetStatus(status);
  call.response.SetHeader("Content-Type", "application/xml");
  call.response.WriteBody(body);
}

S3Outcome RequireBucket(S3Call& call) {
  auto marker = call.objects.Head(BucketMarkerKey(call.bucket));
  if (marker.ok()) return std::nullopt;
  if (marker.status().code() == StatusCode::kNotFound) return NoSuchBucket(call.bucket);
  return InternalError(marker.status());
}

namespace {
std::string OwnerXml() {
  return "<Owner><ID>trainyard</ID><DisplayName>trainyard</DisplayName></Owner>";
}
}  // namespace

S3Outcome ListBuckets(S3Call& call) {
  std::string buckets;
  std::string after;
  const std::string prefix = "s3/buckets/";
  while (true) {
    auto page = call.objects.List(prefix, after, 1000);
    if (!page.ok()) return InternalError(page.status());
    for (const auto& info : page->objects) {
      buckets += "<Bucket>" + XmlElement("Name", info.key.substr(prefix.size())) +
                 XmlElement("CreationDate", FormatXmlDate(info.last_modified)) + "</Bucket>";
      after = info.key;
    }
    if (!page->truncated || page->objects.empty()) break;
  }
  WriteXml(call, 200,
           std::string("<ListAllMyBucketsResult xmlns=\"") + kS3Namespace + "\">" + OwnerXml() +
               "<Buckets>" + buckets + "</Buckets></ListAllMyBucketsResult>");
  return std::nullopt;
}

S3Outcome CreateBucket(S3Call& call) {
  // A CreateBucketConfiguration (LocationConstraint) body is accepted and ignored: there is
  // one location.
  auto ignored = call.body.ReadAll(64 * 1024);
  if (!ignored.ok()) {
    return MakeError(400, "MaxMessageLengthExceeded", "the CreateBucketConfiguration is too big");
  }
  auto marker = call.objects.Head(BucketMarkerKey(call.bucket));
  if (marker.ok()) {
    return MakeError(409, "BucketAlreadyOwnedByYou",
                     "Your previous request to create the named bucket succeeded and you "
                     "already own it: '" +
                         call.bucket + "'");
  }
  if (marker.status().code() != StatusCode::kNotFound) return InternalError(marker.status());
  std::string record = "{\"created\": \"" + FormatXmlDate(call.now) + "\"}\n";
  std::istringstream source(record);
  storage::PutOptions options;
  options.content_type = "application/json";
  auto put = call.objects.Put(BucketMarkerKey(call.bucket), source, record.size(), options);
  if (!put.ok()) return FromStoreStatus(put.status(), call.bucket);
  call.response.SetStatus(200);
  call.response.SetHeader("Location", "/" + call.bucket);
  call.response.SetContentLength(0);
  return std::nullopt;
}

S3Outcome HeadBucket(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  call.response.SetStatus(200);
  call.response.SetHeader("x-amz-bucket-region", "us-east-1");
  call.response.WriteBody("");
  return std::nullopt;
}

S3Outcome DeleteBucket(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  auto page = call.objects.List(BucketObjectsPrefix(call.bucket), "", 1);
  if (!page.ok()) return InternalError(page.status());
  if (!page->objects.empty()) {
    return MakeError(409, "BucketNotEmpty",
                     "The bucket you tried to delete is not empty: '" + call.bucket + "'");
  }
  Status deleted = call.objects.Delete(BucketMarkerKey(call.bucket));
  if (!deleted.ok()) return InternalError(deleted);
  call.response.SetStatus(204);
  return std::nullopt;
}

S3Outcome GetBucketLocation(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  // Empty means us-east-1, which every SDK accepts with any endpoint URL.
  WriteXml(call, 200,
           std::string("<LocationConstraint xmlns=\"") + kS3Namespace + "\"></LocationConstraint>");
  return std::nullopt;
}

}  // namespace trainyard::server::s3
