#include "graphql/schema.h"

#include "graphql/parser.h"
#include "graphql/values.h"

namespace trainyard::graphql {
namespace {

using nlohmann::json;

InputValueDefinition Input(std::string name, std::string type, std::string description,
                           std::optional<std::string> default_value = std::nullopt) {
  InputValueDefinition value;
  value.name = std::move(name);
  value.type = std::move(type);
  value.description = std::move(description);
  value.default_value = std::move(default_value);
  return value;
}

FieldDefinition Field(std::string name, std::string type, std::string description = "",
                      Resolver resolve = nullptr) {
  FieldDefinition field;
  field.name = std::move(name);
  field.type = std::move(type);
  field.description = std::move(description);
  field.resolve = std::move(resolve);
  return field;
}

TypeDefinition Scalar(std::string name, std::string description) {
  TypeDefinition type;
  type.kind = TypeKind::kScalar;
  type.name = std::move(name);
  type.description = std::move(description);
  return type;
}

TypeDefinition Enum(std::string name, std::string description, std::vector<std::string> values) {
  TypeDefinition type;
  type.kind = TypeKind::kEnum;
  type.name = std::move(name);
  type.description = std::move(description);
  for (std::string& value : values) type.enum_values.push_back({std::move(value), "", {}});
  return type;
}

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

bool IsWhiteSpace(char c) {
  return c == ' ' || c == '\t';
}

// graphql-js's printBlockString: a description as a """block string""".
std::string BlockString(const std::string& value) {
  std::string escaped;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value.compare(i, 3, "\"\"\"") == 0) {
      escaped += "\\\"\"\"";
      i += 2;
    } else {
      escaped += value[i];
    }
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t end = value.find('\n', start);
    lines.push_back(value.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  bool single_line = lines.size() == 1;
  bool force_leading_newline = lines.size() > 1;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (!lines[i].empty() && !IsWhiteSpace(lines[i][0])) force_leading_newline = false;
  }
  bool trailing_triple_quotes = escaped.ends_with("\\\"\"\"");
  bool trailing_quote = value.ends_with("\"") && !trailing_triple_quotes;
  bool force_trailing_newline = trailing_quote || value.ends_with("\\");
  bool multiple_lines = !single_line || value.size() > 70 || force_trailing_newline ||
                        force_leading_newline || trailing_triple_quotes;
  bool skip_leading_newline = single_line && !value.empty() && IsWhiteSpace(value[0]);
  std::string result;
  if ((multiple_lines && !skip_leading_newline) || force_leading_newline) result += "\n";
  result += escaped;
  if (multiple_lines || force_trailing_newline) result += "\n";
  return "\"\"\"" + result + "\"\"\"";
}

std::string Description(const std::string& description, const std::string& indentation,
                        bool first_in_block) {
  if (description.empty()) return "";
  std::string block = BlockString(description);
  std::string indented;
  for (char c : block) {
    indented += c;
    if (c == '\n') indented += indentation;
  }
  std::string prefix = !indentation.empty() && !first_in_block ? "\n" + indentation : indentation;
  return prefix + indented + "\n";
}

std::string Deprecation(const std::optional<std::string>& reason) {
  if (!reason) return "";
  if (*reason == "No longer supported") return " @deprecated";
  return " @deprecated(reason: " + json(*reason).dump() + ")";
}

std::string InputValueLine(const InputValueDefinition& value) {
  std::string line = value.name + ": " + value.type;
  if (value.default_value) line += " = " + *value.default_value;
  return line;
}

std::string Arguments(const std::vector<InputValueDefinition>& arguments,
                      const std::string& indentation) {
  if (arguments.empty()) return "";
  bool described = false;
  for (const auto& argument : arguments) described |= !argument.description.empty();
  std::string out = "(";
  if (!described) {
    for (size_t i = 0; i < arguments.size(); ++i) {
      out += (i ? ", " : "") + InputValueLine(arguments[i]);
    }
    return out + ")";
  }
  out += "\n";
  for (size_t i = 0; i < arguments.size(); ++i) {
    out += Description(arguments[i].description, "  " + indentation, i == 0);
    out += "  " + indentation + InputValueLine(arguments[i]) + "\n";
  }
  return out + indentation + ")";
}

}  // namespace

const char* IntrospectionName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kScalar: return "SCALAR";
    case TypeKind::kObject: return "OBJECT";
    case TypeKind::kEnum: return "ENUM";
    case TypeKind::kInputObject: return "INPUT_OBJECT";
  }
  return "SCALAR";
}

bool IsBuiltInScalar(std::string_view name) {
  return name == "Int" || name == "Float" || name == "String" || name == "Boolean" || name == "ID";
}

bool IsInputType(const TypeDefinition& type) {
  return type.kind != TypeKind::kObject;
}

