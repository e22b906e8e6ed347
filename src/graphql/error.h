// A GraphQL error as the spec shapes it (7.1.2): a message, the locations in the document it
// concerns, the path of the response field it belongs to, and extensions (here `code`, one of
// the API's error codes such as "InvalidArgument" or "NotFound", and `field` where an input
// field is at fault).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "graphql/ast.h"

namespace trainyard::graphql {

struct Error {
  std::string message;
  std::vector<Location> locations;
  nlohmann::json path;        // null, or an array of response names and list indexes
  nlohmann::json extensions;  // null, or an object
};

// {"message", "locations"?, "path"?, "extensions"?}: absent members are left out.
nlohmann::json ToJson(const Error& error);
nlohmann::json ToJson(const std::vector<Error>& errors);

}  // namespace trainyard::graphql
