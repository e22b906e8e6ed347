// Validation of a document against a schema (spec 5), the rules that matter for the parts of
// GraphQL this server runs: operation names (5.2), field selections and leaf selections (5.3.1,
// 5.3.3; merging is checked among sibling fields), arguments (5.4), fragments (5.5), values
// (5.6), directives (5.7) and variables (5.8). Messages are graphql-js's, each error with its
// locations and extensions.code "InvalidArgument".
//
// Thread-safe (no state).
#pragma once

#include <vector>

#include "graphql/ast.h"
#include "graphql/error.h"
#include "graphql/schema.h"

namespace trainyard::graphql {

// The errors found; none when the document is valid.
std::vector<Error> Validate(const Schema& schema, const Document& document);

// An error of the request as a whole (a syntax error, a validation error, a bad variable): its
// extensions.code is "InvalidArgument".
Error RequestError(std::string message, std::vector<Location> locations = {});

}  // namespace trainyard::graphql
