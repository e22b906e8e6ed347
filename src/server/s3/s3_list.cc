// ListObjectsV2 and ListObjects (v1) over one walk of the store. With a delimiter, keys that
// share "prefix + ... + delimiter" roll up into one CommonPrefixes entry, which counts once
// toward max-keys; a common prefix not after the marker / continuation point is skipped, so
// paging never repeats one. With encoding-type=url (awscli always asks for it) keys and
// prefixes are percent-encoded, as botocore decodes them.
#include <charconv>

#include "aws/crypto.h"
#include "aws/uri_encode.h"
#include "server/s3/s3_names.h"
#include "server/s3/s3_operations.h"
#include "server/s3/s3_xml.h"

namespace trainyard::server::s3 {
namespace {

struct Listing {
  std::vector<storage::ObjectInfo> contents;  // keys relative to the bucket
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last_item;  // the last key or common prefix returned
};

Result<Listing> Walk(storage::ObjectStore& objects, const std::string& bucket,
                     const std::string& prefix, const std::string& delimiter,
                     const std::string& after, size_t max_keys) {
  Listing listing;
  if (max_keys == 0) return listing;
  const std::string bucket_prefix = BucketObjectsPrefix(bucket);
  std::string cursor = after.empty() ? "" : bucket_prefix + after;
  while (true) {
    auto page = objects.List(bucket_prefix + prefix, cursor, 1000);
    if (!page.ok()) return page.status();
    for (storage::ObjectInfo& info : page->objects) {
      cursor = info.key;
      std::string key = info.key.substr(bucket_prefix.size());
      std::string common;
      if (!delimiter.empty()) {
        size_t at = key.find(delimiter, prefix.size());
        if (at != std::string::npos) common = key.substr(0, at + delimiter.size());
      }
      if (!common.empty() && (common <= after || (!listing.common_prefixes.empty() &&
                                                  listing.common_prefixes.back() == common))) {
        continue;
      }
      if (listing.contents.size() + listing.common_prefixes.size() == max_keys) {
        listing.truncated = true;
        return listing;
      }
      if (common.empty()) {
        info.key = key;
        listing.last_item = key;
        listing.contents.push_back(std::move(info));
      } else {
        listing.last_item = common;
        listing.common_prefixes.push_back(common);
      }
    }
    if (!page->truncated || page->objects.empty()) return listing;
  }
}

std::optional<std::string> HexDecode(const std::string& hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (error != std::errc() || end != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(value));
  }
  return out;
}

}  // namespace

S3Outcome ListObjects(S3Call& call) {
  if (auto missing = RequireBucket(call)) return missing;
  bool v2 = call.Param("list-type") == "2";
  std::string encoding = call.Param("encoding-type");
  if (!encoding.empty() && encoding != "url") {
    return InvalidArgument("Invalid Encoding Method specified in Request: encoding-type '" +
                           encoding + "' (only 'url')");
  }
  auto encode = [&](const std::string& text) {
    return encoding.empty() ? text : aws::UriEncode(text, false);
  };
  size_t max_keys = 1000;
  if (call.Has("max-keys")) {
    std::string text = call.Param("max-keys");
    int value = -1;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0) {
      return InvalidArgument("max-keys must be a non-negative integer, got '" + text + "'");
    }
    max_keys = std::min(value, 1000);
  }
  std::string prefix = call.Param("prefix");
  std::string delimiter = call.Param("delimiter");
  std::string after = v2 ? call.Param("start-after") : call.Param("marker");
  std::string token = call.Param("continuation-token");
  if (v2 && call.Has("continuation-token")) {
    auto decoded = HexDecode(token);
    if (!decoded || token.empty()) {
      return InvalidArgument("The continuation token provided is incorrect: '" + token + "'");
    }
    after = *decoded;
  }
  auto listing = Walk(call.objects, call.bucket, prefix, delimiter, after, max_keys);
  if (!listing.ok()) return InternalError(listing.status());

  std::string xml = std::string("<ListBucketResult xmlns=\"") + kS3Namespace + "\">";
  xml += XmlElement("Name", call.bucket) + XmlElement("Prefix", encode(prefix));
  if (!delimiter.empty()) xml += XmlElement("Delimiter", encode(delimiter));
  xml += XmlElement("MaxKeys", std::to_string(max_keys));
  if (!encoding.empty()) xml += XmlElement("EncodingType", encoding);
  xml += XmlElement("IsTruncated", listing->truncated ? "true" : "false");
  if (v2) {
    xml += XmlElement("KeyCount",
                      std::to_string(listing->contents.size() + listing->common_prefixes.size()));
    if (call.Has("continuation-token")) xml += XmlElement("ContinuationToken", token);
    if (listing->truncated) {
      xml += XmlElement("NextContinuationToken", aws::HexEncode(listing->last_item));
    }
    if (call.Has("start-after")) xml += XmlElement("StartAfter", encode(call.Param("start-after")));
  } else {
    xml += XmlElement("Marker", encode(after));
    if (listing->truncated) xml += XmlElement("NextMarker", encode(listing->last_item));
  }
  bool owner = !v2 || call.Param("fetch-owner") == "true";
  for (const storage::ObjectInfo& info : listing->contents) {
    xml += "<Contents>" + XmlElement("Key", encode(info.key)) +
           XmlElement("LastModified", FormatXmlDate(info.last_modified)) +
           XmlElement("ETag", ETagOf(info.sha256_hex, info.size, info.last_modified)) +
           XmlElement("Size", std::to_string(info.size));
    if (owner) xml += "<Owner><ID>trainyard</ID><DisplayName>trainyard</DisplayName></Owner>";
    xml += "<StorageClass>STANDARD</StorageClass></Contents>";
  }
  for (const std::string& common : listing->common_prefixes) {
    xml += "<CommonPrefixes>" + XmlElement("Prefix", encode(common)) + "</CommonPrefixes>";
  }
  xml += "</ListBucketResult>";
  WriteXml(call, 200, xml);
  return std::nullopt;
}

}  // namespace trainyard::server::s3
