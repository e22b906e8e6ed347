#include "graphql/validation.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "graphql/suggestions.h"
#include "graphql/values.h"

namespace trainyard::graphql {
namespace {

struct VariableUsage {
  const Value* variable;
  TypeRef expected;
  bool location_has_default;
};

// Whether a variable of `variable` type may be used where `location` is expected (5.8.5).
bool AreTypesCompatible(const TypeRef& variable, const TypeRef& location) {
  if (location.kind == TypeRef::Kind::kNonNull) {
    if (variable.kind != TypeRef::Kind::kNonNull) return false;
    return AreTypesCompatible(*variable.of_type, *location.of_type);
  }
  if (variable.kind == TypeRef::Kind::kNonNull) {
    return AreTypesCompatible(*variable.of_type, location);
  }
  if (location.kind == TypeRef::Kind::kList) {
    return variable.kind == TypeRef::Kind::kList &&
           AreTypesCompatible(*variable.of_type, *location.of_type);
  }
  if (variable.kind == TypeRef::Kind::kList) return false;
  return variable.name == location.name;
}

std::string ArgumentsKey(const std::vector<Argument>& arguments) {
  std::map<std::string, std::string> sorted;
  for (const Argument& argument : arguments) sorted[argument.name] = Print(argument.value);
  std::string key;
  for (const auto& [name, value] : sorted) key += name + ":" + value + ",";
  return key;
}

class Validator {
 public:
  Validator(const Schema& schema, const Document& document)
      : schema_(schema), document_(document) {}

  std::vector<Error> Run() {
    CheckOperationNames();
    CheckFragmentDefinitions();
    for (const OperationDefinition& operation : document_.operations) CheckOperation(operation);
    for (const FragmentDefinition& fragment : document_.fragments) {
      CheckDirectives(fragment.directives, "FRAGMENT_DEFINITION");
      const TypeDefinition* type = schema_.FindType(fragment.type_condition);
      if (type && type->kind == TypeKind::kObject) CheckSelections(*type, fragment.selections);
    }
    CheckFragmentsUsedAndAcyclic();
    return std::move(errors_);
  }

 private:
  void Fail(std::string message, std::vector<Location> locations) {
    errors_.push_back(RequestError(std::move(message), std::move(locations)));
  }

  std::string TypeSuggestions(const std::string& name) {
    std::vector<std::string> names;
    for (const auto& type : schema_.types()) names.push_back(type->name);
    return DidYouMean(SuggestionList(name, names));
  }

  void CheckOperationNames() {
    std::map<std::string, Location> seen;
    for (const OperationDefinition& operation : document_.operations) {
      if (operation.name.empty()) {
        if (document_.operations.size() > 1) {
          Fail("This anonymous operation must be the only defined operation.",
               {operation.location});
        }
        continue;
      }
      auto [it, added] = seen.emplace(operation.name, operation.location);
      if (!added) {
        Fail("There can be only one operation named \"" + operation.name + "\".",
             {it->second, operation.location});
      }
    }
  }

  void CheckFragmentDefinitions() {
    for (const FragmentDefinition& fragment : document_.fragments) {
      auto [it, added] = fragments_.emplace(fragment.name, &fragment);
      if (!added) {
        Fail("There can be only one fragment named \"" + fragment.name + "\".",
             {it->second->location, fragment.location});
      }
      const TypeDefinition* type = schema_.FindType(fragment.type_condition);
      if (!type) {
        Fail("Unknown type \"" + fragment.type_condition + "\"." +
                 TypeSuggestions(fragment.type_condition),
             {fragment.type_condition_location});
      } else if (type->kind != TypeKind::kObject) {
        Fail("Fragment \"" + fragment.name + "\" cannot condition on non composite type \"" +
                 type->name + "\".",
             {fragment.type_condition_location});
      }
    }
  }

  // 5.2.3.1: a subscription selects one root field (fragments included, directives ignored),
  // and not an introspection field.
  void CheckSingleRootField(const OperationDefinition& operation) {
    std::vector<const Selection*> fields;
    std::set<std::string> names;
    std::set<std::string> visited;
    std::function<void(const std::vector<Selection>&)> collect =
        [&](const std::vector<Selection>& selections) {
          for (const Selection& selection : selections) {
            switch (selection.kind) {
              case Selection::Kind::kField:
                if (names.insert(selection.response_name()).second) fields.push_back(&selection);
                break;
              case Selection::Kind::kFragmentSpread: {
                if (!visited.insert(selection.name).second) break;
                auto it = fragments_.find(selection.name);
                if (it != fragments_.end()) collect(it->second->selections);
                break;
              }
              case Selection::Kind::kInlineFragment: collect(selection.selections); break;
            }
          }
        };
    collect(operation.selections);
    std::string what = operation.name.empty() ? std::string("Anonymous Subscription")
                                              : "Subscription \"" + operation.name + "\"";
    if (fields.size() > 1) {
      std::vector<Location> locations;
      for (size_t i = 1; i < fields.size(); ++i) locations.push_back(fields[i]->location);
      Fail(what + " must select only one top level field.", locations);
    }
    for (const Selection* field : fields) {
      if (field->name.starts_with("__")) {
        Fail(what + " must not select an introspection top level field.", {field->location});
      }
    }
  }

