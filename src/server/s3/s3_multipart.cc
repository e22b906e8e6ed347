// Multipart uploads: parts are ordinary objects under s3/uploads/<id>/; completing one streams
// the chosen parts, in order, through a bounded pipe into one Put of the final key (so the
// object appears atomically and is never held in memory), then deletes the upload.
#include "server/s3/multipart_record.h"
#include "server/s3/object_pipe.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"
#include "server/s3/upload_body.h"

namespace trainyard::server::s3 {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's minimum for every part but the last

S3Error InvalidPartNumber(const std::string& text) {
  return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive; got '" +
                         text + "'");
}

std::string Unquoted(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

struct RequestedPart {
  int number = 0;
  std::string etag;
};

}  // namespace

S3Outcome CreateMultipartUpload(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  UploadRecord record;
  record.upload_id = RandomHex(16);
  record.bucket = call.bucket;
  record.key = call.key;
  record.initiated = call.now;
  record.content_type = call.request.Header("content-type");
  record.metadata = MetadataFromHeaders(call.request);
  storage::PutOptions final_options;
  final_options.content_type = record.content_type;
  final_options.metadata = record.metadata;
  if (auto valid = storage::CheckPutOptions(call.key, final_options); !valid.ok()) {
    return InvalidArgument(valid.status().message());
  }
  if (Status saved = SaveUploadRecord(call.objects, record); !saved.ok()) {
    return InternalError(saved);
  }
  WriteXml(call, 200,
           std::string("<InitiateMultipartUploadResult xmlns=\"") + kS3Namespace + "\">" +
               XmlElement("Bucket", call.bucket) + XmlElement("Key", call.key) +
               XmlElement("UploadId", record.upload_id) + "</InitiateMultipartUploadResult>");
  return std::nullopt;
}

S3Outcome UploadPart(S3Call& call) {
  auto number = ParsePartNumber(call.Param("partNumber"));
  if (!number) return InvalidPartNumber(call.Param("partNumber"));
  UploadRecord record;
  if (auto missing =
          FindUpload(call.objects, call.Param("uploadId"), call.bucket, call.key, record)) {
    return missing;
  }
  S3Outcome error;
  auto put = StoreBody(call, PartKey(record.upload_id, *number), {}, error);
  if (error) return error;
  call.response.SetStatus(200);
  call.response.SetHeader("ETag", ETagOf(put->sha256_hex, put->size, put->last_modified));
  call.response.SetContentLength(0);
  return std::nullopt;
}

S3Outcome CompleteMultipartUpload(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  UploadRecord record;
  if (auto missing =
          FindUpload(call.objects, call.Param("uploadId"), call.bucket, call.key, record)) {
    return missing;
  }
  SmallBody body = ReadSmallBody(call.request, call.body, 4 << 20, call.auth.payload_sha256);
  if (!body.error_code.empty()) {
    return MakeError(body.http_status, body.error_code, body.error_message);
  }
  auto part_elements = XmlElements(body.text, "Part");
  if (!part_elements || part_elements->empty()) {
    return MalformedXml("expected <CompleteMultipartUpload> with at least one <Part>");
  }
  std::vector<RequestedPart> requested;
  for (std::string_view element : *part_elements) {
    auto numbers = XmlElements(element, "PartNumber");
    auto etags = XmlElements(element, "ETag");
    if (!numbers || numbers->size() != 1 || !etags || etags->size() != 1) {
      return MalformedXml("every <Part> needs one <PartNumber> and one <ETag>");
    }
    auto number = ParsePartNumber(std::string(numbers->front()));
    auto etag = XmlUnescape(etags->front());
    if (!number) return InvalidPartNumber(std::string(numbers->front()));
    if (!etag) return MalformedXml("a bad entity in <ETag>");
    if (!requested.empty() && *number <= requested.back().number) {
      return MakeError(400, "InvalidPartOrder",
                       "The list of parts was not in ascending order: part " +
                           std::to_string(*number) + " after part " +
                           std::to_string(requested.back().number));
    }
    requested.push_back({*number, Unquoted(*etag)});
  }
  std::vector<PipeSource> sources;
  uint64_t total = 0;
  for (size_t i = 0; i < requested.size(); ++i) {
    const RequestedPart& part = requested[i];
    std::string part_key = PartKey(record.upload_id, part.number);
    auto info = call.objects.Head(part_key);
    S3Error invalid = MakeError(400, "InvalidPart",
                                "One or more of the specified parts could not be found or its "
                                "ETag did not match: part " +
                                    std::to_string(part.number));
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) return invalid;
      return InternalError(info.status());
    }
    if (Unquoted(ETagOf(info->sha256_hex, info->size, info->last_modified)) != part.etag) {
      return invalid;
    }
    if (i + 1 < requested.size() && info->size < kMinPartSize) {
      return MakeError(400, "EntityTooSmall",
                       "Your proposed upload is smaller than the minimum allowed size: part " +
                           std::to_string(part.number) + " has " + std::to_string(info->size) +
                           " bytes; every part but the last needs at least 5 MiB");
    }
    total += info->size;
    sources.push_back({part_key, std::nullopt});
  }
  storage::PutOptions options;
  options.content_type = record.content_type;
  options.metadata = record.metadata;
  auto put =
      ConcatenateInto(call.objects, sources, total, ObjectStoreKey(call.bucket, call.key), options);
  if (!put.ok()) return FromStoreStatus(put.status(), call.key);
  if (Status deleted = DeleteUpload(call.objects, record.upload_id); !deleted.ok()) {
    return InternalError(deleted);
  }
  std::string host = call.request.Header("host");
  WriteXml(call, 200,
           std::string("<CompleteMultipartUploadResult xmlns=\"") + kS3Namespace + "\">" +
               XmlElement("Location", "http://" + host + "/" + call.bucket + "/" + call.key) +
               XmlElement("Bucket", call.bucket) + XmlElement("Key", call.key) +
               XmlElement("ETag", ETagOf(put->sha256_hex, put->size, put->last_modified)) +
               "</CompleteMultipartUploadResult>");
  return std::nullopt;
}

S3Outcome AbortMultipartUpload(S3Call& call) {
  UploadRecord record;
  if (auto missing =
          FindUpload(call.objects, call.Param("uploadId"), call.bucket, call.key, record)) {
    return missing;
  }
  if (Status deleted = DeleteUpload(call.objects, record.upload_id); !deleted.ok()) {
    return InternalError(deleted);
  }
  call.response.SetStatus(204);
  return std::nullopt;
}

}  // namespace trainyard::server::s3
