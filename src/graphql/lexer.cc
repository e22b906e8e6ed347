#include "graphql/lexer.h"

#include <cstdio>
#include <vector>

#include "common/ascii.h"

namespace trainyard::graphql {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsNameContinue(char c) {
  return IsNameStart(c) || IsDigit(c);
}

void AppendUtf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t") == std::string::npos;
}

// BlockStringValue (2.9.4): the common indentation of all lines but the first removed, and the
// blank lines at the start and the end.
std::string BlockStringValue(const std::string& raw) {
  std::vector<std::string> lines;
  std::string current;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      lines.push_back(current);
      current.clear();
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      current += raw[i];
    }
  }
  lines.push_back(current);
  size_t common_indent = std::string::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t indent = lines[i].find_first_not_of(" \t");
    if (indent == std::string::npos) continue;
    common_indent = std::min(common_indent, indent);
  }
  if (common_indent != std::string::npos) {
    for (size_t i = 1; i < lines.size(); ++i) {
      lines[i] = lines[i].size() >= common_indent ? lines[i].substr(common_indent) : "";
    }
  }
  size_t first = 0, last = lines.size();
  while (first < last && IsBlank(lines[first])) ++first;
  while (last > first && IsBlank(lines[last - 1])) --last;
  std::string value;
  for (size_t i = first; i < last; ++i) {
    if (i > first) value += '\n';
    value += lines[i];
  }
  return value;
}

}  // namespace

std::string CodePointName(char32_t code_point) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(code_point));
  return buffer;
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case Token::Kind::kEnd: return "<EOF>";
    case Token::Kind::kPunctuator: return "\"" + token.text + "\"";
    case Token::Kind::kName: return "Name \"" + token.text + "\"";
    case Token::Kind::kInt: return "Int \"" + token.text + "\"";
    case Token::Kind::kFloat: return "Float \"" + token.text + "\"";
    case Token::Kind::kString: return token.block ? "BlockString" : "String";
  }
  return "token";
}

Lexer::Lexer(std::string_view source) : source_(source) {}

void Lexer::Fail(const std::string& message, Location where) const {
  throw SyntaxError("Syntax Error: " + message, where);
}

char32_t Lexer::PeekCodePoint(size_t* length) const {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(source_[position_ + i]); };
  unsigned char lead = byte(0);
  size_t size = lead < 0x80           ? 1
                : (lead >> 5) == 0x6  ? 2
                : (lead >> 4) == 0xE  ? 3
                : (lead >> 3) == 0x1E ? 4
                                      : 0;
  if (size == 0 || position_ + size > source_.size()) {
    Fail("Invalid UTF-8 byte " + CodePointName(lead) + ".", Here());
  }
  char32_t code_point = size == 1 ? lead : lead & (0x7F >> size);
  for (size_t i = 1; i < size; ++i) {
    if ((byte(i) & 0xC0) != 0x80) Fail("Invalid UTF-8 sequence.", Here());
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[size] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    Fail("Invalid UTF-8 sequence.", Here());
  }
  *length = size;
  return code_point;
}

void Lexer::Advance(size_t bytes) {
  for (size_t end = position_ + bytes; position_ < end; ++position_) {
    char c = source_[position_];
    if (c == '\n' ||
        (c == '\r' && !(position_ + 1 < source_.size() && source_[position_ + 1] == '\n'))) {
      ++line_;
      column_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && c != '\r') {
      ++column_;  // one per character, not per UTF-8 byte
    }
  }
}

void Lexer::SkipIgnored() {
  while (position_ < source_.size()) {
    char c = source_[position_];
    if (c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r') {
      Advance(1);
    } else if (source_.substr(position_, 3) == "\xEF\xBB\xBF") {  // a byte order mark
      Advance(3);
    } else if (c == '#') {
      while (position_ < source_.size() && source_[position_] != '\n' &&
             source_[position_] != '\r') {
        Advance(1);
      }
    } else {
      return;
    }
  }
}

