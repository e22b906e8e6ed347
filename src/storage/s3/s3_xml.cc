#include "storage/s3/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <time.h>

#include <charconv>
#include <memory>

namespace trainyard::storage::s3 {
namespace {

struct DocumentDeleter {
  void operator()(xmlDoc* document) const { xmlFreeDoc(document); }
};
using Document = std::unique_ptr<xmlDoc, DocumentDeleter>;

// No network, no DTDs, no entity expansion beyond XML's own five: answers come from a server.
Document Parse(const std::string& body) {
  return Document(xmlReadMemory(body.data(), static_cast<int>(body.size()), "s3.xml", nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool Named(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE &&
         xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::string Text(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  std::string text = content ? reinterpret_cast<const char*>(content) : "";
  xmlFree(content);
  return text;
}

const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* node = parent->children; node; node = node->next) {
    if (Named(node, name)) return node;
  }
  return nullptr;
}

std::string ChildText(const xmlNode* parent, const char* name) {
  const xmlNode* child = Child(parent, name);
  return child ? Text(child) : "";
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::optional<TimePoint> ParseWith(const std::string& text, const char* format) {
  struct tm fields = {};
  const char* end = strptime(text.c_str(), format, &fields);
  if (end == nullptr) return std::nullopt;
  time_t seconds = timegm(&fields);
  auto time = std::chrono::system_clock::from_time_t(seconds);
  // Fractional seconds of ISO 8601 (".123"), to the millisecond.
  if (*end == '.') {
    int millis = 0, digits = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end, ++digits) {
      if (digits < 3) millis = millis * 10 + (*end - '0');
    }
    for (; digits < 3; ++digits) millis *= 10;
    time += std::chrono::milliseconds(millis);
  }
  return time;
}

}  // namespace

std::optional<S3ErrorXml> ParseErrorXml(const std::string& body) {
  Document document = Parse(body);
  if (!document) return std::nullopt;
  const xmlNode* root = xmlDocGetRootElement(document.get());
  if (root == nullptr || !Named(root, "Error")) return std::nullopt;
  return S3ErrorXml{ChildText(root, "Code"), ChildText(root, "Message")};
}

Result<ListObjectsV2Result> ParseListObjectsV2(const std::string& body) {
  Document document = Parse(body);
  const xmlNode* root = document ? xmlDocGetRootElement(document.get()) : nullptr;
  if (root == nullptr || !Named(root, "ListBucketResult")) {
    return InvalidArgument("ListObjectsV2 answered something other than a ListBucketResult");
  }
  ListObjectsV2Result result;
  result.truncated = ChildText(root, "IsTruncated") == "true";
  result.next_continuation_token = ChildText(root, "NextContinuationToken");
  for (const xmlNode* node = root->children; node; node = node->next) {
    if (!Named(node, "Contents")) continue;
    ListedObject object;
    object.key = ChildText(node, "Key");
    std::string size = ChildText(node, "Size");
    auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), object.size);
    std::optional<TimePoint> modified = ParseIso8601(ChildText(node, "LastModified"));
    if (object.key.empty() || error != std::errc() || end != size.data() + size.size() ||
        !modified) {
      return InvalidArgument("ListObjectsV2 answered a malformed Contents entry ('" + object.key +
                             "')");
    }
    object.last_modified = *modified;
    result.objects.push_back(std::move(object));
  }
  if (result.truncated && result.next_continuation_token.empty()) {
    return InvalidArgument("ListObjectsV2 answered IsTruncated without NextContinuationToken");
  }
  return result;
}

Result<std::string> ParseUploadId(const std::string& body) {
  Document document = Parse(body);
  const xmlNode* root = document ? xmlDocGetRootElement(document.get()) : nullptr;
  std::string id = root ? ChildText(root, "UploadId") : "";
  if (id.empty()) return InvalidArgument("CreateMultipartUpload answered no UploadId");
  return id;
}

std::string CompleteMultipartXml(const std::vector<std::string>& part_etags) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(part_etags[i]) + "</ETag></Part>";
  }
  return xml + "</CompleteMultipartUpload>";
}

std::optional<TimePoint> ParseIso8601(const std::string& text) {
  return ParseWith(text, "%Y-%m-%dT%H:%M:%S");
}

std::optional<TimePoint> ParseHttpDate(const std::string& text) {
  return ParseWith(text, "%a, %d %b %Y %H:%M:%S");
}

}  // namespace trainyard::storage::s3
