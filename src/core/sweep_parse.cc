#include "core/sweep_parse.h"

#include <cmath>
#include <optional>
#include <set>

#include "common/utf8.h"

namespace trainyard::core {
namespace {

std::string Quoted(std::string_view text) {
  return "'" + Abbreviate(text) + "'";
}

std::string_view Trim(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Splits at the commas outside brackets, braces and double-quoted strings.
Result<std::vector<std::string_view>> SplitTopLevel(std::string_view text,
                                                    const std::string& subject) {
  std::vector<std::string_view> parts;
  std::string closers;  // the brackets still open, innermost last
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      closers.push_back(c == '[' ? ']' : '}');
    } else if (c == ']' || c == '}') {
      if (closers.empty() || closers.back() != c) {
        return InvalidArgument(subject + ": unbalanced '" + std::string(1, c) + "'");
      }
      closers.pop_back();
    } else if (c == ',' && closers.empty()) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (in_string) return InvalidArgument(subject + ": a '\"' is not closed");
  if (!closers.empty()) {
    return InvalidArgument(subject + ": a '" + std::string(1, closers.back() == ']' ? '[' : '{') +
                           "' is not closed");
  }
  parts.push_back(text.substr(start));
  return parts;
}

const char* TypeName(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::null: return "null";
    default: return "a number";
  }
}

// An ordered_json value as a hyperparameter string; an object inside it prints with sorted
// keys, as EncodeHyperparameter prints every nlohmann::json.
Result<std::string> EncodeValue(const nlohmann::ordered_json& value, const std::string& path) {
  bool finite = true;
  const auto check = [&](auto& self, const nlohmann::ordered_json& v) -> void {
    if (v.is_number_float() && !std::isfinite(v.get<double>())) finite = false;
    if (v.is_structured()) {
      for (const auto& item : v) self(self, item);
    }
  };
  check(check, value);
  if (!finite) return InvalidArgument(path + ": not a finite number");
  return EncodeHyperparameter(nlohmann::json(value));
}

std::string Member(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Result<HyperparameterMap> ParseValueObject(const nlohmann::ordered_json& object,
                                           const std::string& path, const char* expected) {
  if (!object.is_object()) {
    return InvalidArgument(path + ": expected " + expected + ", got " + TypeName(object));
  }
  HyperparameterMap values;
  for (const auto& [key, value] : object.items()) {
    TY_ASSIGN_OR_RETURN(values[key], EncodeValue(value, Member(path, key)));
  }
  return values;
}

Status ParseGrid(const nlohmann::ordered_json& grid, const std::string& path, SweepSpec* spec) {
  if (!grid.is_object()) {
    return InvalidArgument(path +
                           ": expected an object of parameter names to lists of values, "
                           "got " +
                           TypeName(grid));
  }
  if (grid.empty()) return InvalidArgument((path.empty() ? "grid" : path) + ": no parameters");
  for (const auto& [name, values] : grid.items()) {
    const std::string name_path = Member(path, name);
    if (!values.is_array()) {
      return InvalidArgument(name_path + ": expected a list of values, got " + TypeName(values) +
                             " (a value that is itself a list goes inside one: [[1,2]])");
    }
    if (values.empty()) return InvalidArgument(name_path + ": the list of values is empty");
    std::vector<std::string> encoded;
    for (size_t i = 0; i < values.size(); ++i) {
      TY_ASSIGN_OR_RETURN(std::string value,
                          EncodeValue(values[i], name_path + "[" + std::to_string(i) + "]"));
      encoded.push_back(std::move(value));
    }
    spec->grid.emplace_back(name, std::move(encoded));
  }
  return Status::Ok();
}

Status ParseCombinations(const nlohmann::ordered_json& list, const std::string& path,
                         SweepSpec* spec) {
  if (!list.is_array()) {
    return InvalidArgument(path + ": expected a list of objects, got " + TypeName(list));
  }
  if (list.empty()) {
    return InvalidArgument((path.empty() ? "combinations" : path) + ": the list is empty");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    TY_ASSIGN_OR_RETURN(HyperparameterMap combination,
                        ParseValueObject(list[i], path + "[" + std::to_string(i) + "]",
                                         "an object of hyperparameters"));
    spec->combinations.push_back(std::move(combination));
  }
  return Status::Ok();
}

Result<SweepSpec> ParseOrdered(const nlohmann::ordered_json& document) {
  SweepSpec spec;
  if (document.is_array()) {
    TY_RETURN_IF_ERROR(ParseCombinations(document, "", &spec));
    return spec;
  }
  if (!document.is_object()) {
    return InvalidArgument("sweep file: expected an object or a list, got " +
                           std::string(TypeName(document)));
  }
  const bool structured =
      document.contains("grid") || document.contains("combinations") || document.contains("fixed");
  if (!structured) {
    TY_RETURN_IF_ERROR(ParseGrid(document, "", &spec));
    return spec;
  }
  for (const auto& [key, value] : document.items()) {
    if (key != "grid" && key != "combinations" && key != "fixed") {
      return InvalidArgument(key + ": not a key of a sweep file (grid, combinations, fixed)");
    }
  }
  if (document.contains("grid") && document.contains("combinations")) {
    return InvalidArgument("sweep file: both grid and combinations; give one or the other");
  }
  if (document.contains("fixed")) {
    TY_ASSIGN_OR_RETURN(spec.fixed,
                        ParseValueObject(document.at("fixed"), "fixed", "an object of values"));
  }
  if (document.contains("grid")) TY_RETURN_IF_ERROR(ParseGrid(document.at("grid"), "grid", &spec));
  if (document.contains("combinations")) {
    TY_RETURN_IF_ERROR(ParseCombinations(document.at("combinations"), "combinations", &spec));
  }
  return spec;
}

}  // namespace

Result<std::pair<std::string, std::vector<std::string>>> ParseParamFlag(std::string_view text) {
  const std::string subject = "--param " + Quoted(text);
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    return InvalidArgument(subject + ": expected NAME=VALUE[,VALUE...]");
  }
  const std::string_view name = Trim(text.substr(0, equals));
  if (name.empty()) return InvalidArgument(subject + ": the name is empty");
  TY_ASSIGN_OR_RETURN(std::vector<std::string_view> parts,
                      SplitTopLevel(text.substr(equals + 1), subject));
  std::vector<std::string> values;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view value = Trim(parts[i]);
    if (value.empty()) {
      return InvalidArgument(subject + ": value " + std::to_string(i + 1) + " is empty");
    }
    values.emplace_back(value);
  }
  return std::make_pair(std::string(name), std::move(values));
}

