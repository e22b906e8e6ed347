// A GraphQL schema built in code (spec 3): scalar, object, enum and input object types, fields
// with arguments and resolvers, and the built-in parts every schema has: the scalars Int, Float,
// String, Boolean and ID, the directives @include, @skip, @deprecated and @specifiedBy, and the
// introspection types (__Schema, __Type, ...) with the meta-fields __schema, __type and
// __typename (spec 4).
//
// Values are JSON: a resolver gets its parent object's value as JSON and returns its field's
// value as JSON (an object for an object type, an array for a list, a string for an enum). A
// field without a resolver reads its `key` (its name unless set) from the parent's JSON object.
// Scalars other than the built-in ones carry any JSON value as it is.
//
// Build the schema, then call Finish once; after that it is immutable and may be shared by any
// number of threads (resolvers must be thread-safe themselves).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "graphql/ast.h"

namespace trainyard::graphql {

enum class TypeKind { kScalar, kObject, kEnum, kInputObject };
const char* IntrospectionName(TypeKind kind);  // "SCALAR", "OBJECT", ...

// An argument of a field or directive, or a field of an input object.
struct InputValueDefinition {
  std::string name;
  std::string type;  // as written: "Int!", "[JobStatus!]"
  std::string description;
  std::optional<std::string> default_value;  // a GraphQL literal ("100", "\"x\"")

  // Set by Schema::Finish.
  TypeRef parsed_type;
  std::optional<nlohmann::json> default_json;
};

// What a resolver gets. `arguments` holds each argument that has a value (given, or defaulted),
// coerced to JSON. `memo` lives for one execution: resolvers keep what several of them need.
struct FieldRequest {
  const nlohmann::json& parent;
  const nlohmann::json& arguments;
  std::map<std::string, nlohmann::json>& memo;
};
// A failure becomes an error at the field's path, with extensions.code from its StatusCode.
using Resolver = std::function<Result<nlohmann::json>(const FieldRequest&)>;

struct FieldDefinition {
  std::string name;
  std::string type;
  std::string description;
  std::vector<InputValueDefinition> arguments;
  Resolver resolve;  // null: the parent's `key`
  std::string key;   // empty: `name`
  std::optional<std::string> deprecation_reason;

  TypeRef parsed_type;  // set by Schema::Finish
};

struct EnumValueDefinition {
  std::string name;
  std::string description;
  std::optional<std::string> deprecation_reason;
};

struct TypeDefinition {
  TypeKind kind = TypeKind::kObject;
  std::string name;
  std::string description;
  std::vector<FieldDefinition> fields;             // kObject
  std::vector<InputValueDefinition> input_fields;  // kInputObject
  std::vector<EnumValueDefinition> enum_values;    // kEnum
  std::string specified_by_url;                    // kScalar, optional

  const FieldDefinition* FindField(std::string_view field_name) const;
  const InputValueDefinition* FindInputField(std::string_view field_name) const;
  bool HasEnumValue(std::string_view value) const;
};

struct DirectiveDefinition {
  std::string name;
  std::string description;
  std::vector<std::string> locations;  // "FIELD", "FRAGMENT_SPREAD", ...
  std::vector<InputValueDefinition> arguments;
  bool repeatable = false;
};

class Schema {
 public:
  Schema();  // the built-in scalars, directives and introspection types
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  // Adds a type; its name must be new. Returns it for its fields to be added.
  TypeDefinition& Add(TypeDefinition type);
  void SetRootTypes(std::string query, std::string mutation);
  // The root of subscription operations (spec 6.2.3), an object type whose every field a
  // subscription selects alone; none unless set.
  void SetSubscriptionType(std::string subscription);

  // Parses every type written as text, checks that each names a type of the right kind (inputs
  // for arguments, any for fields), that defaults are valid literals and that the root types
  // are objects. InvalidArgument naming the type and field otherwise.
  Status Finish();

  const TypeDefinition* FindType(std::string_view name) const;
  const DirectiveDefinition* FindDirective(std::string_view name) const;
  // A field of `type`, the meta-fields included: __typename everywhere, __schema and __type on
  // the query type. Null when there is none.
  const FieldDefinition* LookupField(const TypeDefinition& type, std::string_view name) const;
  const TypeDefinition* query_type() const { return query_type_; }
  const TypeDefinition* mutation_type() const { return mutation_type_; }
  const TypeDefinition* subscription_type() const { return subscription_type_; }
  const std::vector<std::unique_ptr<TypeDefinition>>& types() const { return types_; }
  const std::vector<DirectiveDefinition>& directives() const { return directives_; }

  // The schema in the GraphQL schema definition language, as graphql-js's printSchema prints
  // it: the built-in scalars, directives and introspection types left out.
  std::string PrintDefinitionLanguage() const;

 private:
  void AddIntrospection();
  Status FinishInputValue(InputValueDefinition& value, const std::string& where);

  std::vector<std::unique_ptr<TypeDefinition>> types_;
  std::map<std::string, TypeDefinition*, std::less<>> by_name_;
  std::vector<DirectiveDefinition> directives_;
  std::string query_name_, mutation_name_, subscription_name_;
  const TypeDefinition* query_type_ = nullptr;
  const TypeDefinition* mutation_type_ = nullptr;
  const TypeDefinition* subscription_type_ = nullptr;
  FieldDefinition typename_field_, schema_field_, type_field_;
};

// Whether `name` is one of the built-in scalars (Int, Float, String, Boolean, ID).
bool IsBuiltInScalar(std::string_view name);
bool IsInputType(const TypeDefinition& type);
bool IsLeafType(const TypeDefinition& type);
// The named type inside list and non-null wrappers.
const std::string& NamedType(const TypeRef& type);

}  // namespace trainyard::graphql