  void CheckOperation(const OperationDefinition& operation) {
    const TypeDefinition* root = nullptr;
    switch (operation.type) {
      case OperationDefinition::Type::kQuery: root = schema_.query_type(); break;
      case OperationDefinition::Type::kMutation: root = schema_.mutation_type(); break;
      case OperationDefinition::Type::kSubscription: root = schema_.subscription_type(); break;
    }
    const std::string kind = ToString(operation.type);
    if (!root) {
      Fail("Schema is not configured to execute " + kind + " operation.", {operation.location});
      return;
    }
    std::string upper;
    for (char c : kind) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CheckDirectives(operation.directives, upper);
    std::map<std::string, const VariableDefinition*> variables;
    for (const VariableDefinition& variable : operation.variables) {
      auto [it, added] = variables.emplace(variable.name, &variable);
      if (!added) {
        Fail("There can be only one variable named \"$" + variable.name + "\".",
             {it->second->location, variable.location});
      }
      CheckDirectives(variable.directives, "VARIABLE_DEFINITION");
      const TypeDefinition* type = schema_.FindType(NamedType(variable.type));
      if (!type) {
        Fail("Unknown type \"" + NamedType(variable.type) + "\"." +
                 TypeSuggestions(NamedType(variable.type)),
             {variable.type.location});
        continue;
      }
      if (!IsInputType(*type)) {
        Fail("Variable \"$" + variable.name + "\" cannot be non-input type \"" +
                 ToString(variable.type) + "\".",
             {variable.type.location});
        continue;
      }
      if (variable.default_value) {
        for (std::string& fault : CheckLiteral(schema_, variable.type, *variable.default_value)) {
          Fail(std::move(fault), {variable.default_value->location});
        }
      }
    }
    CheckSelections(*root, operation.selections);
    if (operation.type == OperationDefinition::Type::kSubscription) {
      CheckSingleRootField(operation);
    }

    // Every variable used is defined and fits where it is used; every one defined is used.
    std::vector<VariableUsage> usages;
    std::set<std::string> visited;
    CollectUsages(*root, operation.selections, visited, usages);
    std::set<std::string> used;
    const std::string of_operation =
        operation.name.empty() ? "" : " by operation \"" + operation.name + "\"";
    for (const VariableUsage& usage : usages) {
      const std::string& name = usage.variable->text;
      used.insert(name);
      auto it = variables.find(name);
      if (it == variables.end()) {
        Fail("Variable \"$" + name + "\" is not defined" + of_operation + ".",
             {usage.variable->location, operation.location});
        continue;
      }
      const VariableDefinition& definition = *it->second;
      const TypeDefinition* type = schema_.FindType(NamedType(definition.type));
      if (!type || !IsInputType(*type)) continue;
      if (any_typed_.count(usage.variable)) continue;  // inside a JSON value: any type fits
      TypeRef variable_type = definition.type;
      bool has_non_null_default =
          definition.default_value && definition.default_value->kind != Value::Kind::kNull;
      if (usage.expected.kind == TypeRef::Kind::kNonNull &&
          variable_type.kind != TypeRef::Kind::kNonNull &&
          (has_non_null_default || usage.location_has_default)) {
        // A default stands in for a missing value: compared as if the variable were non-null.
        variable_type.kind = TypeRef::Kind::kNonNull;
        variable_type.of_type = std::make_shared<TypeRef>(definition.type);
      }
      if (!AreTypesCompatible(variable_type, usage.expected)) {
        Fail("Variable \"$" + name + "\" of type \"" + ToString(definition.type) +
                 "\" used in position expecting type \"" + ToString(usage.expected) + "\".",
             {definition.location, usage.variable->location});
      }
    }
    for (const VariableDefinition& variable : operation.variables) {
      if (!used.count(variable.name)) {
        Fail("Variable \"$" + variable.name + "\" is never used" +
                 (operation.name.empty() ? "" : " in operation \"" + operation.name + "\"") + ".",
             {variable.location});
      }
    }
    std::function<void(const std::vector<Selection>&)> mark = [&](const auto& selections) {
      for (const Selection& selection : selections) {
        if (selection.kind == Selection::Kind::kFragmentSpread) {
          if (used_fragments_.insert(selection.name).second) {
            auto it = fragments_.find(selection.name);
            if (it != fragments_.end()) mark(it->second->selections);
          }
        } else {
          mark(selection.selections);
        }
      }
    };
    mark(operation.selections);
  }