Token Lexer::Next() {
  SkipIgnored();
  Token token;
  token.location = Here();
  if (position_ >= source_.size()) return token;
  char c = source_[position_];
  if (source_.substr(position_, 3) == "...") {
    token.kind = Token::Kind::kPunctuator;
    token.text = "...";
    Advance(3);
    return token;
  }
  if (std::string_view("!$&():=@[]{|}").find(c) != std::string_view::npos) {
    token.kind = Token::Kind::kPunctuator;
    token.text = std::string(1, c);
    Advance(1);
    return token;
  }
  if (IsNameStart(c)) {
    size_t end = position_;
    while (end < source_.size() && IsNameContinue(source_[end])) ++end;
    token.kind = Token::Kind::kName;
    token.text = std::string(source_.substr(position_, end - position_));
    Advance(end - position_);
    return token;
  }
  if (c == '-' || IsDigit(c)) return ReadNumber(token.location);
  if (source_.substr(position_, 3) == "\"\"\"") return ReadBlockString(token.location);
  if (c == '"') return ReadString(token.location);
  size_t length = 0;
  char32_t code_point = PeekCodePoint(&length);
  if (code_point >= 0x20 && code_point < 0x7F) {
    Fail(std::string("Unexpected character: \"") + c + "\".", token.location);
  }
  Fail("Unexpected character: " + CodePointName(code_point) + ".", token.location);
}

Token Lexer::ReadNumber(Location start) {
  size_t at = position_;
  auto peek = [&]() -> char { return at < source_.size() ? source_[at] : '\0'; };
  auto describe_here = [&]() -> std::string {
    if (at >= source_.size()) return "<EOF>";
    char here = source_[at];
    if (here >= 0x20 && here < 0x7F) return std::string("\"") + here + "\"";
    return CodePointName(static_cast<unsigned char>(here));
  };
  auto fail_at = [&](const std::string& message) {
    Advance(at - position_);
    Fail(message, Here());
  };
  auto digits = [&] {
    if (!IsDigit(peek()))
      fail_at("Invalid number, expected digit but got: " + describe_here() + ".");
    while (IsDigit(peek())) ++at;
  };
  bool is_float = false;
  if (peek() == '-') ++at;
  if (peek() == '0') {
    ++at;
    if (IsDigit(peek())) {
      fail_at("Invalid number, unexpected digit after 0: " + describe_here() + ".");
    }
  } else {
    digits();
  }
  if (peek() == '.') {
    is_float = true;
    ++at;
    digits();
  }
  if (peek() == 'e' || peek() == 'E') {
    is_float = true;
    ++at;
    if (peek() == '+' || peek() == '-') ++at;
    digits();
  }
  // A number may not run into a name or a dot: `1x`, `1.2.3`.
  if (peek() == '.' || IsNameStart(peek())) {
    fail_at("Invalid number, expected digit but got: " + describe_here() + ".");
  }
  Token token;
  token.kind = is_float ? Token::Kind::kFloat : Token::Kind::kInt;
  token.text = std::string(source_.substr(position_, at - position_));
  token.location = start;
  Advance(at - position_);
  return token;
}

