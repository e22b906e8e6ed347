// Input values against their types (spec 3.5 and 3.9–3.11, 5.6, 6.1.2, 6.4.1) and the
// serialization of leaf values (3.5, 3.9): shared by validation and execution so that both
// apply the same rules and say the same thing.
//
// Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "graphql/ast.h"
#include "graphql/schema.h"

namespace trainyard::graphql {

// The literal as written ("\"x\"", "[1, 2]", "{a: B}", "$v"), for messages.
std::string Print(const Value& literal);
// A JSON value as graphql-js's inspect shows it in messages ("\"x\"", "{ a: 1 }").
std::string Inspect(const nlohmann::json& value);

// What is wrong with `literal` as a value of `type` (spec 5.6.1–5.6.4): one message per fault,
// none when it is valid. A variable is valid anywhere here (its use is checked by 5.8.5).
std::vector<std::string> CheckLiteral(const Schema& schema, const TypeRef& type,
                                      const Value& literal);

// The JSON value of a valid literal, its variables taken from `variables` (coerced values by
// name); a variable without a value is null inside a list and leaves an input object's field
// out. InvalidArgument when a variable's null meets a non-null type.
Result<nlohmann::json> CoerceLiteral(const Schema& schema, const TypeRef& type,
                                     const Value& literal, const nlohmann::json& variables);

// A variable's value given as JSON, coerced to `type`: InvalidArgument with graphql-js's
// reason ("Int cannot represent non-integer value: \"x\"", "Field \"f\" is not defined by type
// \"T\".") otherwise; `at` names the place inside the value (" at \"value.f\"").
Result<nlohmann::json> CoerceVariableValue(const Schema& schema, const TypeRef& type,
                                           const nlohmann::json& value, const std::string& at = "");

// A resolver's value of a leaf type as the response carries it; InvalidArgument ("Int cannot
// represent non 32-bit signed integer value: 3000000000") when it cannot be.
Result<nlohmann::json> SerializeLeaf(const TypeDefinition& type, const nlohmann::json& value);

}  // namespace trainyard::graphql
