// JavaPattern: a regular expression from an AWS service model, matched the way the service
// (Java's Pattern.matches) matches it, with PCRE2.
//
// botocore's "pattern" traits are Java regular expressions that must match the WHOLE value:
// compiled with PCRE2_ANCHORED | PCRE2_ENDANCHORED in UTF mode, "." stops at Java's line
// terminators (\n, \r, \u0085, \u2028, \u2029: PCRE2_NEWLINE_ANY), \w \d \s stay ASCII as in
// Java, and \p{L}, lookbehind, [\S\s] work as they are. The few Java-only spellings found in the
// models are rewritten first (see TranslateJavaPattern).
//
// Thread-safe: a compiled pattern is immutable; each thread matches with its own match data.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trainyard::aws {

// The PCRE2 spelling of a Java pattern: \uXXXX (and a \uD8xx\uDCxx surrogate pair, which Java
// reads as one code point) becomes \x{...}; a quantifier on ^ or $ (Java accepts "${1,128}",
// PCRE2 refuses it) gets a group to repeat, "(?:$){1,128}". Everything else is kept.
std::string TranslateJavaPattern(std::string_view java_pattern);

class JavaPattern {
 public:
  // Compiles once, with the JIT when PCRE2 has one (and without it otherwise). InvalidArgument,
  // naming the pattern, PCRE2's reason and the offset, when PCRE2 cannot compile it.
  static Result<JavaPattern> Compile(std::string_view java_pattern);

  // Whether the whole subject matches. False for a subject that is not valid UTF-8, and when
  // PCRE2 gives up (match or depth limit): the value is then refused, never let through.
  bool Matches(std::string_view subject) const;

  // The pattern as the model writes it (what AWS's messages quote).
  const std::string& source() const;

  JavaPattern(JavaPattern&&) noexcept;
  JavaPattern& operator=(JavaPattern&&) noexcept;
  ~JavaPattern();

 private:
  struct Compiled;
  explicit JavaPattern(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace trainyard::aws
