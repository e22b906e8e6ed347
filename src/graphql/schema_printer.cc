// The schema in GraphQL's schema definition language, printed as graphql-js's printSchema
// prints it (descriptions as block strings, arguments on one line unless one has a
// description), so that a client's printed schema and the server's compare equal.
#include "graphql/schema.h"

namespace trainyard::graphql {
namespace {

using nlohmann::json;

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

std::string Schema::PrintDefinitionLanguage() const {
  std::string out;
  auto block = [&](const std::string& header, const std::vector<std::string>& lines) {
    if (!out.empty()) out += "\n";
    out += header + " {\n";
    for (const std::string& line : lines) out += line;
    out += "}\n";
  };
  if ((query_type_ && query_type_->name != "Query") ||
      (mutation_type_ && mutation_type_->name != "Mutation") ||
      (subscription_type_ && subscription_type_->name != "Subscription")) {
    std::vector<std::string> lines = {"  query: " + query_type_->name + "\n"};
    if (mutation_type_) lines.push_back("  mutation: " + mutation_type_->name + "\n");
    if (subscription_type_) {
      lines.push_back("  subscription: " + subscription_type_->name + "\n");
    }
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
