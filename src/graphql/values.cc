#include "graphql/values.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "graphql/suggestions.h"

namespace trainyard::graphql {
namespace {

using nlohmann::json;

constexpr int64_t kIntMin = std::numeric_limits<int32_t>::min();
constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

bool ParseInteger(const std::string& text, int64_t* out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

// An Int or Float literal's value as JSON: an integer when it is one, else a double.
json NumberJson(const Value& literal) {
  int64_t integer = 0;
  if (literal.kind == Value::Kind::kInt && ParseInteger(literal.text, &integer)) return integer;
  return std::strtod(literal.text.c_str(), nullptr);
}

// Any literal as JSON (the JSON-carrying scalars): enum values become strings.
json LiteralJson(const Value& literal, const json& variables) {
  switch (literal.kind) {
    case Value::Kind::kVariable:
      return variables.is_object() && variables.contains(literal.text) ? variables[literal.text]
                                                                       : json();
    case Value::Kind::kInt:
    case Value::Kind::kFloat: return NumberJson(literal);
    case Value::Kind::kString:
    case Value::Kind::kEnum: return literal.text;
    case Value::Kind::kBoolean: return literal.boolean;
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kList: {
      json list = json::array();
      for (const Value& item : literal.list) list.push_back(LiteralJson(item, variables));
      return list;
    }
    case Value::Kind::kObject: {
      json object = json::object();
      for (const auto& [name, field] : literal.fields) object[name] = LiteralJson(field, variables);
      return object;
    }
  }
  return nullptr;
}

// The scalar's value from a literal, or the reason it has none.
Result<json> ScalarFromLiteral(const TypeDefinition& type, const Value& literal) {
  const std::string& name = type.name;
  if (name == "Int") {
    int64_t value = 0;
    if (literal.kind != Value::Kind::kInt) {
      return InvalidArgument("Int cannot represent non-integer value: " + Print(literal));
    }
    if (!ParseInteger(literal.text, &value) || value < kIntMin || value > kIntMax) {
      return InvalidArgument("Int cannot represent non 32-bit signed integer value: " +
                             literal.text);
    }
    return json(value);
  }
  if (name == "Float") {
    if (literal.kind != Value::Kind::kInt && literal.kind != Value::Kind::kFloat) {
      return InvalidArgument("Float cannot represent non numeric value: " + Print(literal));
    }
    double value = std::strtod(literal.text.c_str(), nullptr);
    if (!std::isfinite(value)) {
      return InvalidArgument("Float cannot represent non numeric value: " + literal.text);
    }
    return json(value);
  }
  if (name == "String") {
    if (literal.kind != Value::Kind::kString) {
      return InvalidArgument("String cannot represent a non string value: " + Print(literal));
    }
    return json(literal.text);
  }
  if (name == "Boolean") {
    if (literal.kind != Value::Kind::kBoolean) {
      return InvalidArgument("Boolean cannot represent a non boolean value: " + Print(literal));
    }
    return json(literal.boolean);
  }
  if (name == "ID") {
    if (literal.kind != Value::Kind::kString && literal.kind != Value::Kind::kInt) {
      return InvalidArgument("ID cannot represent a non-string and non-integer value: " +
                             Print(literal));
    }
    return json(literal.text);
  }
  return LiteralJson(literal, json());
}

Result<json> ScalarFromJson(const TypeDefinition& type, const json& value) {
  const std::string& name = type.name;
  if (name == "Int") {
    if (value.is_number_integer()) {
      int64_t integer = value.is_number_unsigned() && value.get<uint64_t>() > uint64_t(kIntMax)
                            ? kIntMax + 1
                            : value.get<int64_t>();
      if (integer < kIntMin || integer > kIntMax) {
        return InvalidArgument("Int cannot represent non 32-bit signed integer value: " +
                               Inspect(value));
      }
      return json(integer);
    }
    if (value.is_number_float()) {
      double number = value.get<double>();
      if (number != std::floor(number)) {
        return InvalidArgument("Int cannot represent non-integer value: " + Inspect(value));
      }
      if (number < double(kIntMin) || number > double(kIntMax)) {
        return InvalidArgument("Int cannot represent non 32-bit signed integer value: " +
                               Inspect(value));
      }
      return json(static_cast<int64_t>(number));
    }
    return InvalidArgument("Int cannot represent non-integer value: " + Inspect(value));
  }
  if (name == "Float") {
    if (!value.is_number()) {
      return InvalidArgument("Float cannot represent non numeric value: " + Inspect(value));
    }
    return json(value.get<double>());
  }
  if (name == "String") {
    if (!value.is_string()) {
      return InvalidArgument("String cannot represent a non string value: " + Inspect(value));
    }
    return value;
  }
  if (name == "Boolean") {
    if (!value.is_boolean()) {
      return InvalidArgument("Boolean cannot represent a non boolean value: " + Inspect(value));
    }
    return value;
  }
  if (name == "ID") {
    if (value.is_string()) return value;
    if (value.is_number_integer()) return json(value.dump());
    return InvalidArgument("ID cannot represent value: " + Inspect(value));
  }
  return value;
}

void CheckLiteralInto(const Schema& schema, const TypeRef& type, const Value& literal,
                      std::vector<std::string>& faults) {
  if (literal.kind == Value::Kind::kVariable) return;
  if (type.kind == TypeRef::Kind::kNonNull) {
    if (literal.kind == Value::Kind::kNull) {
      faults.push_back("Expected value of type \"" + ToString(type) + "\", found null.");
      return;
    }
    return CheckLiteralInto(schema, *type.of_type, literal, faults);
  }
  if (literal.kind == Value::Kind::kNull) return;
  if (type.kind == TypeRef::Kind::kList) {
    if (literal.kind == Value::Kind::kList) {
      for (const Value& item : literal.list) CheckLiteralInto(schema, *type.of_type, item, faults);
    } else {
      CheckLiteralInto(schema, *type.of_type, literal, faults);  // a single item (3.11)
    }
    return;
  }
  const TypeDefinition* named = schema.FindType(type.name);
  if (!named) return;  // reported as an unknown type elsewhere
  switch (named->kind) {
    case TypeKind::kScalar:
      if (auto value = ScalarFromLiteral(*named, literal); !value.ok()) {
        faults.push_back(value.status().message());
      }
      return;
    case TypeKind::kEnum:
      if (literal.kind != Value::Kind::kEnum) {
        faults.push_back("Enum \"" + named->name +
                         "\" cannot represent non-enum value: " + Print(literal) + ".");
      } else if (!named->HasEnumValue(literal.text)) {
        std::vector<std::string> names;
        for (const EnumValueDefinition& value : named->enum_values) names.push_back(value.name);
        faults.push_back("Value \"" + literal.text + "\" does not exist in \"" + named->name +
                         "\" enum." +
                         DidYouMean(SuggestionList(literal.text, names), "the enum value"));
      }
      return;
    case TypeKind::kInputObject: {
      if (literal.kind != Value::Kind::kObject) {
        faults.push_back("Expected value of type \"" + named->name + "\", found " + Print(literal) +
                         ".");
        return;
      }
      std::map<std::string, int> seen;
      for (const auto& [name, field_value] : literal.fields) {
        if (++seen[name] == 2) {
          faults.push_back("There can be only one input field named \"" + name + "\".");
        }
        const InputValueDefinition* field = named->FindInputField(name);
        if (!field) {
          std::vector<std::string> names;
          for (const InputValueDefinition& each : named->input_fields) names.push_back(each.name);
          faults.push_back("Field \"" + name + "\" is not defined by type \"" + named->name +
                           "\"." + DidYouMean(SuggestionList(name, names)));
          continue;
        }
        CheckLiteralInto(schema, field->parsed_type, field_value, faults);
      }
      for (const InputValueDefinition& field : named->input_fields) {
        if (field.parsed_type.kind == TypeRef::Kind::kNonNull && !field.default_value &&
            !seen.count(field.name)) {
          faults.push_back("Field \"" + named->name + "." + field.name + "\" of required type \"" +
                           field.type + "\" was not provided.");
        }
      }
      return;
    }
    case TypeKind::kObject: return;  // not an input type: reported elsewhere
  }
}

}  // namespace

std::string Print(const Value& literal) {
  switch (literal.kind) {
    case Value::Kind::kVariable: return "$" + literal.text;
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kEnum: return literal.text;
    case Value::Kind::kString:
      return json(literal.text).dump(-1, ' ', false, json::error_handler_t::replace);
    case Value::Kind::kBoolean: return literal.boolean ? "true" : "false";
    case Value::Kind::kNull: return "null";
    case Value::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < literal.list.size(); ++i) {
        out += (i ? ", " : "") + Print(literal.list[i]);
      }
      return out + "]";
    }
    case Value::Kind::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < literal.fields.size(); ++i) {
        out += (i ? ", " : "") + literal.fields[i].name + ": " + Print(literal.fields[i].value);
      }
      return out + "}";
    }
  }
  return "";
}

