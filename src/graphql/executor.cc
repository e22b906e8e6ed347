#include "graphql/executor.h"

#include <map>
#include <set>

#include "graphql/parser.h"
#include "graphql/validation.h"
#include "graphql/values.h"

namespace trainyard::graphql {
namespace {

using nlohmann::json;

// Fields of one response name, in document order (6.3.2 CollectFields).
using FieldGroups = std::vector<std::pair<std::string, std::vector<const Selection*>>>;

class Execution {
 public:
  Execution(const Schema& schema, const Document& document, const ExecutionOptions& options,
            json variables)
      : schema_(schema), options_(options), variables_(std::move(variables)) {
    for (const FragmentDefinition& fragment : document.fragments) {
      fragments_[fragment.name] = &fragment;
    }
  }

  std::optional<json> Run(const OperationDefinition& operation, const TypeDefinition& root,
                          const json& root_value) {
    FieldGroups groups;
    std::set<std::string> visited;
    CollectFields(root, operation.selections, visited, groups);
    // Queries could run in any order; both run in order here (6.2.2 requires it of mutations).
    return ExecuteGroups(root, root_value, groups, json::array());
  }

  // The one root field of a subscription and its arguments (6.2.3.1 CreateSourceEventStream,
  // steps 3 to 7). InvalidArgument when an argument cannot be coerced.
  Result<std::pair<std::string, json>> RootField(const OperationDefinition& operation,
                                                 const TypeDefinition& root) {
    FieldGroups groups;
    std::set<std::string> visited;
    CollectFields(root, operation.selections, visited, groups);
    if (groups.empty()) return InvalidArgument("the subscription selects no field");
    const Selection& field = *groups[0].second[0];
    const FieldDefinition* definition = schema_.LookupField(root, field.name);
    if (!definition) return InvalidArgument("no field \"" + field.name + "\"");
    TY_ASSIGN_OR_RETURN(json arguments, CoerceArguments(*definition, field));
    return std::make_pair(field.name, std::move(arguments));
  }

  std::vector<Error> TakeErrors() { return std::move(errors_); }
  bool over_budget() const { return over_budget_; }

 private:
  // Whether @skip/@include keep the selection (6.3.2 steps 2.a and 2.b).
  bool Included(const std::vector<Directive>& directives) {
    for (const Directive& directive : directives) {
      if (directive.name != "skip" && directive.name != "include") continue;
      bool condition = false;
      for (const Argument& argument : directive.arguments) {
        if (argument.name != "if") continue;
        static const TypeRef kBoolean = *ParseType("Boolean!");
        auto value = CoerceLiteral(schema_, kBoolean, argument.value, variables_);
        condition = value.ok() && value->is_boolean() && value->get<bool>();
      }
      if (directive.name == "skip" && condition) return false;
      if (directive.name == "include" && !condition) return false;
    }
    return true;
  }

  void CollectFields(const TypeDefinition& type, const std::vector<Selection>& selections,
                     std::set<std::string>& visited, FieldGroups& groups) {
    for (const Selection& selection : selections) {
      if (!Included(selection.directives)) continue;
      switch (selection.kind) {
        case Selection::Kind::kField: {
          const std::string& name = selection.response_name();
          auto it = std::find_if(groups.begin(), groups.end(),
                                 [&](const auto& group) { return group.first == name; });
          if (it == groups.end()) {
            groups.emplace_back(name, std::vector<const Selection*>{&selection});
          } else {
            it->second.push_back(&selection);
          }
          break;
        }
        case Selection::Kind::kFragmentSpread: {
          if (!visited.insert(selection.name).second) break;
          auto it = fragments_.find(selection.name);
          if (it == fragments_.end() || it->second->type_condition != type.name) break;
          CollectFields(type, it->second->selections, visited, groups);
          break;
        }
        case Selection::Kind::kInlineFragment:
          if (!selection.type_condition.empty() && selection.type_condition != type.name) break;
          CollectFields(type, selection.selections, visited, groups);
          break;
      }
    }
  }

