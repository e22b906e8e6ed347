#include "common/json_text.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace trainyard {

using nlohmann::json;

namespace {

Status DuplicateKey(const std::string& key) {
  return InvalidArgument("field '" + key + "': appears twice in one JSON object");
}

}  // namespace

Result<json> ParseJsonText(std::string_view text, int max_depth) {
  bool too_deep = false;
  std::optional<std::string> duplicate;
  // The keys seen so far in each object being read, innermost last.
  std::vector<std::set<std::string>> open_objects;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_depth) too_deep = true;
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end && !open_objects.empty()) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && !duplicate) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) duplicate = key;
    }
    return !too_deep && !duplicate;  // false: stop reading (the rest is thrown away)
  };
  try {
    json value = json::parse(text, check);
    if (too_deep)
      return InvalidArgument("the JSON body nests deeper than " + std::to_string(max_depth));
    if (duplicate) return DuplicateKey(*duplicate);
    return value;
  } catch (const json::parse_error& error) {
    if (too_deep)
      return InvalidArgument("the JSON body nests deeper than " + std::to_string(max_depth));
    if (duplicate) return DuplicateKey(*duplicate);
    return InvalidArgument(std::string("the body is not valid JSON: ") + error.what());
  }
}

}  // namespace trainyard