std::string Inspect(const json& value) {
  if (value.is_object()) {
    if (value.empty()) return "{}";
    std::string out = "{ ";
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      out += (first ? "" : ", ") + key + ": " + Inspect(item);
      first = false;
    }
    return out + " }";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) out += (i ? ", " : "") + Inspect(value[i]);
    return out + "]";
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> CheckLiteral(const Schema& schema, const TypeRef& type,
                                      const Value& literal) {
  std::vector<std::string> faults;
  CheckLiteralInto(schema, type, literal, faults);
  return faults;
}

Result<json> CoerceLiteral(const Schema& schema, const TypeRef& type, const Value& literal,
                           const json& variables) {
  if (literal.kind == Value::Kind::kVariable) {
    json value = variables.is_object() && variables.contains(literal.text) ? variables[literal.text]
                                                                           : json();
    if (value.is_null() && type.kind == TypeRef::Kind::kNonNull) {
      return InvalidArgument("Variable \"$" + literal.text + "\" of non-null type \"" +
                             ToString(type) + "\" must not be null.");
    }
    return value;
  }
  if (type.kind == TypeRef::Kind::kNonNull) {
    return CoerceLiteral(schema, *type.of_type, literal, variables);
  }
  if (literal.kind == Value::Kind::kNull) return json();
  if (type.kind == TypeRef::Kind::kList) {
    json list = json::array();
    if (literal.kind != Value::Kind::kList) {
      TY_ASSIGN_OR_RETURN(json item, CoerceLiteral(schema, *type.of_type, literal, variables));
      list.push_back(std::move(item));
      return list;
    }
    for (const Value& item_literal : literal.list) {
      TY_ASSIGN_OR_RETURN(json item, CoerceLiteral(schema, *type.of_type, item_literal, variables));
      list.push_back(std::move(item));
    }
    return list;
  }
  const TypeDefinition* named = schema.FindType(type.name);
  if (!named) return InvalidArgument("Unknown type \"" + type.name + "\".");
  switch (named->kind) {
    case TypeKind::kScalar:
      if (!IsBuiltInScalar(named->name)) return LiteralJson(literal, variables);
      return ScalarFromLiteral(*named, literal);
    case TypeKind::kEnum:
      if (literal.kind != Value::Kind::kEnum || !named->HasEnumValue(literal.text)) {
        return InvalidArgument("Value " + Print(literal) + " does not exist in \"" + named->name +
                               "\" enum.");
      }
      return json(literal.text);
    case TypeKind::kInputObject: {
      if (literal.kind != Value::Kind::kObject) {
        return InvalidArgument("Expected value of type \"" + named->name + "\", found " +
                               Print(literal) + ".");
      }
      json object = json::object();
      for (const InputValueDefinition& field : named->input_fields) {
        const Value* given = nullptr;
        for (const auto& [name, value] : literal.fields) {
          if (name == field.name) given = &value;
        }
        bool variable_missing = given && given->kind == Value::Kind::kVariable &&
                                !(variables.is_object() && variables.contains(given->text));
        if (!given || variable_missing) {
          if (field.default_json) {
            object[field.name] = *field.default_json;
          } else if (field.parsed_type.kind == TypeRef::Kind::kNonNull) {
            return InvalidArgument("Field \"" + named->name + "." + field.name +
                                   "\" of required type \"" + field.type + "\" was not provided.");
          }
          continue;
        }
        TY_ASSIGN_OR_RETURN(object[field.name],
                            CoerceLiteral(schema, field.parsed_type, *given, variables));
      }
      return object;
    }
    case TypeKind::kObject: break;
  }
  return InvalidArgument("type \"" + named->name + "\" is not an input type");
}