  // nullopt: a non-null field of this object is null, so the object is null (6.4.4).
  std::optional<json> ExecuteGroups(const TypeDefinition& type, const json& value,
                                    const FieldGroups& groups, const json& path) {
    json result = json::object();
    for (const auto& [response_name, fields] : groups) {
      if (over_budget_) return std::nullopt;
      if (options_.max_fields && ++fields_resolved_ > options_.max_fields) {
        over_budget_ = true;
        errors_.push_back(Error{"the operation resolves more than " +
                                    std::to_string(options_.max_fields) +
                                    " fields: ask for fewer (smaller pages, less nesting)",
                                {fields[0]->location},
                                nullptr,
                                {{"code", "ResourceExhausted"}}});
        return std::nullopt;
      }
      json field_path = path;
      field_path.push_back(response_name);
      const FieldDefinition* definition = schema_.LookupField(type, fields[0]->name);
      if (!definition) continue;  // validation refused this document already
      std::optional<json> completed;
      if (fields[0]->name == "__typename") {
        completed = json(type.name);
      } else {
        completed = ExecuteField(type, *definition, value, fields, field_path);
      }
      if (!completed) {
        if (definition->parsed_type.kind == TypeRef::Kind::kNonNull) return std::nullopt;
        completed = json();
      }
      result[response_name] = std::move(*completed);
    }
    return result;
  }

  void FieldError(const std::string& message, const Selection& field, const json& path,
                  json extensions) {
    errors_.push_back(Error{message, {field.location}, path, std::move(extensions)});
  }

  json Extensions(const Status& status) {
    if (options_.error_extensions) return options_.error_extensions(status);
    return {{"code", StatusCodeName(status.code())}};
  }

  Result<json> CoerceArguments(const FieldDefinition& definition, const Selection& field) {
    json arguments = json::object();
    for (const InputValueDefinition& argument_definition : definition.arguments) {
      const Argument* given = nullptr;
      for (const Argument& argument : field.arguments) {
        if (argument.name == argument_definition.name) given = &argument;
      }
      bool missing = !given || (given->value.kind == Value::Kind::kVariable &&
                                !variables_.contains(given->value.text));
      if (missing) {
        if (argument_definition.default_json) {
          arguments[argument_definition.name] = *argument_definition.default_json;
        } else if (argument_definition.parsed_type.kind == TypeRef::Kind::kNonNull) {
          return InvalidArgument("Argument \"" + argument_definition.name +
                                 "\" of required type \"" + argument_definition.type +
                                 "\" was not provided.");
        }
        continue;
      }
      auto value =
          CoerceLiteral(schema_, argument_definition.parsed_type, given->value, variables_);
      if (!value.ok()) {
        return InvalidArgument("Argument \"" + argument_definition.name +
                               "\": " + value.status().message());
      }
      arguments[argument_definition.name] = std::move(*value);
    }
    return arguments;
  }

  std::optional<json> ExecuteField(const TypeDefinition& parent_type,
                                   const FieldDefinition& definition, const json& parent,
                                   const std::vector<const Selection*>& fields, const json& path) {
    const Selection& field = *fields[0];
    auto arguments = CoerceArguments(definition, field);
    if (!arguments.ok()) {
      FieldError(arguments.status().message(), field, path, Extensions(arguments.status()));
      return std::nullopt;
    }
    Result<json> resolved = json();
    if (definition.resolve) {
      resolved = definition.resolve(FieldRequest{parent, *arguments, memo_});
    } else {
      const std::string& key = definition.key.empty() ? definition.name : definition.key;
      resolved = parent.is_object() && parent.contains(key) ? parent[key] : json();
    }
    if (!resolved.ok()) {
      FieldError(resolved.status().message(), field, path, Extensions(resolved.status()));
      return std::nullopt;
    }
    return Complete(parent_type, definition, definition.parsed_type, fields, *resolved, path);
  }

