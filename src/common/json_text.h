// ParseJsonText: the one JSON parser for bodies that come from outside (the REST API, the
// progress callback, the SageMaker endpoint). Stricter than nlohmann's default in what RFC 8259
// leaves open: an object that names a key twice is refused (nlohmann keeps the last, so two
// readers of one body could disagree on what it says), and so is nesting deeper than a limit.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace trainyard {

// The parsed value, or InvalidArgument: "the body is not valid JSON: <parser's message>",
// "the JSON body nests deeper than <max_depth>", or a FieldError naming a duplicate key
// ("field 'lr': appears twice in one JSON object").
Result<nlohmann::json> ParseJsonText(std::string_view text, int max_depth);

}  // namespace trainyard