Result<json> CoerceVariableValue(const Schema& schema, const TypeRef& type, const json& value,
                                 const std::string& at) {
  auto fail = [&](const std::string& reason) -> Result<json> {
    return InvalidArgument(at.empty() ? reason : at.substr(1) + ": " + reason);
  };
  if (type.kind == TypeRef::Kind::kNonNull) {
    if (value.is_null()) {
      return fail("Expected non-nullable type \"" + ToString(type) + "\" not to be null.");
    }
    return CoerceVariableValue(schema, *type.of_type, value, at);
  }
  if (value.is_null()) return json();
  if (type.kind == TypeRef::Kind::kList) {
    json list = json::array();
    if (!value.is_array()) {
      TY_ASSIGN_OR_RETURN(json item, CoerceVariableValue(schema, *type.of_type, value, at));
      list.push_back(std::move(item));
      return list;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      TY_ASSIGN_OR_RETURN(json item, CoerceVariableValue(schema, *type.of_type, value[i],
                                                         at + "[" + std::to_string(i) + "]"));
      list.push_back(std::move(item));
    }
    return list;
  }
  const TypeDefinition* named = schema.FindType(type.name);
  if (!named) return InvalidArgument("Unknown type \"" + type.name + "\".");
  switch (named->kind) {
    case TypeKind::kScalar: {
      auto coerced = ScalarFromJson(*named, value);
      if (!coerced.ok()) return fail(coerced.status().message());
      return coerced;
    }
    case TypeKind::kEnum:
      if (!value.is_string() || !named->HasEnumValue(value.get<std::string>())) {
        return fail("Value " + Inspect(value) + " does not exist in \"" + named->name + "\" enum.");
      }
      return value;
    case TypeKind::kInputObject: {
      if (!value.is_object()) {
        return fail("Expected type \"" + named->name + "\" to be an object.");
      }
      for (const auto& [name, item] : value.items()) {
        if (!named->FindInputField(name)) {
          return fail("Field \"" + name + "\" is not defined by type \"" + named->name + "\".");
        }
      }
      json object = json::object();
      for (const InputValueDefinition& field : named->input_fields) {
        if (!value.contains(field.name)) {
          if (field.default_json) {
            object[field.name] = *field.default_json;
          } else if (field.parsed_type.kind == TypeRef::Kind::kNonNull) {
            return fail("Field \"" + field.name + "\" of required type \"" + field.type +
                        "\" was not provided.");
          }
          continue;
        }
        TY_ASSIGN_OR_RETURN(object[field.name],
                            CoerceVariableValue(schema, field.parsed_type, value[field.name],
                                                at + "." + field.name));
      }
      return object;
    }
    case TypeKind::kObject: break;
  }
  return InvalidArgument("type \"" + named->name + "\" is not an input type");
}

Result<json> SerializeLeaf(const TypeDefinition& type, const json& value) {
  const std::string& name = type.name;
  if (type.kind == TypeKind::kEnum) {
    if (value.is_string() && type.HasEnumValue(value.get<std::string>())) return value;
    return InvalidArgument("Enum \"" + name + "\" cannot represent value: " + Inspect(value));
  }
  if (name == "Int") {
    if (value.is_boolean()) return json(value.get<bool>() ? 1 : 0);
    return ScalarFromJson(type, value);
  }
  if (name == "Float") {
    if (value.is_boolean()) return json(value.get<bool>() ? 1.0 : 0.0);
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      return InvalidArgument("Float cannot represent non numeric value: " + Inspect(value));
    }
    return value;
  }
  if (name == "String" || name == "ID") {
    if (value.is_string()) return value;
    if (value.is_number() || value.is_boolean()) return json(value.dump());
    return InvalidArgument(name + " cannot represent value: " + Inspect(value));
  }
  if (name == "Boolean") {
    if (value.is_boolean()) return value;
    if (value.is_number()) return json(value.get<double>() != 0);
    return InvalidArgument("Boolean cannot represent a non boolean value: " + Inspect(value));
  }
  return value;
}

}  // namespace trainyard::graphql
