// The introspection types (spec 4.2): __Schema, __Type, __Field, __InputValue, __EnumValue,
// __Directive and their enums, answered from the schema itself. A type reference is JSON:
// {"name"} for a named type, {"kind": "LIST" or "NON_NULL", "ofType"} for a wrapper.
#include "graphql/schema.h"
#include "graphql/schema_builders.h"

namespace trainyard::graphql {
namespace {

using internal::Enum;
using internal::Field;
using internal::Input;
using nlohmann::json;

// Introspection's view of a type reference: {"name"} for a named type, {"kind", "ofType"} for
// a wrapper; __Type's resolvers look the named type up.
json TypeRefJson(const TypeRef& type) {
  switch (type.kind) {
    case TypeRef::Kind::kNamed: return {{"name", type.name}};
    case TypeRef::Kind::kList: return {{"kind", "LIST"}, {"ofType", TypeRefJson(*type.of_type)}};
    case TypeRef::Kind::kNonNull:
      return {{"kind", "NON_NULL"}, {"ofType", TypeRefJson(*type.of_type)}};
  }
  return nullptr;
}

json Nullable(const std::string& text) {
  return text.empty() ? json() : json(text);
}

json InputValueJson(const InputValueDefinition& value) {
  return {{"name", value.name},
          {"description", Nullable(value.description)},
          {"type", TypeRefJson(value.parsed_type)},
          {"defaultValue", value.default_value ? json(*value.default_value) : json()},
          {"isDeprecated", false},
          {"deprecationReason", nullptr}};
}

json InputValuesJson(const std::vector<InputValueDefinition>& values) {
  json list = json::array();
  for (const InputValueDefinition& value : values) list.push_back(InputValueJson(value));
  return list;
}

}  // namespace

void Schema::AddIntrospection() {
  Add(Enum("__TypeKind", "An enum describing what kind of type a given `__Type` is.",
           {"SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT", "LIST", "NON_NULL"}));
  Add(Enum("__DirectiveLocation",
           "A Directive can be adjacent to many parts of the GraphQL language, a "
           "__DirectiveLocation describes one such possible adjacencies.",
           {"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
            "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR", "OBJECT",
            "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM", "ENUM_VALUE",
            "INPUT_OBJECT", "INPUT_FIELD_DEFINITION"}));

  auto named = [this](const json& parent) -> const TypeDefinition* {
    return parent.contains("name") ? FindType(parent["name"].get<std::string>()) : nullptr;
  };
  auto deprecated_filter = [](json list, const json& arguments) {
    if (arguments.value("includeDeprecated", false)) return list;
    json kept = json::array();
    for (json& item : list) {
      if (!item.value("isDeprecated", false)) kept.push_back(std::move(item));
    }
    return kept;
  };
  auto include_deprecated = [] {
    return std::vector<InputValueDefinition>{Input("includeDeprecated", "Boolean", "", "false")};
  };

  TypeDefinition schema_type;
  schema_type.name = "__Schema";
  schema_type.description =
      "A GraphQL Schema defines the capabilities of a GraphQL server. It exposes all available "
      "types and directives on the server, as well as the entry points for query, mutation, and "
      "subscription operations.";
  schema_type.fields = {
      Field("description", "String", "",
            [](const FieldRequest&) -> Result<json> { return json(); }),
      Field("types", "[__Type!]!", "A list of all types supported by this server.",
            [this](const FieldRequest&) -> Result<json> {
              json list = json::array();
              for (const auto& type : types_) list.push_back({{"name", type->name}});
              return list;
            }),
      Field("queryType", "__Type!", "The type that query operations will be rooted at.",
            [this](const FieldRequest&) -> Result<json> {
              return json{{"name", query_type_->name}};
            }),
      Field("mutationType", "__Type",
            "If this server supports mutation, the type that mutation operations will be rooted "
            "at.",
            [this](const FieldRequest&) -> Result<json> {
              return mutation_type_ ? json{{"name", mutation_type_->name}} : json();
            }),
      Field("subscriptionType", "__Type",
            "If this server support subscription, the type that subscription operations will be "
            "rooted at.",
            [this](const FieldRequest&) -> Result<json> {
              return subscription_type_ ? json{{"name", subscription_type_->name}} : json();
            }),
      Field("directives", "[__Directive!]!", "A list of all directives supported by this server.",
            [this](const FieldRequest&) -> Result<json> {
              json list = json::array();
              for (const DirectiveDefinition& directive : directives_) {
                list.push_back({{"name", directive.name},
                                {"description", Nullable(directive.description)},
                                {"isRepeatable", directive.repeatable},
                                {"locations", directive.locations},
                                {"args", InputValuesJson(directive.arguments)}});
              }
              return list;
            }),
  };
  Add(std::move(schema_type));

  TypeDefinition type_type;
  type_type.name = "__Type";
  type_type.description =
      "The fundamental unit of any GraphQL Schema is the type. There are many kinds of types in "
      "GraphQL as represented by the `__TypeKind` enum.";
  FieldDefinition fields =
      Field("fields", "[__Field!]", "", [this, named, deprecated_filter](const FieldRequest& r) {
        const TypeDefinition* type = named(r.parent);
        if (!type || type->kind != TypeKind::kObject) return Result<json>(json());
        json list = json::array();
        for (const FieldDefinition& field : type->fields) {
          list.push_back({{"name", field.name},
                          {"description", Nullable(field.description)},
                          {"args", InputValuesJson(field.arguments)},
                          {"type", TypeRefJson(field.parsed_type)},
                          {"isDeprecated", field.deprecation_reason.has_value()},
                          {"deprecationReason",
                           field.deprecation_reason ? json(*field.deprecation_reason) : json()}});
        }
        return Result<json>(deprecated_filter(std::move(list), r.arguments));
      });
  fields.arguments = include_deprecated();
  FieldDefinition enum_values =
      Field("enumValues", "[__EnumValue!]", "", [named, deprecated_filter](const FieldRequest& r) {
        const TypeDefinition* type = named(r.parent);
        if (!type || type->kind != TypeKind::kEnum) return Result<json>(json());
        json list = json::array();
        for (const EnumValueDefinition& value : type->enum_values) {
          list.push_back({{"name", value.name},
                          {"description", Nullable(value.description)},
                          {"isDeprecated", value.deprecation_reason.has_value()},
                          {"deprecationReason",
                           value.deprecation_reason ? json(*value.deprecation_reason) : json()}});
        }
        return Result<json>(deprecated_filter(std::move(list), r.arguments));
      });
  enum_values.arguments = include_deprecated();
  FieldDefinition input_fields =
      Field("inputFields", "[__InputValue!]", "", [named](const FieldRequest& r) {
        const TypeDefinition* type = named(r.parent);
        if (!type || type->kind != TypeKind::kInputObject) return Result<json>(json());
        return Result<json>(InputValuesJson(type->input_fields));
      });
  input_fields.arguments = include_deprecated();
  type_type.fields = {
      Field("kind", "__TypeKind!", "",
            [named](const FieldRequest& r) -> Result<json> {
              if (r.parent.contains("kind")) return r.parent["kind"];
              const TypeDefinition* type = named(r.parent);
              if (!type) return Internal("introspection of an unknown type");
              return json(IntrospectionName(type->kind));
            }),
      Field("name", "String", "",
            [](const FieldRequest& r) -> Result<json> { return r.parent.value("name", json()); }),
      Field("description", "String", "",
            [named](const FieldRequest& r) -> Result<json> {
              const TypeDefinition* type = named(r.parent);
              return type ? Nullable(type->description) : json();
            }),
      Field("specifiedByURL", "String", "",
            [named](const FieldRequest& r) -> Result<json> {
              const TypeDefinition* type = named(r.parent);
              return type ? Nullable(type->specified_by_url) : json();
            }),
      std::move(fields),
      Field("interfaces", "[__Type!]", "",
            [named](const FieldRequest& r) -> Result<json> {
              const TypeDefinition* type = named(r.parent);
              return type && type->kind == TypeKind::kObject ? json::array() : json();
            }),
      Field("possibleTypes", "[__Type!]", "",
            [](const FieldRequest&) -> Result<json> { return json(); }),
      std::move(enum_values),
      std::move(input_fields),
      Field("ofType", "__Type", "",
            [](const FieldRequest& r) -> Result<json> { return r.parent.value("ofType", json()); }),
      Field("isOneOf", "Boolean", "",
            [named](const FieldRequest& r) -> Result<json> {
              const TypeDefinition* type = named(r.parent);
              return type && type->kind == TypeKind::kInputObject ? json(false) : json();
            }),
  };
  Add(std::move(type_type));

  TypeDefinition field_type;
  field_type.name = "__Field";
  field_type.description =
      "Object and Interface types are described by a list of Fields, each of which has a name, "
      "potentially a list of arguments, and a return type.";
  FieldDefinition field_args = Field(
      "args", "[__InputValue!]!", "",
      [](const FieldRequest& r) -> Result<json> { return r.parent.value("args", json::array()); });
  field_args.arguments = include_deprecated();
  field_type.fields = {Field("name", "String!"),
                       Field("description", "String"),
                       std::move(field_args),
                       Field("type", "__Type!"),
                       Field("isDeprecated", "Boolean!"),
                       Field("deprecationReason", "String")};
  Add(std::move(field_type));

  TypeDefinition input_value_type;
  input_value_type.name = "__InputValue";
  input_value_type.description =
      "Arguments provided to Fields or Directives and the input fields of an InputObject are "
      "represented as Input Values which describe their type and optionally a default value.";
  input_value_type.fields = {
      Field("name", "String!"),
      Field("description", "String"),
      Field("type", "__Type!"),
      Field("defaultValue", "String",
            "A GraphQL-formatted string representing the default value for this input value."),
      Field("isDeprecated", "Boolean!"),
      Field("deprecationReason", "String")};
  Add(std::move(input_value_type));

  TypeDefinition enum_value_type;
  enum_value_type.name = "__EnumValue";
  enum_value_type.description =
      "One possible value for a given Enum. Enum values are unique values, not a placeholder for "
      "a string or numeric value. However an Enum value is returned in a JSON response as a "
      "string.";
  enum_value_type.fields = {Field("name", "String!"), Field("description", "String"),
                            Field("isDeprecated", "Boolean!"),
                            Field("deprecationReason", "String")};
  Add(std::move(enum_value_type));

  TypeDefinition directive_type;
  directive_type.name = "__Directive";
  directive_type.description =
      "A Directive provides a way to describe alternate runtime execution and type validation "
      "behavior in a GraphQL document.";
  FieldDefinition directive_args = Field(
      "args", "[__InputValue!]!", "",
      [](const FieldRequest& r) -> Result<json> { return r.parent.value("args", json::array()); });
  directive_args.arguments = include_deprecated();
  directive_type.fields = {
      Field("name", "String!"), Field("description", "String"), Field("isRepeatable", "Boolean!"),
      Field("locations", "[__DirectiveLocation!]!"), std::move(directive_args)};
  Add(std::move(directive_type));

  typename_field_ = Field("__typename", "String!", "The name of the current Object type.");
  schema_field_ = Field("__schema", "__Schema!", "Access the current type schema of this server.",
                        [](const FieldRequest&) -> Result<json> { return json::object(); });
  type_field_ = Field("__type", "__Type", "Request the type information of a single type.",
                      [this](const FieldRequest& r) -> Result<json> {
                        std::string name = r.arguments.value("name", "");
                        return FindType(name) ? json{{"name", name}} : json();
                      });
  type_field_.arguments = {Input("name", "String!", "")};
}

}  // namespace trainyard::graphql