Token Lexer::ReadString(Location start) {
  Advance(1);  // the opening quote
  std::string value;
  while (true) {
    if (position_ >= source_.size() || source_[position_] == '\n' || source_[position_] == '\r') {
      Fail("Unterminated string.", Here());
    }
    char c = source_[position_];
    if (c == '"') {
      Advance(1);
      break;
    }
    if (c == '\\') {
      Location escape_at = Here();
      if (position_ + 1 >= source_.size()) Fail("Unterminated string.", Here());
      char escaped = source_[position_ + 1];
      static const std::string_view kSimple = "\"\\/bfnrt";
      static const std::string_view kDecoded = "\"\\/\b\f\n\r\t";
      if (size_t i = kSimple.find(escaped); i != std::string_view::npos) {
        value += kDecoded[i];
        Advance(2);
        continue;
      }
      if (escaped != 'u') {
        size_t length = 1;
        if (static_cast<unsigned char>(escaped) >= 0x80) {
          Advance(1);
          PeekCodePoint(&length);
          Fail("Invalid character escape sequence: \"\\" +
                   std::string(source_.substr(position_, length)) + "\".",
               escape_at);
        }
        Fail("Invalid character escape sequence: \"\\" + std::string(1, escaped) + "\".",
             escape_at);
      }
      // \uXXXX (a surrogate pair as two of them) or \u{X...} (2.9.4, October 2021).
      auto read_hex = [&](size_t from, size_t count, char32_t* out) {
        *out = 0;
        for (size_t i = 0; i < count; ++i) {
          int digit = from + i < source_.size() ? HexDigitValue(source_[from + i]) : -1;
          if (digit < 0) return false;
          *out = (*out << 4) | static_cast<char32_t>(digit);
        }
        return true;
      };
      auto invalid = [&](size_t length) {
        Fail("Invalid Unicode escape sequence: \"" +
                 std::string(
                     source_.substr(position_, std::min(length, source_.size() - position_))) +
                 "\".",
             escape_at);
      };
      char32_t code_point = 0;
      if (position_ + 2 < source_.size() && source_[position_ + 2] == '{') {
        size_t end = position_ + 3;
        while (end < source_.size() && HexDigitValue(source_[end]) >= 0 && end - position_ < 12)
          ++end;
        if (end >= source_.size() || source_[end] != '}' || end == position_ + 3 ||
            !read_hex(position_ + 3, end - position_ - 3, &code_point) || code_point > 0x10FFFF ||
            (code_point >= 0xD800 && code_point <= 0xDFFF)) {
          invalid(end - position_ + 1);
        }
        AppendUtf8(value, code_point);
        Advance(end - position_ + 1);
        continue;
      }
      if (!read_hex(position_ + 2, 4, &code_point)) invalid(6);
      if (code_point >= 0xD800 && code_point <= 0xDBFF) {
        char32_t low = 0;
        if (source_.substr(position_ + 6, 2) == "\\u" && read_hex(position_ + 8, 4, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
          AppendUtf8(value, 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00));
          Advance(12);
          continue;
        }
        invalid(6);
      }
      if (code_point >= 0xDC00 && code_point <= 0xDFFF) invalid(6);
      AppendUtf8(value, code_point);
      Advance(6);
      continue;
    }
    size_t length = 0;
    char32_t code_point = PeekCodePoint(&length);
    if (code_point < 0x20 && code_point != '\t') {
      Fail("Invalid character within String: " + CodePointName(code_point) + ".", Here());
    }
    value.append(source_.substr(position_, length));
    Advance(length);
  }
  Token token;
  token.kind = Token::Kind::kString;
  token.text = std::move(value);
  token.location = start;
  return token;
}

Token Lexer::ReadBlockString(Location start) {
  Advance(3);
  std::string raw;
  while (true) {
    if (position_ >= source_.size()) Fail("Unterminated string.", Here());
    if (source_.substr(position_, 3) == "\"\"\"") {
      Advance(3);
      break;
    }
    if (source_.substr(position_, 4) == "\\\"\"\"") {
      raw += "\"\"\"";
      Advance(4);
      continue;
    }
    size_t length = 0;
    char32_t code_point = PeekCodePoint(&length);
    if (code_point < 0x20 && code_point != '\t' && code_point != '\n' && code_point != '\r') {
      Fail("Invalid character within String: " + CodePointName(code_point) + ".", Here());
    }
    raw.append(source_.substr(position_, length));
    Advance(length);
  }
  Token token;
  token.kind = Token::Kind::kString;
  token.block = true;
  token.text = BlockStringValue(raw);
  token.location = start;
  return token;
}

}  // namespace trainyard::graphql