  void CheckSelections(const TypeDefinition& parent, const std::vector<Selection>& selections) {
    std::map<std::string, const Selection*> by_response_name;
    for (const Selection& selection : selections) {
      switch (selection.kind) {
        case Selection::Kind::kField:
          CheckDirectives(selection.directives, "FIELD");
          CheckField(parent, selection);
          if (auto [it, added] = by_response_name.emplace(selection.response_name(), &selection);
              !added) {
            const Selection& other = *it->second;
            if (other.name != selection.name) {
              Fail("Fields \"" + selection.response_name() + "\" conflict because \"" + other.name +
                       "\" and \"" + selection.name +
                       "\" are different fields. Use different aliases on the fields to fetch "
                       "both if this was intentional.",
                   {other.location, selection.location});
            } else if (ArgumentsKey(other.arguments) != ArgumentsKey(selection.arguments)) {
              Fail("Fields \"" + selection.response_name() +
                       "\" conflict because they have differing arguments. Use different "
                       "aliases on the fields to fetch both if this was intentional.",
                   {other.location, selection.location});
            }
          }
          break;
        case Selection::Kind::kFragmentSpread: {
          CheckDirectives(selection.directives, "FRAGMENT_SPREAD");
          auto it = fragments_.find(selection.name);
          if (it == fragments_.end()) {
            Fail("Unknown fragment \"" + selection.name + "\".", {selection.name_location});
            break;
          }
          const std::string& condition = it->second->type_condition;
          const TypeDefinition* type = schema_.FindType(condition);
          if (type && type->kind == TypeKind::kObject && type != &parent) {
            Fail("Fragment \"" + selection.name + "\" cannot be spread here as objects of type \"" +
                     parent.name + "\" can never be of type \"" + condition + "\".",
                 {selection.location});
          }
          break;
        }
        case Selection::Kind::kInlineFragment: {
          CheckDirectives(selection.directives, "INLINE_FRAGMENT");
          const TypeDefinition* type = &parent;
          if (!selection.type_condition.empty()) {
            type = schema_.FindType(selection.type_condition);
            if (!type) {
              Fail("Unknown type \"" + selection.type_condition + "\"." +
                       TypeSuggestions(selection.type_condition),
                   {selection.name_location});
              break;
            }
            if (type->kind != TypeKind::kObject) {
              Fail("Fragment cannot condition on non composite type \"" + type->name + "\".",
                   {selection.name_location});
              break;
            }
            if (type != &parent) {
              Fail("Fragment cannot be spread here as objects of type \"" + parent.name +
                       "\" can never be of type \"" + type->name + "\".",
                   {selection.location});
              break;
            }
          }
          CheckSelections(*type, selection.selections);
          break;
        }
      }
    }
  }

  void CheckField(const TypeDefinition& parent, const Selection& field) {
    const FieldDefinition* definition = schema_.LookupField(parent, field.name);
    if (!definition) {
      std::vector<std::string> names;
      for (const FieldDefinition& candidate : parent.fields) names.push_back(candidate.name);
      Fail("Cannot query field \"" + field.name + "\" on type \"" + parent.name + "\"." +
               DidYouMean(SuggestionList(field.name, names)),
           {field.location});
      return;
    }
    CheckArguments(definition->arguments, field.arguments,
                   "field \"" + parent.name + "." + field.name + "\"",
                   "Field \"" + field.name + "\"", field.location);
    const TypeDefinition* type = schema_.FindType(NamedType(definition->parsed_type));
    if (!type) return;
    if (IsLeafType(*type)) {
      if (field.has_selection_set) {
        Fail("Field \"" + field.name + "\" must not have a selection since type \"" +
                 definition->type + "\" has no subfields.",
             {field.selections.empty() ? field.location : field.selections[0].location});
      }
    } else if (!field.has_selection_set) {
      Fail("Field \"" + field.name + "\" of type \"" + definition->type +
               "\" must have a selection of subfields. Did you mean \"" + field.name +
               " { ... }\"?",
           {field.location});
    } else {
      CheckSelections(*type, field.selections);
    }
  }