  // nullopt: null because of an error already reported, for the caller to carry up.
  std::optional<json> Complete(const TypeDefinition& parent_type, const FieldDefinition& definition,
                               const TypeRef& type, const std::vector<const Selection*>& fields,
                               const json& value, const json& path) {
    const Selection& field = *fields[0];
    if (type.kind == TypeRef::Kind::kNonNull) {
      auto completed = Complete(parent_type, definition, *type.of_type, fields, value, path);
      if (!completed) return std::nullopt;
      if (completed->is_null()) {
        FieldError("Cannot return null for non-nullable field " + parent_type.name + "." +
                       definition.name + ".",
                   field, path, {{"code", "Internal"}});
        return std::nullopt;
      }
      return completed;
    }
    if (value.is_null()) return json();
    if (type.kind == TypeRef::Kind::kList) {
      if (!value.is_array()) {
        FieldError("Expected Iterable, but did not find one for field \"" + parent_type.name + "." +
                       definition.name + "\".",
                   field, path, {{"code", "Internal"}});
        return std::nullopt;
      }
      json list = json::array();
      for (size_t i = 0; i < value.size(); ++i) {
        json item_path = path;
        item_path.push_back(i);
        auto item = Complete(parent_type, definition, *type.of_type, fields, value[i], item_path);
        if (!item) {
          if (type.of_type->kind == TypeRef::Kind::kNonNull) return std::nullopt;
          item = json();
        }
        list.push_back(std::move(*item));
      }
      return list;
    }
    const TypeDefinition* named = schema_.FindType(type.name);
    if (IsLeafType(*named)) {
      auto serialized = SerializeLeaf(*named, value);
      if (!serialized.ok()) {
        FieldError(serialized.status().message(), field, path, {{"code", "Internal"}});
        return std::nullopt;
      }
      return std::move(*serialized);
    }
    if (!value.is_object()) {
      FieldError("Expected a value of type \"" + named->name + "\" for field \"" +
                     parent_type.name + "." + definition.name + "\".",
                 field, path, {{"code", "Internal"}});
      return std::nullopt;
    }
    FieldGroups groups;
    std::set<std::string> visited;
    for (const Selection* each : fields) {
      CollectFields(*named, each->selections, visited, groups);
    }
    return ExecuteGroups(*named, value, groups, path);
  }

