#include "graphql/error.h"

namespace trainyard::graphql {

nlohmann::json ToJson(const Error& error) {
  nlohmann::json out = {{"message", error.message}};
  if (!error.locations.empty()) {
    nlohmann::json locations = nlohmann::json::array();
    for (const Location& location : error.locations) {
      locations.push_back({{"line", location.line}, {"column", location.column}});
    }
    out["locations"] = std::move(locations);
  }
  if (error.path.is_array()) out["path"] = error.path;
  if (error.extensions.is_object()) out["extensions"] = error.extensions;
  return out;
}

nlohmann::json ToJson(const std::vector<Error>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const Error& error : errors) out.push_back(ToJson(error));
  return out;
}

}  // namespace trainyard::graphql
