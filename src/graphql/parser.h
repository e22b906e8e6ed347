// The GraphQL parser (spec 2): an executable document (operations and fragments) into the
// syntax tree of ast.h. A type system definition (`type`, `schema`, ...) is a syntax error here:
// the server's schema is built in code (schema.h).
//
// Thread-safe (no state). Never throws.
#pragma once

#include <optional>
#include <string_view>

#include "graphql/ast.h"
#include "graphql/error.h"

namespace trainyard::graphql {

// Selection sets, lists, input objects and type wrappers nested deeper than this are refused:
// the validator and the executor walk the tree recursively.
inline constexpr int kMaxNestingDepth = 64;

struct ParseOutcome {
  std::optional<Document> document;  // set when the document parsed
  std::optional<Error> error;        // "Syntax Error: ..." with its one location otherwise
};

ParseOutcome Parse(std::string_view source);

// A type as written (`[String!]!`), for the schema built in code; nullopt when `text` is not one.
std::optional<TypeRef> ParseType(std::string_view text);

}  // namespace trainyard::graphql
