// The GraphQL lexer (spec 2.1): punctuators, names, numbers, strings and block strings, with
// whitespace, commas, comments and a byte order mark ignored. Positions are counted in Unicode
// characters, as GraphQL's errors report them.
//
// Not thread-safe (one per document); it reports a malformed token by throwing SyntaxError,
// which Parse (parser.h) turns into an Error.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "graphql/ast.h"

namespace trainyard::graphql {

struct Token {
  enum class Kind {
    kEnd,
    kPunctuator,  // ! $ & ( ) ... : = @ [ ] { | }
    kName,
    kInt,
    kFloat,
    kString,  // text is the decoded value (block strings too)
  };
  Kind kind = Kind::kEnd;
  std::string text;
  bool block = false;  // a """block string"""
  Location location;
};

// "<EOF>", "Name \"foo\"", "\"{\"", "Int \"3\"", "String \"x\"": how graphql-js names a token.
std::string Describe(const Token& token);

struct SyntaxError : std::runtime_error {
  SyntaxError(const std::string& message, Location where)
      : std::runtime_error(message), location(where) {}
  Location location;
};

class Lexer {
 public:
  explicit Lexer(std::string_view source);
  // The next token; kEnd at the end (again on every later call). Throws SyntaxError.
  Token Next();

 private:
  void SkipIgnored();
  Token ReadNumber(Location start);
  Token ReadString(Location start);
  Token ReadBlockString(Location start);
  // Decodes one UTF-8 character at the cursor; throws SyntaxError on a malformed one.
  char32_t PeekCodePoint(size_t* length) const;
  void Advance(size_t bytes);  // moves the cursor over `bytes`, counting lines and columns
  Location Here() const { return {line_, column_}; }
  [[noreturn]] void Fail(const std::string& message, Location where) const;

  std::string_view source_;
  size_t position_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// "U+0007" style names of characters for error messages.
std::string CodePointName(char32_t code_point);

}  // namespace trainyard::graphql
