// ListMultipartUploads and ListParts. Uploads are found by walking s3/uploads/ for upload.json
// records and keeping those of the bucket; S3 orders them by key, then by initiation time.
#include <algorithm>
#include <charconv>

#include "aws/uri_encode.h"
#include "server/s3/multipart_record.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"

namespace trainyard::server::s3 {
namespace {

const char kOwner[] = "<ID>trainyard</ID><DisplayName>trainyard</DisplayName>";

std::optional<int> ParseLimit(const std::string& text, int fallback) {
  if (text.empty()) return fallback;
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return std::min(value, 1000);
}

Result<std::vector<UploadRecord>> UploadsOfBucket(storage::ObjectStore& objects,
                                                  const std::string& bucket) {
  std::vector<UploadRecord> uploads;
  const std::string suffix = "/upload.json";
  std::string cursor;
  while (true) {
    TY_ASSIGN_OR_RETURN(storage::ListPage page, objects.List(kUploadsPrefix, cursor, 1000));
    for (const storage::ObjectInfo& info : page.objects) {
      cursor = info.key;
      if (info.key.size() <= suffix.size() ||
          info.key.compare(info.key.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string id = info.key.substr(
          sizeof(kUploadsPrefix) - 1, info.key.size() - suffix.size() - sizeof(kUploadsPrefix) + 1);
      auto record = LoadUploadRecord(objects, id);
      if (record.ok() && record->bucket == bucket) uploads.push_back(std::move(record).value());
    }
    if (!page.truncated || page.objects.empty()) break;
  }
  std::sort(uploads.begin(), uploads.end(), [](const UploadRecord& a, const UploadRecord& b) {
    return a.key != b.key ? a.key < b.key : a.initiated < b.initiated;
  });
  return uploads;
}

}  // namespace

S3Outcome ListMultipartUploads(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  auto max_uploads = ParseLimit(call.Param("max-uploads"), 1000);
  if (!max_uploads) {
    return InvalidArgument("max-uploads must be a non-negative integer, got '" +
                           call.Param("max-uploads") + "'");
  }
  std::string encoding = call.Param("encoding-type");
  auto encode = [&](const std::string& text) {
    return encoding == "url" ? aws::UriEncode(text, false) : text;
  };
  auto uploads = UploadsOfBucket(call.objects, call.bucket);
  if (!uploads.ok()) return InternalError(uploads.status());
  std::string prefix = call.Param("prefix"), delimiter = call.Param("delimiter");
  std::string key_marker = call.Param("key-marker");
  std::string id_marker = call.Param("upload-id-marker");
  std::string entries, commons, last_common;
  int count = 0;
  bool truncated = false;
  const UploadRecord* last = nullptr;
  bool past_id_marker = id_marker.empty();
  for (const UploadRecord& upload : *uploads) {
    if (upload.key.compare(0, prefix.size(), prefix) != 0) continue;
    if (!key_marker.empty()) {
      if (upload.key < key_marker) continue;
      if (upload.key == key_marker) {
        if (past_id_marker) continue;  // without an id marker, the key marker's uploads are done
        if (upload.upload_id == id_marker) past_id_marker = true;
        continue;
      }
    }
    std::string common;
    if (!delimiter.empty()) {
      size_t at = upload.key.find(delimiter, prefix.size());
      if (at != std::string::npos) common = upload.key.substr(0, at + delimiter.size());
    }
    if (!common.empty() && common == last_common) continue;
    if (count == *max_uploads) {
      truncated = true;
      break;
    }
    ++count;
    if (!common.empty()) {
      last_common = common;
      commons += "<CommonPrefixes>" + XmlElement("Prefix", encode(common)) + "</CommonPrefixes>";
      continue;
    }
    last = &upload;
    entries += "<Upload>" + XmlElement("Key", encode(upload.key)) +
               XmlElement("UploadId", upload.upload_id) + "<Initiator>" + kOwner +
               "</Initiator><Owner>" + kOwner + "</Owner><StorageClass>STANDARD</StorageClass>" +
               XmlElement("Initiated", FormatXmlDate(upload.initiated)) + "</Upload>";
  }
  std::string xml = std::string("<ListMultipartUploadsResult xmlns=\"") + kS3Namespace + "\">";
  xml += XmlElement("Bucket", call.bucket) + XmlElement("KeyMarker", encode(key_marker)) +
         XmlElement("UploadIdMarker", id_marker);
  if (truncated && last) {
    xml += XmlElement("NextKeyMarker", encode(last->key)) +
           XmlElement("NextUploadIdMarker", last->upload_id);
  }
  if (!encoding.empty()) xml += XmlElement("EncodingType", encoding);
  if (!delimiter.empty()) xml += XmlElement("Delimiter", encode(delimiter));
  xml += XmlElement("Prefix", encode(prefix)) +
         XmlElement("MaxUploads", std::to_string(*max_uploads)) +
         XmlElement("IsTruncated", truncated ? "true" : "false") + entries + commons +
         "</ListMultipartUploadsResult>";
  WriteXml(call, 200, xml);
  return std::nullopt;
}

S3Outcome ListParts(S3Call& call) {
  UploadRecord record;
  if (auto missing =
          FindUpload(call.objects, call.Param("uploadId"), call.bucket, call.key, record)) {
    return missing;
  }
  auto max_parts = ParseLimit(call.Param("max-parts"), 1000);
  if (!max_parts) {
    return InvalidArgument("max-parts must be a non-negative integer, got '" +
                           call.Param("max-parts") + "'");
  }
  int marker = 0;
  std::string marker_text = call.Param("part-number-marker");
  if (!marker_text.empty()) {
    auto [end, error] =
        std::from_chars(marker_text.data(), marker_text.data() + marker_text.size(), marker);
    if (error != std::errc() || end != marker_text.data() + marker_text.size() || marker < 0 ||
        marker > 10000) {
      return InvalidArgument("part-number-marker must be an integer from 0 to 10000, got '" +
                             marker_text + "'");
    }
  }
  auto parts =
      ListStoredParts(call.objects, record.upload_id, marker, static_cast<size_t>(*max_parts) + 1);
  if (!parts.ok()) return InternalError(parts.status());
  bool truncated = parts->size() > static_cast<size_t>(*max_parts);
  if (truncated) parts->pop_back();
  std::string xml = std::string("<ListPartsResult xmlns=\"") + kS3Namespace + "\">";
  xml += XmlElement("Bucket", call.bucket) + XmlElement("Key", call.key) +
         XmlElement("UploadId", record.upload_id) + "<Initiator>" + kOwner + "</Initiator><Owner>" +
         kOwner + "</Owner><StorageClass>STANDARD</StorageClass>" +
         XmlElement("PartNumberMarker", std::to_string(marker)) +
         XmlElement("NextPartNumberMarker",
                    std::to_string(parts->empty() ? marker : parts->back().number)) +
         XmlElement("MaxParts", std::to_string(*max_parts)) +
         XmlElement("IsTruncated", truncated ? "true" : "false");
  for (const StoredPart& part : *parts) {
    xml +=
        "<Part>" + XmlElement("PartNumber", std::to_string(part.number)) +
        XmlElement("LastModified", FormatXmlDate(part.info.last_modified)) +
        XmlElement("ETag", ETagOf(part.info.sha256_hex, part.info.size, part.info.last_modified)) +
        XmlElement("Size", std::to_string(part.info.size)) + "</Part>";
  }
  xml += "</ListPartsResult>";
  WriteXml(call, 200, xml);
  return std::nullopt;
}

}  // namespace trainyard::server::s3