  void CheckArguments(const std::vector<InputValueDefinition>& definitions,
                      const std::vector<Argument>& arguments, const std::string& on,
                      const std::string& owner, Location owner_location) {
    std::map<std::string, Location> seen;
    for (const Argument& argument : arguments) {
      if (auto [it, added] = seen.emplace(argument.name, argument.location); !added) {
        Fail("There can be only one argument named \"" + argument.name + "\".",
             {it->second, argument.location});
        continue;
      }
      const InputValueDefinition* definition = nullptr;
      for (const InputValueDefinition& candidate : definitions) {
        if (candidate.name == argument.name) definition = &candidate;
      }
      if (!definition) {
        std::vector<std::string> names;
        for (const InputValueDefinition& candidate : definitions) names.push_back(candidate.name);
        Fail("Unknown argument \"" + argument.name + "\" on " + on + "." +
                 DidYouMean(SuggestionList(argument.name, names)),
             {argument.location});
        continue;
      }
      for (std::string& fault : CheckLiteral(schema_, definition->parsed_type, argument.value)) {
        Fail(std::move(fault), {argument.value.location});
      }
    }
    for (const InputValueDefinition& definition : definitions) {
      if (definition.parsed_type.kind == TypeRef::Kind::kNonNull && !definition.default_value &&
          !seen.count(definition.name)) {
        Fail(owner + " argument \"" + definition.name + "\" of type \"" + definition.type +
                 "\" is required, but it was not provided.",
             {owner_location});
      }
    }
  }

  void CheckDirectives(const std::vector<Directive>& directives, const std::string& location) {
    std::set<std::string> seen;
    for (const Directive& directive : directives) {
      const DirectiveDefinition* definition = schema_.FindDirective(directive.name);
      if (!definition) {
        Fail("Unknown directive \"@" + directive.name + "\".", {directive.location});
        continue;
      }
      bool allowed = false;
      for (const std::string& where : definition->locations) allowed |= where == location;
      if (!allowed) {
        Fail("Directive \"@" + directive.name + "\" may not be used on " + location + ".",
             {directive.location});
      }
      if (!seen.insert(directive.name).second && !definition->repeatable) {
        Fail("The directive \"@" + directive.name + "\" can only be used once at this location.",
             {directive.location});
      }
      CheckArguments(definition->arguments, directive.arguments,
                     "directive \"@" + directive.name + "\"",
                     "Directive \"@" + directive.name + "\"", directive.location);
    }
  }

  // The variables used in `selections` and the fragments they spread (each fragment once), with
  // the type expected where each is used.
  void CollectUsages(const TypeDefinition& parent, const std::vector<Selection>& selections,
                     std::set<std::string>& visited, std::vector<VariableUsage>& usages) {
    for (const Selection& selection : selections) {
      for (const Directive& directive : selection.directives) {
        if (const DirectiveDefinition* definition = schema_.FindDirective(directive.name)) {
          CollectArgumentUsages(definition->arguments, directive.arguments, usages);
        }
      }
      if (selection.kind == Selection::Kind::kField) {
        const FieldDefinition* definition = schema_.LookupField(parent, selection.name);
        if (!definition) continue;
        CollectArgumentUsages(definition->arguments, selection.arguments, usages);
        const TypeDefinition* type = schema_.FindType(NamedType(definition->parsed_type));
        if (type && type->kind == TypeKind::kObject) {
          CollectUsages(*type, selection.selections, visited, usages);
        }
      } else if (selection.kind == Selection::Kind::kInlineFragment) {
        const TypeDefinition* type =
            selection.type_condition.empty() ? &parent : schema_.FindType(selection.type_condition);
        if (type && type->kind == TypeKind::kObject) {
          CollectUsages(*type, selection.selections, visited, usages);
        }
      } else if (visited.insert(selection.name).second) {
        auto it = fragments_.find(selection.name);
        if (it == fragments_.end()) continue;
        for (const Directive& directive : it->second->directives) {
          if (const DirectiveDefinition* definition = schema_.FindDirective(directive.name)) {
            CollectArgumentUsages(definition->arguments, directive.arguments, usages);
          }
        }
        const TypeDefinition* type = schema_.FindType(it->second->type_condition);
        if (type && type->kind == TypeKind::kObject) {
          CollectUsages(*type, it->second->selections, visited, usages);
        }
      }
    }
  }

