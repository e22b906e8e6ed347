#include "core/python_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/utf8.h"

namespace trainyard::core {
namespace {

// Invalid UTF-8 cannot come out of a JSON parser, but a caller may build such a string by
// hand; printing U+FFFD keeps the output valid UTF-8 instead of passing broken bytes on.
constexpr char32_t kReplacementCharacter = 0xFFFD;

char32_t NextOrReplacement(std::string_view text, size_t* pos) {
  return NextCodePoint(text, pos).value_or(kReplacementCharacter);
}

void AppendHex(char prefix, char32_t code_point, int digits, std::string* out) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\%c%0*x", prefix, digits,
                static_cast<unsigned>(code_point));
  out->append(buffer);
}

// str.isprintable() outside ASCII, approximated without the Unicode database (see the header).
bool IsPrintableNonAscii(char32_t c) {
  if (c <= 0xA0) return false;  // C1 controls and NO-BREAK SPACE (Zs)
  if (c == 0xAD || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E || c == 0x1680 ||
      c == 0x205F || c == 0x3000 || c == 0xFEFF || c == 0x110BD || c == 0xE0001) {
    return false;
  }
  if ((c >= 0x600 && c <= 0x605) || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
      (c >= 0x2060 && c <= 0x206F) || (c >= 0xFFF9 && c <= 0xFFFB) ||
      (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0020 && c <= 0xE007F)) {
    return false;  // format characters and separators
  }
  if ((c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000) return false;            // private use
  if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE) return false;  // non-characters
  return true;
}

template <typename Json>
void AppendRepr(const Json& value, std::string* out);

template <typename Json>
void AppendReprItems(const Json& value, std::string* out) {
  bool first = true;
  if (value.is_array()) {
    out->push_back('[');
    for (const Json& item : value) {
      if (!first) out->append(", ");
      first = false;
      AppendRepr(item, out);
    }
    out->push_back(']');
    return;
  }
  out->push_back('{');
  for (const auto& [key, item] : value.items()) {
    if (!first) out->append(", ");
    first = false;
    out->append(PythonStringRepr(key));
    out->append(": ");
    AppendRepr(item, out);
  }
  out->push_back('}');
}

template <typename Json>
void AppendRepr(const Json& value, std::string* out) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: out->append("None"); return;
    case nlohmann::json::value_t::boolean:
      out->append(value.template get<bool>() ? "True" : "False");
      return;
    case nlohmann::json::value_t::number_integer:
      out->append(std::to_string(value.template get<int64_t>()));
      return;
    case nlohmann::json::value_t::number_unsigned:
      out->append(std::to_string(value.template get<uint64_t>()));
      return;
    case nlohmann::json::value_t::number_float:
      out->append(PythonFloatRepr(value.template get<double>()));
      return;
    case nlohmann::json::value_t::string:
      out->append(PythonStringRepr(value.template get_ref<const std::string&>()));
      return;
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object: AppendReprItems(value, out); return;
    default:  // binary and discarded values never come out of JSON text
      out->append("None");
      return;
  }
}

// json.encoder's string escaping: py_encode_basestring_ascii when ensure_ascii, else
// py_encode_basestring (which leaves DEL and everything above it as it is).
void AppendJsonString(std::string_view text, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  for (size_t pos = 0; pos < text.size();) {
    const char32_t c = NextOrReplacement(text, &pos);
    switch (c) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F && c < 0x10000)) {
      AppendHex('u', c, 4, out);
    } else if (ensure_ascii && c >= 0x10000) {
      const char32_t v = c - 0x10000;
      AppendHex('u', 0xD800 | (v >> 10), 4, out);
      AppendHex('u', 0xDC00 | (v & 0x3FF), 4, out);
    } else {
      AppendUtf8(c, out);
    }
  }
  out->push_back('"');
}

void AppendJson(const nlohmann::json& value, bool ensure_ascii, std::string* out) {
  switch (value.type()) {
    case nlohmann::json::value_t::number_float: {
      const double number = value.get<double>();
      if (std::isnan(number)) {
        out->append("NaN");
      } else if (std::isinf(number)) {
        out->append(number > 0 ? "Infinity" : "-Infinity");
      } else {
        out->append(PythonFloatRepr(number));
      }
      return;
    }
    case nlohmann::json::value_t::string:
      AppendJsonString(value.get_ref<const std::string&>(), ensure_ascii, out);
      return;
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const nlohmann::json& item : value) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, ensure_ascii, out);
      }
      out->push_back(']');
      return;
    }
    case nlohmann::json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, ensure_ascii, out);
        out->push_back(':');
        AppendJson(item, ensure_ascii, out);
      }
      out->push_back('}');
      return;
    }
    case nlohmann::json::value_t::null: out->append("null"); return;
    case nlohmann::json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    default: out->append(value.dump()); return;  // integers print the same in both
  }
}

}  // namespace

std::string PythonFloatRepr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";

  // The shortest round-trip digits, as Python's repr also chooses them (David Gay's mode 0).
  char buffer[64];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view scientific(buffer, end - buffer);  // "-1.2345e-05"
  std::string result;
  if (scientific.front() == '-') {
    result.push_back('-');
    scientific.remove_prefix(1);
  }
  const size_t e_pos = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  const int exponent = std::atoi(std::string(scientific.substr(e_pos + 1)).c_str());

  if (exponent < -4 || exponent >= 16) {
    result.push_back(digits[0]);
    if (digits.size() > 1) result.append(".").append(digits.substr(1));
    char tail[16];
    std::snprintf(tail, sizeof tail, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return result + tail;
  }
  if (exponent < 0) {
    return result + "0." + std::string(-exponent - 1, '0') + digits;
  }
  const size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    return result + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  }
  return result + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string PythonStringRepr(std::string_view utf8) {
  const bool has_single = utf8.find('\'') != std::string_view::npos;
  const bool has_double = utf8.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (size_t pos = 0; pos < utf8.size();) {
    const char32_t c = NextOrReplacement(utf8, &pos);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c < 0x20 || c == 0x7F) {
      AppendHex('x', c, 2, &out);
    } else if (c < 0x7F || IsPrintableNonAscii(c)) {
      AppendUtf8(c, &out);
    } else if (c <= 0xFF) {
      AppendHex('x', c, 2, &out);
    } else if (c <= 0xFFFF) {
      AppendHex('u', c, 4, &out);
    } else {
      AppendHex('U', c, 8, &out);
    }
  }
  out.push_back(quote);
  return out;
}

std::string PythonRepr(const nlohmann::ordered_json& value) {
  std::string out;
  AppendRepr(value, &out);
  return out;
}

std::string PythonStr(const nlohmann::ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  return PythonRepr(value);
}

std::string PythonJsonDumps(const nlohmann::json& value, bool ensure_ascii) {
  std::string out;
  AppendJson(value, ensure_ascii, &out);
  return out;
}

}  // namespace trainyard::core