Result<std::pair<std::string, std::string>> ParseKeyValue(std::string_view text,
                                                          std::string_view flag) {
  const std::string subject = std::string(flag) + " " + Quoted(text);
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos) return InvalidArgument(subject + ": expected KEY=VALUE");
  if (equals == 0) return InvalidArgument(subject + ": the key before '=' is empty");
  return std::make_pair(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
}

Result<SweepFlags> ParseSearchFlags(const std::vector<std::string>& hyperparameter_flags,
                                    const std::vector<std::string>& param_flags) {
  SweepFlags flags;
  for (const std::string& text : hyperparameter_flags) {
    TY_ASSIGN_OR_RETURN(auto pair, ParseKeyValue(text, "--hp"));
    flags.sweep.fixed[pair.first] = std::move(pair.second);
  }
  std::set<std::string> names;
  for (const std::string& text : param_flags) {
    TY_ASSIGN_OR_RETURN(auto param, ParseParamFlag(text));
    if (!names.insert(param.first).second) {
      return InvalidArgument("--param '" + param.first + "' is given twice");
    }
    if (param.second.size() == 1) {
      TY_ASSIGN_OR_RETURN(std::optional<ParameterRange> range,
                          ParseRangeFlag(param.first, param.second.front()));
      if (range) {
        flags.ranges.push_back(std::move(*range));
        continue;
      }
    }
    flags.sweep.grid.push_back(std::move(param));
  }
  return flags;
}

Result<SweepSpec> ParseSweepFlags(const std::vector<std::string>& hyperparameter_flags,
                                  const std::vector<std::string>& param_flags) {
  TY_ASSIGN_OR_RETURN(SweepFlags flags, ParseSearchFlags(hyperparameter_flags, param_flags));
  if (!flags.ranges.empty()) {
    return InvalidArgument("--param '" + flags.ranges.front().name +
                           "': a range is searched, not listed: give it to `trainyard sweep "
                           "create --strategy random|bayesian|hyperband` (docs/search.md)");
  }
  return std::move(flags.sweep);
}

Result<SweepSpec> ParseSweepJson(const nlohmann::ordered_json& document) {
  return ParseOrdered(document);
}

Result<SweepSpec> ParseSweepJson(const nlohmann::json& document) {
  return ParseOrdered(nlohmann::ordered_json(document));
}

Result<SweepSpec> ParseSweepJsonText(std::string_view text) {
  nlohmann::ordered_json document;
  try {
    document = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..." (or
    // out_of_range.406 for a number beyond a double).
    std::string message = error.what();
    if (const size_t bracket = message.find("] "); bracket != std::string::npos) {
      message.erase(0, bracket + 2);
    }
    return InvalidArgument("sweep file: not valid JSON: " + message);
  }
  return ParseOrdered(document);
}

}  // namespace trainyard::core
