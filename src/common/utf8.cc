#include "common/utf8.h"

namespace trainyard {

std::optional<char32_t> NextCodePoint(std::string_view text, size_t* pos) {
  const size_t start = *pos;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(start);
  ++*pos;
  if (lead < 0x80) return lead;

  size_t continuation;
  char32_t code_point;
  char32_t smallest;  // below this the sequence is overlong
  if ((lead & 0xE0) == 0xC0) {
    continuation = 1, code_point = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    continuation = 2, code_point = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    continuation = 3, code_point = lead & 0x07, smallest = 0x10000;
  } else {
    return std::nullopt;
  }
  if (start + continuation >= text.size()) return std::nullopt;  // truncated
  for (size_t i = 1; i <= continuation; ++i) {
    if ((byte(start + i) & 0xC0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (byte(start + i) & 0x3F);
  }
  if (code_point < smallest || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return std::nullopt;
  }
  *pos = start + continuation + 1;
  return code_point;
}

std::optional<size_t> CodePointCount(std::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); ++count) {
    if (!NextCodePoint(text, &pos)) return std::nullopt;
  }
  return count;
}

void AppendUtf8(char32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

std::string ToValidUtf8(std::string_view text) {
  std::string valid;
  valid.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    AppendUtf8(NextCodePoint(text, &pos).value_or(0xFFFD), &valid);
  }
  return valid;
}

std::string Abbreviate(std::string_view text, size_t max_code_points) {
  size_t pos = 0;
  for (size_t count = 0; pos < text.size() && count < max_code_points; ++count) {
    NextCodePoint(text, &pos);
  }
  if (pos >= text.size()) return std::string(text);
  return std::string(text.substr(0, pos)) + "...";
}

}  // namespace trainyard
