// Small builders of schema parts that schema.cc and introspection.cc share. Internal to the
// graphql module.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "graphql/schema.h"

namespace trainyard::graphql::internal {

InputValueDefinition Input(std::string name, std::string type, std::string description,
                           std::optional<std::string> default_value = std::nullopt);
FieldDefinition Field(std::string name, std::string type, std::string description = "",
                      Resolver resolve = nullptr);
TypeDefinition Scalar(std::string name, std::string description);
TypeDefinition Enum(std::string name, std::string description, std::vector<std::string> values);

}  // namespace trainyard::graphql::internal
