#include "graphql/schema.h"

#include "graphql/parser.h"
#include "graphql/schema_builders.h"
#include "graphql/values.h"

namespace trainyard::graphql {

using nlohmann::json;

namespace internal {

InputValueDefinition Input(std::string name, std::string type, std::string description,
                           std::optional<std::string> default_value) {
  InputValueDefinition value;
  value.name = std::move(name);
  value.type = std::move(type);
  value.description = std::move(description);
  value.default_value = std::move(default_value);
  return value;
}

FieldDefinition Field(std::string name, std::string type, std::string description,
                      Resolver resolve) {
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

}  // namespace internal

using internal::Input;
using internal::Scalar;

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

void Schema::SetSubscriptionType(std::string subscription) {
  subscription_name_ = std::move(subscription);
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
  if (!subscription_name_.empty()) {
    subscription_type_ = FindType(subscription_name_);
    if (!subscription_type_ || subscription_type_->kind != TypeKind::kObject) {
      return InvalidArgument("the subscription type \"" + subscription_name_ +
                             "\" is not an object type");
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

}  // namespace trainyard::graphql
