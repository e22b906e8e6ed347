// Parsing hyperparameter text the way Python's json.loads does, within what nlohmann::json
// can hold without changing the value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace trainyard::core {

// The value json.loads(text) gives, or nullopt where json.loads fails or where its answer
// cannot be kept faithfully, in which case callers keep the text as a string:
// - NaN, Infinity, -Infinity and numbers too large for a double (1e400): Python accepts them
//   as floats, but JSON has none, and every trainyard file that carries the value (job.json,
//   SM_HPS) must stay valid JSON;
// - integers beyond 64 bits: Python keeps them exact, nlohmann::json would round them to a
//   double, so the text (which prints as Python would print the int) is kept instead;
// - a leading byte-order mark: nlohmann skips it, Python refuses it;
// - nesting deeper than 500 levels, where Python itself gives up (RecursionError).
// Whitespace around the value is allowed, as Python allows it.
std::optional<nlohmann::json> LoadsLikePython(std::string_view text);

// The same with objects in document order, as a Python dict keeps them (for repr()).
std::optional<nlohmann::ordered_json> LoadsLikePythonOrdered(std::string_view text);

}  // namespace trainyard::core