  void CollectArgumentUsages(const std::vector<InputValueDefinition>& definitions,
                             const std::vector<Argument>& arguments,
                             std::vector<VariableUsage>& usages) {
    for (const Argument& argument : arguments) {
      for (const InputValueDefinition& definition : definitions) {
        if (definition.name == argument.name) {
          CollectValueUsages(definition.parsed_type, argument.value,
                             definition.default_value.has_value(), usages);
        }
      }
    }
  }

  void CollectValueUsages(const TypeRef& expected, const Value& value, bool has_default,
                          std::vector<VariableUsage>& usages) {
    if (value.kind == Value::Kind::kVariable) {
      usages.push_back({&value, expected, has_default});
      return;
    }
    const TypeRef& nullable =
        expected.kind == TypeRef::Kind::kNonNull ? *expected.of_type : expected;
    if (const TypeDefinition* scalar =
            nullable.kind == TypeRef::Kind::kNamed ? schema_.FindType(nullable.name) : nullptr;
        scalar && scalar->kind == TypeKind::kScalar) {
      CollectAnyUsages(value, usages);  // a list or object literal of a JSON scalar
      return;
    }
    if (value.kind == Value::Kind::kList) {
      const TypeRef& item = nullable.kind == TypeRef::Kind::kList ? *nullable.of_type : nullable;
      for (const Value& element : value.list) CollectValueUsages(item, element, false, usages);
      return;
    }
    if (value.kind == Value::Kind::kObject) {
      const TypeDefinition* type =
          nullable.kind == TypeRef::Kind::kNamed ? schema_.FindType(nullable.name) : nullptr;
      for (const auto& [name, field_value] : value.fields) {
        const InputValueDefinition* field = type ? type->FindInputField(name) : nullptr;
        if (field) {
          CollectValueUsages(field->parsed_type, field_value, field->default_value.has_value(),
                             usages);
        } else {
          // A JSON scalar's object literal, or an unknown field (reported elsewhere): any
          // variable in it is used, whatever its type.
          CollectAnyUsages(field_value, usages);
        }
      }
    }
  }

  void CollectAnyUsages(const Value& value, std::vector<VariableUsage>& usages) {
    if (value.kind == Value::Kind::kVariable) {
      // Compared with nothing: only its definition and use are checked.
      usages.push_back({&value, TypeRef{}, true});
      any_typed_.insert(&value);
    }
    for (const Value& item : value.list) CollectAnyUsages(item, usages);
    for (const auto& [name, field] : value.fields) CollectAnyUsages(field, usages);
  }

  void CheckFragmentsUsedAndAcyclic() {
    for (const FragmentDefinition& fragment : document_.fragments) {
      if (!used_fragments_.count(fragment.name)) {
        Fail("Fragment \"" + fragment.name + "\" is never used.", {fragment.location});
      }
    }
    // Depth-first over spreads; a spread back into the path is a cycle.
    std::set<std::string> done;
    std::vector<std::string> path;
    std::function<void(const FragmentDefinition&)> visit = [&](const FragmentDefinition& fragment) {
      path.push_back(fragment.name);
      std::function<void(const std::vector<Selection>&)> walk = [&](const auto& selections) {
        for (const Selection& selection : selections) {
          if (selection.kind != Selection::Kind::kFragmentSpread) {
            walk(selection.selections);
            continue;
          }
          auto on_path = std::find(path.begin(), path.end(), selection.name);
          if (on_path != path.end()) {
            std::string via;
            for (auto it = on_path + 1; it != path.end(); ++it) {
              via += (via.empty() ? "" : ", ") + ("\"" + *it + "\"");
            }
            Fail("Cannot spread fragment \"" + selection.name + "\" within itself" +
                     (via.empty() ? "" : " via " + via) + ".",
                 {selection.location});
            continue;
          }
          auto it = fragments_.find(selection.name);
          if (it != fragments_.end() && !done.count(selection.name)) visit(*it->second);
        }
      };
      walk(fragment.selections);
      path.pop_back();
      done.insert(fragment.name);
    };
    for (const FragmentDefinition& fragment : document_.fragments) {
      if (!done.count(fragment.name)) visit(fragment);
    }
  }

  const Schema& schema_;
  const Document& document_;
  std::vector<Error> errors_;
  std::map<std::string, const FragmentDefinition*> fragments_;
  std::set<std::string> used_fragments_;
  std::set<const Value*> any_typed_;
};

}  // namespace

Error RequestError(std::string message, std::vector<Location> locations) {
  return Error{std::move(message), std::move(locations), nullptr, {{"code", "InvalidArgument"}}};
}

std::vector<Error> Validate(const Schema& schema, const Document& document) {
  return Validator(schema, document).Run();
}

}  // namespace trainyard::graphql
