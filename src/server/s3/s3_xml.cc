// A deliberately small XML reader: S3 request bodies are flat, machine-written documents, and
// the two the endpoint reads need only "every <Part>, and its <PartNumber> and <ETag>".
#include "server/s3/s3_xml.h"

#include <charconv>
#include <cstdint>

namespace trainyard::server::s3 {

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string XmlElement(std::string_view name, std::string_view text) {
  std::string out = "<";
  out += name;
  out += ">";
  out += XmlEscape(text);
  out += "</";
  out += name;
  out += ">";
  return out;
}

namespace {

// Whether `xml` at `at` starts the tag `<name` followed by '>', '/', or whitespace.
bool OpensTag(std::string_view xml, size_t at, std::string_view name) {
  if (xml.compare(at, 1, "<") != 0 || xml.compare(at + 1, name.size(), name) != 0) return false;
  size_t next = at + 1 + name.size();
  if (next >= xml.size()) return false;
  char c = xml[next];
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void AppendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace

std::optional<std::vector<std::string_view>> XmlElements(std::string_view xml,
                                                         std::string_view name) {
  std::vector<std::string_view> found;
  const std::string closing = "</" + std::string(name) + ">";
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    if (!OpensTag(xml, at, name)) {
      ++at;
      continue;
    }
    size_t tag_end = xml.find('>', at);
    if (tag_end == std::string_view::npos) return std::nullopt;
    if (xml[tag_end - 1] == '/') {  // <name/>
      found.emplace_back();
      at = tag_end + 1;
      continue;
    }
    size_t close = xml.find(closing, tag_end + 1);
    if (close == std::string_view::npos) return std::nullopt;
    found.push_back(xml.substr(tag_end + 1, close - tag_end - 1));
    at = close + closing.size();
  }
  return found;
}

std::optional<std::string> XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos) return std::nullopt;
    std::string_view entity = text.substr(i + 1, semicolon - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      uint32_t code_point = 0;
      auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
          code_point == 0 || code_point > 0x10FFFF) {
        return std::nullopt;
      }
      AppendUtf8(out, code_point);
    } else {
      return std::nullopt;
    }
    i = semicolon;
  }
  return out;
}

}  // namespace trainyard::server::s3
