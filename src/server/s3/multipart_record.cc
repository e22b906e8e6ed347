#include "server/s3/multipart_record.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/s3/s3_names.h"

namespace trainyard::server::s3 {
namespace {

using nlohmann::json;

bool IsUploadId(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::string> ReadSmallObject(storage::ObjectStore& objects, const std::string& key) {
  std::ostringstream sink;
  TY_RETURN_IF_ERROR(objects.Get(key, sink));
  return sink.str();
}

std::optional<int> ParsePartNumber(const std::string& text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > 10000) {
    return std::nullopt;
  }
  return value;
}

Status SaveUploadRecord(storage::ObjectStore& objects, const UploadRecord& record) {
  json document = {{"bucket", record.bucket},
                   {"key", record.key},
                   {"initiated", FormatXmlDate(record.initiated)},
                   {"initiated_ns", record.initiated.time_since_epoch().count()},
                   {"content_type", record.content_type},
                   {"metadata", record.metadata}};
  std::string text = document.dump() + "\n";
  std::istringstream source(text);
  storage::PutOptions options;
  options.content_type = "application/json";
  return objects.Put(UploadRecordKey(record.upload_id), source, text.size(), options).status();
}

Result<UploadRecord> LoadUploadRecord(storage::ObjectStore& objects, const std::string& upload_id) {
  if (!IsUploadId(upload_id)) return NotFound("upload '" + upload_id + "' is not an upload id");
  TY_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(objects, UploadRecordKey(upload_id)));
  UploadRecord record;
  record.upload_id = upload_id;
  try {
    json document = json::parse(text);
    record.bucket = document.at("bucket").get<std::string>();
    record.key = document.at("key").get<std::string>();
    record.initiated = TimePoint(TimePoint::duration(document.at("initiated_ns").get<int64_t>()));
    record.content_type = document.at("content_type").get<std::string>();
    record.metadata = document.at("metadata").get<storage::ObjectMetadata>();
  } catch (const json::exception& error) {
    return Internal("the record of upload '" + upload_id + "' is damaged: " + error.what());
  }
  return record;
}

S3Outcome FindUpload(storage::ObjectStore& objects, const std::string& upload_id,
                     const std::string& bucket, const std::string& key, UploadRecord& out) {
  auto record = LoadUploadRecord(objects, upload_id);
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return NoSuchUpload(upload_id);
    return InternalError(record.status());
  }
  if (record->bucket != bucket || record->key != key) return NoSuchUpload(upload_id);
  out = std::move(record).value();
  return std::nullopt;
}

Result<std::vector<StoredPart>> ListStoredParts(storage::ObjectStore& objects,
                                                const std::string& upload_id, int after_number,
                                                size_t limit) {
  std::vector<StoredPart> parts;
  const std::string prefix = PartsPrefix(upload_id);
  std::string cursor = after_number > 0 ? PartKey(upload_id, after_number) : "";
  while (parts.size() < limit) {
    TY_ASSIGN_OR_RETURN(storage::ListPage page, objects.List(prefix, cursor, 1000));
    for (storage::ObjectInfo& info : page.objects) {
      cursor = info.key;
      auto number = ParsePartNumber(info.key.substr(prefix.size()));
      if (!number) continue;
      if (info.sha256_hex.empty()) {
        auto head = objects.Head(info.key);
        if (head.ok()) info = std::move(head).value();
      }
      parts.push_back(StoredPart{*number, std::move(info)});
      if (parts.size() == limit) break;
    }
    if (!page.truncated || page.objects.empty()) break;
  }
  return parts;
}

Status DeleteUpload(storage::ObjectStore& objects, const std::string& upload_id) {
  const std::string prefix = PartsPrefix(upload_id);
  while (true) {
    TY_ASSIGN_OR_RETURN(storage::ListPage page, objects.List(prefix, "", 1000));
    for (const storage::ObjectInfo& info : page.objects) {
      TY_RETURN_IF_ERROR(objects.Delete(info.key));
    }
    if (!page.truncated || page.objects.empty()) break;
  }
  return objects.Delete(UploadRecordKey(upload_id));
}

}  // namespace trainyard::server::s3