  const Schema& schema_;
  const ExecutionOptions& options_;
  json variables_;
  std::map<std::string, const FragmentDefinition*> fragments_;
  std::map<std::string, json> memo_;
  std::vector<Error> errors_;
  size_t fields_resolved_ = 0;
  bool over_budget_ = false;
};

// The operation to run (6.1): by name, or the only one.
Result<const OperationDefinition*> SelectOperation(const Document& document,
                                                   const std::string& name) {
  if (name.empty()) {
    if (document.operations.size() == 1) return &document.operations[0];
    if (document.operations.empty()) return InvalidArgument("Must provide an operation.");
    return InvalidArgument("Must provide operation name if query contains multiple operations.");
  }
  for (const OperationDefinition& operation : document.operations) {
    if (operation.name == name) return &operation;
  }
  return InvalidArgument("Unknown operation named \"" + name + "\".");
}

// The variables' values (6.1.2 CoerceVariableValues), or the errors that stop the request.
std::vector<Error> CoerceVariables(const Schema& schema, const OperationDefinition& operation,
                                   const json& given, json* coerced) {
  std::vector<Error> errors;
  *coerced = json::object();
  for (const VariableDefinition& variable : operation.variables) {
    const std::string& name = variable.name;
    bool present = given.is_object() && given.contains(name);
    if (!present) {
      if (variable.default_value) {
        auto value = CoerceLiteral(schema, variable.type, *variable.default_value, json::object());
        if (value.ok()) (*coerced)[name] = *value;
      } else if (variable.type.kind == TypeRef::Kind::kNonNull) {
        errors.push_back(RequestError("Variable \"$" + name + "\" of required type \"" +
                                          ToString(variable.type) + "\" was not provided.",
                                      {variable.location}));
      }
      continue;
    }
    const json& value = given[name];
    if (value.is_null() && variable.type.kind == TypeRef::Kind::kNonNull) {
      errors.push_back(RequestError("Variable \"$" + name + "\" of non-null type \"" +
                                        ToString(variable.type) + "\" must not be null.",
                                    {variable.location}));
      continue;
    }
    auto coerced_value = CoerceVariableValue(schema, variable.type, value, "");
    if (!coerced_value.ok()) {
      errors.push_back(RequestError("Variable \"$" + name + "\" got invalid value " +
                                        Inspect(value) + "; " + coerced_value.status().message(),
                                    {variable.location}));
      continue;
    }
    (*coerced)[name] = std::move(*coerced_value);
  }
  return errors;
}

}  // namespace

json ToJson(const Response& response) {
  json out = json::object();
  if (!response.errors.empty()) out["errors"] = ToJson(response.errors);
  if (response.data) out["data"] = *response.data;
  return out;
}

PreparedOperation Prepare(const Schema& schema, const Request& request) {
  PreparedOperation prepared;
  auto fail = [&](Error error) {
    prepared.errors.push_back(std::move(error));
    return std::move(prepared);
  };
  ParseOutcome parsed = Parse(request.query);
  if (parsed.error) {
    Error error = *parsed.error;
    error.extensions = {{"code", "InvalidArgument"}};
    return fail(std::move(error));
  }
  prepared.document = std::make_shared<const Document>(std::move(*parsed.document));
  const Document& document = *prepared.document;
  prepared.errors = Validate(schema, document);
  if (!prepared.errors.empty()) return prepared;
  auto operation = SelectOperation(document, request.operation_name);
  if (!operation.ok()) return fail(RequestError(operation.status().message()));
  prepared.operation = *operation;
  if (request.variables.is_null() == false && !request.variables.is_object()) {
    return fail(RequestError("Variables must be provided as an Object."));
  }
  prepared.errors =
      CoerceVariables(schema, *prepared.operation, request.variables, &prepared.variables);
  if (!prepared.errors.empty()) return prepared;
  if (prepared.operation->type == OperationDefinition::Type::kSubscription) {
    Execution execution(schema, document, {}, prepared.variables);
    auto root = execution.RootField(*prepared.operation, *schema.subscription_type());
    if (!root.ok()) return fail(RequestError(root.status().message()));
    prepared.subscription_field = std::move(root->first);
    prepared.subscription_arguments = std::move(root->second);
  }
  return prepared;
}

Response ExecutePrepared(const Schema& schema, const PreparedOperation& prepared,
                         const nlohmann::json& root_value, const ExecutionOptions& options) {
  Response response;
  response.errors = prepared.errors;
  if (!prepared.ok()) return response;
  const TypeDefinition* root = schema.query_type();
  switch (prepared.operation->type) {
    case OperationDefinition::Type::kQuery: break;
    case OperationDefinition::Type::kMutation: root = schema.mutation_type(); break;
    case OperationDefinition::Type::kSubscription: root = schema.subscription_type(); break;
  }
  Execution execution(schema, *prepared.document, options, prepared.variables);
  std::optional<json> data = execution.Run(*prepared.operation, *root, root_value);
  response.errors = execution.TakeErrors();
  // Past the budget, what was resolved is partial everywhere: none of it is answered.
  response.data = data && !execution.over_budget() ? std::move(*data) : json();
  return response;
}

Response Execute(const Schema& schema, const Request& request, const ExecutionOptions& options) {
  PreparedOperation prepared = Prepare(schema, request);
  Response response;
  if (!prepared.ok()) {
    response.errors = std::move(prepared.errors);
    return response;
  }
  if (prepared.operation->type == OperationDefinition::Type::kMutation && request.queries_only) {
    response.mutation_refused = true;
    response.errors.push_back(
        RequestError("Can only perform a mutation operation from a POST request."));
    return response;
  }
  if (prepared.operation->type == OperationDefinition::Type::kSubscription) {
    Error error = RequestError(
        "Subscriptions are served over WebSocket (graphql-transport-ws), not in one answer.");
    error.extensions = {{"code", "InvalidArgument"}};
    response.errors.push_back(std::move(error));
    return response;
  }
  return ExecutePrepared(schema, prepared, json::object(), options);
}

}  // namespace trainyard::graphql
