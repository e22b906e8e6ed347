// Java regular expressions on PCRE2. Java's Pattern.matches needs the whole subject to match,
// which PCRE2_ANCHORED | PCRE2_ENDANCHORED gives without rewriting the pattern (wrapping it in
// "^(?:...)$" would change what a trailing "$" before a final newline means).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "aws/java_pattern.h"

#include <pcre2.h>

#include <cstdio>
#include <optional>

#include "common/ascii.h"

namespace trainyard::aws {
namespace {

// The code unit of "\uXXXX" at text[pos] (pos at the backslash), or nullopt.
std::optional<unsigned> UnicodeEscapeAt(std::string_view text, size_t pos) {
  if (pos + 6 > text.size() || text[pos] != '\\' || text[pos + 1] != 'u') return std::nullopt;
  unsigned value = 0;
  for (size_t i = pos + 2; i < pos + 6; ++i) {
    const int digit = HexDigitValue(text[i]);
    if (digit < 0) return std::nullopt;
    value = value * 16 + static_cast<unsigned>(digit);
  }
  return value;
}

std::string HexEscape(unsigned code_point) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "\\x{%X}", code_point);
  return buffer;
}

// A quantifier starts at text[pos]: "*", "+", "?" or "{" followed by a digit.
bool QuantifierAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  const char c = text[pos];
  if (c == '*' || c == '+' || c == '?') return true;
  return c == '{' && pos + 1 < text.size() && text[pos + 1] >= '0' && text[pos + 1] <= '9';
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

// One match data per thread, big enough for the whole-match offsets (the only ones we need:
// a match with more groups than fit still reports success).
pcre2_match_data* ThreadMatchData() {
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
      pcre2_match_data_create(1, nullptr));
  return data.get();
}

std::string ErrorText(int error_code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(error_code, buffer, sizeof(buffer)) < 0) return "unknown error";
  return reinterpret_cast<const char*>(buffer);
}

}  // namespace

struct JavaPattern::Compiled {
  std::string source;
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

std::string TranslateJavaPattern(std::string_view java_pattern) {
  std::string out;
  out.reserve(java_pattern.size());
  int class_depth = 0;  // Java classes nest ("[a[b]]"); ^ and $ inside them are literal
  for (size_t i = 0; i < java_pattern.size(); ++i) {
    const char c = java_pattern[i];
    if (c == '\\' && i + 1 < java_pattern.size()) {
      if (const auto unit = UnicodeEscapeAt(java_pattern, i)) {
        const auto low = UnicodeEscapeAt(java_pattern, i + 6);
        if (*unit >= 0xD800 && *unit <= 0xDBFF && low && *low >= 0xDC00 && *low <= 0xDFFF) {
          out += HexEscape(0x10000 + ((*unit - 0xD800) << 10) + (*low - 0xDC00));
          i += 11;
        } else {
          out += HexEscape(*unit);  // a lone surrogate stays one, and PCRE2 refuses it
          i += 5;
        }
        continue;
      }
      out += java_pattern.substr(i, 2);
      ++i;
      continue;
    }
    if (c == '[') ++class_depth;
    if (c == ']' && class_depth > 0) --class_depth;
    if ((c == '$' || c == '^') && class_depth == 0 && QuantifierAt(java_pattern, i + 1)) {
      out += "(?:";
      out += c;
      out += ')';
      continue;
    }
    out += c;
  }
  return out;
}

Result<JavaPattern> JavaPattern::Compile(std::string_view java_pattern) {
  const std::string translated = TranslateJavaPattern(java_pattern);
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  if (context == nullptr) return Internal("PCRE2: out of memory");
  pcre2_set_newline(context, PCRE2_NEWLINE_ANY);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
      PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &error_code, &error_offset, context);
  pcre2_compile_context_free(context);
  if (code == nullptr) {
    return InvalidArgument(
        "pattern '" + std::string(java_pattern) + "' does not compile with PCRE2 (as '" +
        translated + "'): " + ErrorText(error_code) + " at offset " + std::to_string(error_offset));
  }
  // Without a JIT (or when it fails) pcre2_match interprets the pattern: slower, same answers.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto compiled = std::make_unique<Compiled>();
  compiled->source = std::string(java_pattern);
  compiled->code = code;
  return JavaPattern(std::move(compiled));
}

bool JavaPattern::Matches(std::string_view subject) const {
  pcre2_match_data* data = ThreadMatchData();
  if (data == nullptr) return false;
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc = pcre2_match(compiled_->code, text, subject.size(), 0, 0, data, nullptr);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // The JIT's default stack is small; the interpreter keeps its backtracking on the heap.
    rc = pcre2_match(compiled_->code, text, subject.size(), 0, PCRE2_NO_JIT, data, nullptr);
  }
  return rc >= 0;  // 0: matched, with more groups than the match data holds
}

const std::string& JavaPattern::source() const {
  return compiled_->source;
}

JavaPattern::JavaPattern(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
JavaPattern::JavaPattern(JavaPattern&&) noexcept = default;
JavaPattern& JavaPattern::operator=(JavaPattern&&) noexcept = default;
JavaPattern::~JavaPattern() = default;

}  // namespace trainyard::aws
