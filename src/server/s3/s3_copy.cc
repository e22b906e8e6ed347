// CopyObject and UploadPartCopy (awscli uses them for `s3 cp`/`s3 mv` between S3 locations,
// UploadPartCopy for objects above its multipart threshold). The bytes go from Get to Put
// through object_pipe's bounded pipe, never whole in memory.
#include "aws/uri_encode.h"
#include "server/http/body_streams.h"
#include "server/s3/multipart_record.h"
#include "server/s3/object_pipe.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"

namespace trainyard::server::s3 {
namespace {

struct CopySource {
  std::string bucket, key;
  storage::ObjectInfo info;
};

// x-amz-copy-source: "bucket/key" or "/bucket/key", percent-encoded, maybe "?versionId=...".
S3Outcome ResolveSource(S3Call& call, CopySource& out) {
  std::string header = call.request.Header("x-amz-copy-source");
  size_t question = header.find('?');
  if (question != std::string::npos) {
    std::string version = header.substr(question + 1);
    if (version != "versionId=null") {
      return NotImplemented("x-amz-copy-source with a version ('" + version + "')");
    }
    header.resize(question);
  }
  std::string decoded = aws::UriDecode(header);
  if (!decoded.empty() && decoded.front() == '/') decoded.erase(0, 1);
  size_t slash = decoded.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == decoded.size()) {
    return InvalidArgument(
        "Copy Source must mention the source bucket and key: "
        "sourcebucket/sourcekey, got x-amz-copy-source '" +
        call.request.Header("x-amz-copy-source") + "'");
  }
  out.bucket = decoded.substr(0, slash);
  out.key = decoded.substr(slash + 1);
  if (auto invalid = CheckBucketName(out.bucket)) return invalid;
  if (auto invalid = CheckObjectKey(out.key)) return invalid;
  auto info = call.objects.Head(ObjectStoreKey(out.bucket, out.key));
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) {
      auto marker = call.objects.Head(BucketMarkerKey(out.bucket));
      if (!marker.ok()) return NoSuchBucket(out.bucket);
    }
    return FromStoreStatus(info.status(), out.key);
  }
  out.info = std::move(info).value();
  return std::nullopt;
}

}  // namespace

S3Outcome CopyObject(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  CopySource source;
  if (auto failed = ResolveSource(call, source)) return failed;
  std::string directive = call.request.Header("x-amz-metadata-directive");
  storage::PutOptions options;
  if (directive.empty() || directive == "COPY") {
    if (source.bucket == call.bucket && source.key == call.key) {
      return MakeError(400, "InvalidRequest",
                       "This copy request is illegal because it is trying to copy an object to "
                       "itself without changing the object's metadata");
    }
    options.content_type = source.info.content_type;
    options.metadata = source.info.metadata;
  } else if (directive == "REPLACE") {
    options.content_type = call.request.Header("content-type");
    options.metadata = MetadataFromHeaders(call.request);
    if (auto valid = storage::CheckPutOptions(call.key, options); !valid.ok()) {
      return InvalidArgument(valid.status().message());
    }
  } else {
    return InvalidArgument("Unknown metadata directive: x-amz-metadata-directive '" + directive +
                           "' (COPY or REPLACE)");
  }
  auto put =
      ConcatenateInto(call.objects, {{ObjectStoreKey(source.bucket, source.key), std::nullopt}},
                      source.info.size, ObjectStoreKey(call.bucket, call.key), options);
  if (!put.ok()) return FromStoreStatus(put.status(), call.key);
  WriteXml(call, 200,
           std::string("<CopyObjectResult xmlns=\"") + kS3Namespace + "\">" +
               XmlElement("LastModified", FormatXmlDate(put->last_modified)) +
               XmlElement("ETag", ETagOf(put->sha256_hex, put->size, put->last_modified)) +
               "</CopyObjectResult>");
  return std::nullopt;
}

S3Outcome UploadPartCopy(S3Call& call) {
  auto number = ParsePartNumber(call.Param("partNumber"));
  if (!number) {
    return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive; got '" +
                           call.Param("partNumber") + "'");
  }
  UploadRecord record;
  if (auto missing =
          FindUpload(call.objects, call.Param("uploadId"), call.bucket, call.key, record)) {
    return missing;
  }
  CopySource source;
  if (auto failed = ResolveSource(call, source)) return failed;
  std::optional<storage::ByteRange> range;
  uint64_t size = source.info.size;
  const std::string& range_header = call.request.Header("x-amz-copy-source-range");
  if (!range_header.empty()) {
    auto parsed = ParseRange(range_header, source.info.size);
    if (!parsed.ok() || !*parsed) {
      return MakeError(416, "InvalidRange",
                       "The x-amz-copy-source-range '" + range_header +
                           "' is not a satisfiable bytes=first-last range of the source's " +
                           std::to_string(source.info.size) + " bytes");
    }
    range = storage::ByteRange{(*parsed)->offset, (*parsed)->length};
    size = (*parsed)->length;
  }
  auto put = ConcatenateInto(call.objects, {{ObjectStoreKey(source.bucket, source.key), range}},
                             size, PartKey(record.upload_id, *number), {});
  if (!put.ok()) return FromStoreStatus(put.status(), call.key);
  WriteXml(call, 200,
           std::string("<CopyPartResult xmlns=\"") + kS3Namespace + "\">" +
               XmlElement("LastModified", FormatXmlDate(put->last_modified)) +
               XmlElement("ETag", ETagOf(put->sha256_hex, put->size, put->last_modified)) +
               "</CopyPartResult>");
  return std::nullopt;
}

}  // namespace trainyard::server::s3