bool IsLeafType(const TypeDefinition& type) {
  return type.kind == TypeKind::kScalar || type.kind == TypeKind::kEnum;
}

const std::string& NamedType(const TypeRef& type) {
  return type.kind == TypeRef::Kind::kNamed ? type.name : NamedType(*type.of_type);
}

const FieldDefinition* TypeDefinition::FindField(std::string_view field_name) const {
  for (const FieldDefinition& field : fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

const InputValueDefinition* TypeDefinition::FindInputField(std::string_view field_name) const {
  for (const InputValueDefinition& field : input_fields) {
    if (field.name == field_name) return &field;
  }
  return nullptr;
}

bool TypeDefinition::HasEnumValue(std::string_view value) const {
  for (const EnumValueDefinition& enum_value : enum_values) {
    if (enum_value.name == value) return true;
  }
  return false;
}

Schema::Schema() {
  Add(Scalar("Int",
             "The `Int` scalar type represents non-fractional signed whole numeric "
             "values. Int can represent values between -(2^31) and 2^31 - 1."));
  Add(Scalar(
      "Float",
      "The `Float` scalar type represents signed double-precision fractional "
      "values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point)."));
  Add(Scalar("String",
             "The `String` scalar type represents textual data, represented as UTF-8 "
             "character sequences."));
  Add(Scalar("Boolean", "The `Boolean` scalar type represents `true` or `false`."));
  Add(Scalar("ID",
             "The `ID` scalar type represents a unique identifier, often used to refetch "
             "an object or as key for a cache. It is serialized as a String."));
  const std::vector<std::string> executable_locations = {"FIELD", "FRAGMENT_SPREAD",
                                                         "INLINE_FRAGMENT"};
  directives_.push_back({"include",
                         "Directs the executor to include this field or fragment only when the "
                         "`if` argument is true.",
                         executable_locations,
                         {Input("if", "Boolean!", "Included when true.")},
                         false});
  directives_.push_back({"skip",
                         "Directs the executor to skip this field or fragment when the `if` "
                         "argument is true.",
                         executable_locations,
                         {Input("if", "Boolean!", "Skipped when true.")},
                         false});
  directives_.push_back(
      {"deprecated",
       "Marks an element of a GraphQL schema as no longer supported.",
       {"FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"},
       {Input("reason", "String",
              "Explains why this element was deprecated, usually also including a suggestion for "
              "how to access supported similar data. Formatted using the Markdown syntax, as "
              "specified by [CommonMark](https://commonmark.org/).",
              "\"No longer supported\"")},
       false});
  directives_.push_back({"specifiedBy",
                         "Exposes a URL that specifies the behavior of this scalar.",
                         {"SCALAR"},
                         {Input("url", "String!",
                                "The URL that specifies the behavior of this "
                                "scalar.")},
                         false});
  AddIntrospection();
}

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
            [](const FieldRequest&) -> Result<json> { return json(); }),
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

TypeDefinition& Schema::Add(TypeDefinition type) {
  types_.push_back(std::make_unique<TypeDefinition>(std::move(type)));
  TypeDefinition& added = *types_.back();
  by_name_[added.name] = &added;
  return added;
}

void Schema::SetRootTypes(std::string query, std::string mutation) {
  query_name_ = std::move(query);
  mutation_name_ = std::move(mutation);
}

Status Schema::FinishInputValue(InputValueDefinition& value, const std::string& where) {
  auto parsed = ParseType(value.type);
  if (!parsed) return InvalidArgument(where + ": \"" + value.type + "\" is not a type");
  value.parsed_type = *parsed;
  const TypeDefinition* named = FindType(NamedType(*parsed));
  if (!named) return InvalidArgument(where + ": unknown type \"" + NamedType(*parsed) + "\"");
  if (!IsInputType(*named)) {
    return InvalidArgument(where + ": \"" + named->name + "\" is not an input type");
  }
  if (value.default_value) {
    ParseOutcome literal = Parse("{ f(x: " + *value.default_value + ") }");
    if (!literal.document) {
      return InvalidArgument(where + ": the default " + *value.default_value + " is not a value");
    }
    const Value& parsed_default = literal.document->operations[0].selections[0].arguments[0].value;
    if (auto faults = CheckLiteral(*this, *parsed, parsed_default); !faults.empty()) {
      return InvalidArgument(where + ": the default " + *value.default_value + ": " + faults[0]);
    }
    TY_ASSIGN_OR_RETURN(value.default_json,
                        CoerceLiteral(*this, *parsed, parsed_default, json::object()));
  }
  return Status::Ok();
}

Status Schema::Finish() {
  auto finish_field = [this](FieldDefinition& field, const std::string& where) -> Status {
    auto parsed = ParseType(field.type);
    if (!parsed) return InvalidArgument(where + ": \"" + field.type + "\" is not a type");
    if (!FindType(NamedType(*parsed))) {
      return InvalidArgument(where + ": unknown type \"" + NamedType(*parsed) + "\"");
    }
    field.parsed_type = *parsed;
    for (InputValueDefinition& argument : field.arguments) {
      TY_RETURN_IF_ERROR(FinishInputValue(argument, where + "(" + argument.name + ")"));
    }
    return Status::Ok();
  };
  for (auto& type : types_) {
    if (by_name_[type->name] != type.get()) {
      return InvalidArgument("type \"" + type->name + "\" is defined twice");
    }
    for (FieldDefinition& field : type->fields) {
      TY_RETURN_IF_ERROR(finish_field(field, type->name + "." + field.name));
    }
    for (InputValueDefinition& field : type->input_fields) {
      TY_RETURN_IF_ERROR(FinishInputValue(field, type->name + "." + field.name));
    }
  }
  for (DirectiveDefinition& directive : directives_) {
    for (InputValueDefinition& argument : directive.arguments) {
      TY_RETURN_IF_ERROR(
          FinishInputValue(argument, "@" + directive.name + "(" + argument.name + ")"));
    }
  }
  TY_RETURN_IF_ERROR(finish_field(typename_field_, "__typename"));
  TY_RETURN_IF_ERROR(finish_field(schema_field_, "__schema"));
  TY_RETURN_IF_ERROR(finish_field(type_field_, "__type"));
  query_type_ = FindType(query_name_);
  if (!query_type_ || query_type_->kind != TypeKind::kObject) {
    return InvalidArgument("the query type \"" + query_name_ + "\" is not an object type");
  }
  if (!mutation_name_.empty()) {
    mutation_type_ = FindType(mutation_name_);
    if (!mutation_type_ || mutation_type_->kind != TypeKind::kObject) {
      return InvalidArgument("the mutation type \"" + mutation_name_ + "\" is not an object type");
    }
  }
  return Status::Ok();
}

const TypeDefinition* Schema::FindType(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const DirectiveDefinition* Schema::FindDirective(std::string_view name) const {
  for (const DirectiveDefinition& directive : directives_) {
    if (directive.name == name) return &directive;
  }
  return nullptr;
}

const FieldDefinition* Schema::LookupField(const TypeDefinition& type,
                                           std::string_view name) const {
  if (name == "__typename") return &typename_field_;
  if (&type == query_type_ && name == "__schema") return &schema_field_;
  if (&type == query_type_ && name == "__type") return &type_field_;
  return type.FindField(name);
}

std::string Schema::PrintDefinitionLanguage() const {
  std::string out;
  auto block = [&](const std::string& header, const std::vector<std::string>& lines) {
    if (!out.empty()) out += "\n";
    out += header + " {\n";
    for (const std::string& line : lines) out += line;
    out += "}\n";
  };
  if ((query_type_ && query_type_->name != "Query") ||
      (mutation_type_ && mutation_type_->name != "Mutation")) {
    std::vector<std::string> lines = {"  query: " + query_type_->name + "\n"};
    if (mutation_type_) lines.push_back("  mutation: " + mutation_type_->name + "\n");
    block("schema", lines);
  }
  for (const auto& type : types_) {
    if (type->name.starts_with("__") || IsBuiltInScalar(type->name)) continue;
    std::string header = Description(type->description, "", true);
    std::vector<std::string> lines;
    switch (type->kind) {
      case TypeKind::kScalar:
        if (!out.empty()) out += "\n";
        out += header + "scalar " + type->name;
        if (!type->specified_by_url.empty()) {
          out += " @specifiedBy(url: " + json(type->specified_by_url).dump() + ")";
        }
        out += "\n";
        continue;
      case TypeKind::kObject:
        for (size_t i = 0; i < type->fields.size(); ++i) {
          const FieldDefinition& field = type->fields[i];
          lines.push_back(Description(field.description, "  ", i == 0) + "  " + field.name +
                          Arguments(field.arguments, "  ") + ": " + field.type +
                          Deprecation(field.deprecation_reason) + "\n");
        }
        block(header + "type " + type->name, lines);
        break;
      case TypeKind::kEnum:
        for (size_t i = 0; i < type->enum_values.size(); ++i) {
          const EnumValueDefinition& value = type->enum_values[i];
          lines.push_back(Description(value.description, "  ", i == 0) + "  " + value.name +
                          Deprecation(value.deprecation_reason) + "\n");
        }
        block(header + "enum " + type->name, lines);
        break;
      case TypeKind::kInputObject:
        for (size_t i = 0; i < type->input_fields.size(); ++i) {
          const InputValueDefinition& field = type->input_fields[i];
          lines.push_back(Description(field.description, "  ", i == 0) + "  " +
                          InputValueLine(field) + "\n");
        }
        block(header + "input " + type->name, lines);
        break;
    }
  }
  return out;
}

}  // namespace trainyard::graphql
