// The syntax tree of an executable GraphQL document (spec.graphql.org, October 2021, section 2):
// operations, fragments, selections, arguments, directives, variables and literal values, each
// with the line and column where it starts. Plain values: built by Parse, read by the validator
// and the executor.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trainyard::graphql {

// 1-based, as GraphQL errors report them ("locations": [{"line", "column"}]).
struct Location {
  int line = 0;
  int column = 0;
};

struct ObjectField;

// A literal or a variable (2.9).
struct Value {
  enum class Kind { kVariable, kInt, kFloat, kString, kBoolean, kNull, kEnum, kList, kObject };
  Kind kind = Kind::kNull;
  // The variable's or enum value's name, the number's text, or the decoded string.
  std::string text;
  bool boolean = false;
  std::vector<Value> list;
  std::vector<ObjectField> fields;  // kObject, in document order
  Location location;
};

struct ObjectField {
  std::string name;
  Value value;
};

// A type as written: `Int`, `[String!]`, `ID!` (2.11).
struct TypeRef {
  enum class Kind { kNamed, kList, kNonNull };
  Kind kind = Kind::kNamed;
  std::string name;                  // kNamed
  std::shared_ptr<TypeRef> of_type;  // kList, kNonNull
  Location location;
};
std::string ToString(const TypeRef& type);  // "[String!]!"

struct Argument {
  std::string name;
  Value value;
  Location location;
};

struct Directive {
  std::string name;
  std::vector<Argument> arguments;
  Location location;
};

// A field, a fragment spread or an inline fragment (2.4, 2.8).
struct Selection {
  enum class Kind { kField, kFragmentSpread, kInlineFragment };
  Kind kind = Kind::kField;
  std::string alias;  // kField: empty when none
  std::string name;   // kField: the field; kFragmentSpread: the fragment
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  std::string type_condition;  // kInlineFragment: empty when none
  bool has_selection_set = false;
  std::vector<Selection> selections;
  Location location;
  Location name_location;  // the field's or fragment's name, or an inline fragment's type condition
  const std::string& response_name() const { return alias.empty() ? name : alias; }
};

struct VariableDefinition {
  std::string name;
  TypeRef type;
  std::optional<Value> default_value;
  std::vector<Directive> directives;
  Location location;
};

struct OperationDefinition {
  enum class Type { kQuery, kMutation, kSubscription };
  Type type = Type::kQuery;
  std::string name;  // empty: anonymous
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location location;
};
const char* ToString(OperationDefinition::Type type);  // "query"

struct FragmentDefinition {
  std::string name;
  std::string type_condition;
  Location type_condition_location;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location location;
};

struct Document {
  std::vector<OperationDefinition> operations;
  std::vector<FragmentDefinition> fragments;
};

}  // namespace trainyard::graphql
