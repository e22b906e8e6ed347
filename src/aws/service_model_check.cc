// Checking a JSON value against a model shape, with AWS's own wording. The forms below are
// taken from real ValidationException messages (SageMaker, IAM, STS, Lambda, Kinesis Analytics,
// CloudFormation, DynamoDB, as quoted in public bug reports):
//
//   1 validation error detected: Value 'x' at 'trainingJobName' failed to satisfy constraint:
//     Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
//   2 validation errors detected: Value ... constraint: ...; Value ... constraint: ...
//   Value null at 'roleArn' failed to satisfy constraint: Member must not be null
//   list items: 'inputDataConfig.1.member.channelName', 'tags.6.member.value' (1-based)
//   a string member breaking its pattern and its length: the pattern error first, then the
//     length one (SageMaker, trainingJobName of 87 characters; STS, roleArn '')
//   map size: Value '{a=1, b=2}' at 'hyperParameters' ... Member must have length less than or
//     equal to 100 (a map and a list count entries as "length")
//   map keys and values: ONE error at the map's path, quoting the map as Java prints it and
//     listing ALL the constraints of the key or value shape (max, min, pattern), not only the
//     broken one: "Map value must satisfy constraint: [Member must have length less than or
//     equal to 2500, Member must have length greater than or equal to 0, Member must satisfy
//     regular expression pattern: .*]"; "Map keys must satisfy constraint: [...]"
//   enums: "Member must satisfy enum value set: [Pipe, File]" in the model's order
//   numbers: "Member must have value less than or equal to 50", quoted as Value '-1'
//
// Values are quoted as Java prints them (service_model_render.cc).
//
// Not found in any real message, so our own (marked where used): a value of the wrong JSON type
// (AWS answers SerializationException, without a path, in the Jackson-like words used here as
// the constraint, e.g. "STRING_VALUE can not be converted to an Integer" -- measured on Athena,
// another Coral service); unknown members (AWS ignores them); invalid UTF-8; fractional or
// out-of-range integers (AWS truncates); entries of a map that are null, of the wrong type, or
// structures (path "<map>.entry.<key>"); how a structure is quoted (compact JSON here); the
// order of errors across members (the model's member order here: AWS's looks like hash order).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>

#include "aws/service_model_internal.h"
#include "common/utf8.h"

namespace trainyard::aws::model_internal {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

bool IsNumberShape(ShapeType type) {
  return type == ShapeType::kInteger || type == ShapeType::kLong || type == ShapeType::kFloat ||
         type == ShapeType::kDouble;
}

bool IsScalarShape(ShapeType type) {
  return type != ShapeType::kStructure && type != ShapeType::kList && type != ShapeType::kMap &&
         type != ShapeType::kDocument;
}

bool IsDoubleShape(const Shape& shape) {
  return shape.type == ShapeType::kFloat || shape.type == ShapeType::kDouble;
}

std::string LengthAtMost(const Shape& shape) {
  return "Member must have length less than or equal to " + FormatBound(*shape.max, false);
}
std::string LengthAtLeast(const Shape& shape) {
  return "Member must have length greater than or equal to " + FormatBound(*shape.min, false);
}
std::string ValueAtMost(const Shape& shape) {
  return "Member must have value less than or equal to " +
         FormatBound(*shape.max, IsDoubleShape(shape));
}
std::string ValueAtLeast(const Shape& shape) {
  return "Member must have value greater than or equal to " +
         FormatBound(*shape.min, IsDoubleShape(shape));
}
std::string PatternConstraint(const Shape& shape) {
  return "Member must satisfy regular expression pattern: " + shape.pattern->source();
}
std::string EnumConstraint(const Shape& shape) {
  std::string out = "Member must satisfy enum value set: [";
  for (size_t i = 0; i < shape.enum_values.size(); ++i) {
    out += (i > 0 ? ", " : "") + shape.enum_values[i];
  }
  return out + "]";
}

// Every constraint of a shape, in the order AWS lists them for map keys and values.
std::string ConstraintList(const Shape& shape) {
  std::vector<std::string> constraints;
  const bool number = IsNumberShape(shape.type);
  if (shape.max) constraints.push_back(number ? ValueAtMost(shape) : LengthAtMost(shape));
  if (shape.min) constraints.push_back(number ? ValueAtLeast(shape) : LengthAtLeast(shape));
  if (shape.pattern) constraints.push_back(PatternConstraint(shape));
  if (!shape.enum_values.empty()) constraints.push_back(EnumConstraint(shape));
  std::string out;
  for (const auto& constraint : constraints) out += (out.empty() ? "" : ", ") + constraint;
  return out;
}

// The constraints a string breaks: enum, pattern, then length (see the file comment).
std::vector<std::string> StringViolations(const Shape& shape, const std::string& text) {
  const auto length = CodePointCount(text);
  if (!length) return {"Member must be valid UTF-8"};  // our own wording
  std::vector<std::string> broken;
  if (!shape.enum_values.empty() && std::find(shape.enum_values.begin(), shape.enum_values.end(),
                                              text) == shape.enum_values.end()) {
    broken.push_back(EnumConstraint(shape));
  }
  if (shape.pattern && !shape.pattern->Matches(text)) broken.push_back(PatternConstraint(shape));
  if (shape.max && static_cast<double>(*length) > shape.max->value) {
    broken.push_back(LengthAtMost(shape));
  }
  if (shape.min && static_cast<double>(*length) < shape.min->value) {
    broken.push_back(LengthAtLeast(shape));
  }
  return broken;
}

std::vector<std::string> NumberViolations(const Shape& shape, double value) {
  std::vector<std::string> broken;
  if (shape.max && value > shape.max->value) broken.push_back(ValueAtMost(shape));
  if (shape.min && value < shape.min->value) broken.push_back(ValueAtLeast(shape));
  return broken;
}

// The decoded size of standard base64 (padded to a multiple of 4), or nullopt.
std::optional<size_t> Base64DecodedSize(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (size_t i = 0; i + padding < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '/') return std::nullopt;
  }
  return text.size() / 4 * 3 - padding;
}

// Jackson's words for a JSON value that cannot become `target` ("an Integer"): AWS's
// SerializationException messages.
std::string TypeMismatch(const json& value, const std::string& target) {
  if (value.is_array()) return "Start of list found where not expected";
  if (value.is_object()) return "Start of structure or map found where not expected.";
  const char* token = value.is_string()    ? "STRING_VALUE"
                      : value.is_boolean() ? (value.get<bool>() ? "TRUE_VALUE" : "FALSE_VALUE")
                                           : "NUMBER_VALUE";
  return std::string(token) + " can not be converted to " + target;
}

// The whole number a JSON number holds when it fits a signed integer of `bits` + 1 bits.
std::optional<double> WholeNumber(const json& value, int bits) {
  const int64_t high = static_cast<int64_t>((uint64_t{1} << bits) - 1);
  const int64_t low = -high - 1;
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(high)) return std::nullopt;
    return static_cast<double>(number);
  }
  if (value.is_number_integer()) {
    const int64_t number = value.get<int64_t>();
    if (number < low || number > high) return std::nullopt;
    return static_cast<double>(number);
  }
  const double number = value.get<double>();
  const double limit = std::ldexp(1.0, bits);  // exact, unlike `high` as a double
  if (!std::isfinite(number) || std::floor(number) != number) return std::nullopt;
  if (number < -limit || number >= limit) return std::nullopt;
  return number;
}

// What is wrong with a scalar: either it cannot be read as the shape's type at all
// (`unreadable`: wrong JSON type, invalid UTF-8, a fraction for an integer), or the
// constraints it breaks, in the order AWS reports them.
struct ScalarFindings {
  std::optional<std::string> unreadable;
  std::vector<std::string> broken;
};

ScalarFindings Unreadable(std::string reason) {
  return ScalarFindings{std::move(reason), {}};
}

ScalarFindings InspectWhole(const Shape& shape, const json& value, const std::string& target,
                            int bits) {
  if (!value.is_number()) return Unreadable(TypeMismatch(value, target));
  const auto number = WholeNumber(value, bits);
  // Our own wording: AWS truncates a fraction, and answers SerializationException out of range.
  if (!number) return Unreadable("Member must be a whole number within the range of " + target);
  return ScalarFindings{std::nullopt, NumberViolations(shape, *number)};
}

ScalarFindings InspectBlob(const Shape& shape, const json& value) {
  if (!value.is_string()) return Unreadable(TypeMismatch(value, "a Blob"));
  const auto size = Base64DecodedSize(value.get<std::string>());
  if (!size) return Unreadable("Member must be base64-encoded");  // our own wording
  ScalarFindings findings;
  if (shape.max && static_cast<double>(*size) > shape.max->value) {
    findings.broken.push_back(LengthAtMost(shape));
  }
  if (shape.min && static_cast<double>(*size) < shape.min->value) {
    findings.broken.push_back(LengthAtLeast(shape));
  }
  return findings;
}

ScalarFindings InspectScalar(const Shape& shape, const json& value) {
  switch (shape.type) {
    case ShapeType::kString: {
      if (!value.is_string()) return Unreadable(TypeMismatch(value, "a String"));
      const std::string& text = value.get_ref<const std::string&>();
      if (!CodePointCount(text)) return Unreadable("Member must be valid UTF-8");  // ours
      return ScalarFindings{std::nullopt, StringViolations(shape, text)};
    }
    case ShapeType::kInteger: return InspectWhole(shape, value, "an Integer", 31);
    case ShapeType::kLong: return InspectWhole(shape, value, "a Long", 63);
    case ShapeType::kFloat:
    case ShapeType::kDouble:
      if (!value.is_number()) {
        return Unreadable(
            TypeMismatch(value, shape.type == ShapeType::kFloat ? "a Float" : "a Double"));
      }
      return ScalarFindings{std::nullopt, NumberViolations(shape, value.get<double>())};
    case ShapeType::kBoolean:
      if (!value.is_boolean()) return Unreadable(TypeMismatch(value, "a Boolean"));
      return {};
    case ShapeType::kTimestamp:  // JSON 1.1 sends epoch seconds, as a number
      if (!value.is_number()) return Unreadable(TypeMismatch(value, "a Timestamp"));
      return {};
    case ShapeType::kBlob: return InspectBlob(shape, value);
    default: return {};  // documents take any JSON
  }
}

class Checker {
 public:
  Checker(const ModelData& model, Direction direction) : model_(model), direction_(direction) {}

  std::vector<ValidationError> TakeErrors() { return std::move(errors_); }

  void Check(int shape_index, const json& value, const std::string& path) {
    if (value.is_null()) return;  // absent; a structure reports its required members
    if (depth_ >= kMaxDepth) return Add(path, value, -1, "Member is nested too deeply");
    ++depth_;
    const Shape& shape = model_.shapes[shape_index];
    switch (shape.type) {
      case ShapeType::kStructure: CheckStructure(shape, value, path); break;
      case ShapeType::kList: CheckList(shape_index, value, path); break;
      case ShapeType::kMap: CheckMap(shape_index, value, path); break;
      default: CheckScalar(shape_index, value, path); break;
    }
    --depth_;
  }

 private:
  void Add(const std::string& path, const json& value, int shape, std::string constraint) {
    errors_.push_back(
        ValidationError{path, std::move(constraint), RenderValue(model_, value, shape)});
  }

  void CheckStructure(const Shape& shape, const json& value, const std::string& path) {
    if (!value.is_object()) return Add(path, value, -1, "Expected null");
    for (const Member& member : shape.members) {
      const auto found = value.find(member.name);
      const std::string member_path = Join(path, member.path_name);
      if (found == value.end() || found->is_null()) {
        if (member.required) Add(member_path, nullptr, -1, "Member must not be null");
        continue;
      }
      Check(member.shape, *found, member_path);
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (shape.member_index.count(it.key()) > 0) continue;
      Add(Join(path, PathName(it.key())), it.value(), -1,
          direction_ == Direction::kInput ? "Member is not expected in the input"
                                          : "Member is not expected in the output");
    }
  }

  // Size checks shared by lists and maps ("length" counts entries).
  void CheckCount(int shape_index, const json& value, const std::string& path) {
    const Shape& shape = model_.shapes[shape_index];
    const double count = static_cast<double>(value.size());
    if (shape.max && count > shape.max->value) Add(path, value, shape_index, LengthAtMost(shape));
    if (shape.min && count < shape.min->value) Add(path, value, shape_index, LengthAtLeast(shape));
  }

  void CheckList(int shape_index, const json& value, const std::string& path) {
    if (!value.is_array()) return Add(path, value, -1, "Expected list or null");
    CheckCount(shape_index, value, path);
    const int member = model_.shapes[shape_index].list_member;
    for (size_t i = 0; i < value.size(); ++i) {
      Check(member, value[i], path + "." + std::to_string(i + 1) + ".member");
    }
  }

  void CheckMap(int shape_index, const json& value, const std::string& path) {
    if (!value.is_object()) return Add(path, value, -1, "Expected map or null");  // our guess
    CheckCount(shape_index, value, path);
    const Shape& shape = model_.shapes[shape_index];
    const Shape& key_shape = model_.shapes[shape.map_key];
    const auto entries = JavaHashMapOrder(value);
    if (std::any_of(entries.begin(), entries.end(), [&](const auto& entry) {
          return !StringViolations(key_shape, entry.key()).empty();
        })) {
      Add(path, value, shape_index,
          "Map keys must satisfy constraint: [" + ConstraintList(key_shape) + "]");
    }
    const Shape& value_shape = model_.shapes[shape.map_value];
    if (!IsScalarShape(value_shape.type)) {
      for (const auto& entry : entries) {
        Check(shape.map_value, entry.value(), path + ".entry." + entry.key());
      }
      return;
    }
    std::vector<ValidationError> entry_errors;  // unreadable entries, named one by one
    bool value_broken = false;
    for (const auto& entry : entries) {
      const std::string entry_path = path + ".entry." + entry.key();
      if (entry.value().is_null()) {
        entry_errors.push_back({entry_path, "Member must not be null", "null"});
        continue;
      }
      const ScalarFindings findings = InspectScalar(value_shape, entry.value());
      if (findings.unreadable) {
        entry_errors.push_back(
            {entry_path, *findings.unreadable, RenderValue(model_, entry.value(), -1)});
      }
      value_broken = value_broken || !findings.broken.empty();
    }
    if (value_broken) {
      Add(path, value, shape_index,
          "Map value must satisfy constraint: [" + ConstraintList(value_shape) + "]");
    }
    for (auto& error : entry_errors) errors_.push_back(std::move(error));
  }

  void CheckScalar(int shape_index, const json& value, const std::string& path) {
    const ScalarFindings findings = InspectScalar(model_.shapes[shape_index], value);
    if (findings.unreadable) return Add(path, value, -1, *findings.unreadable);
    for (const auto& constraint : findings.broken) Add(path, value, shape_index, constraint);
  }

  const ModelData& model_;
  Direction direction_;
  int depth_ = 0;
  std::vector<ValidationError> errors_;
};

}  // namespace

std::vector<ValidationError> CheckValue(const ModelData& model, int shape, const json& value,
                                        Direction direction, const std::string& path) {
  Checker checker(model, direction);
  // A missing body is an empty one: its required members are then reported as null.
  const bool top_level_structure =
      path.empty() && model.shapes[shape].type == ShapeType::kStructure;
  checker.Check(shape, top_level_structure && value.is_null() ? json::object() : value, path);
  return checker.TakeErrors();
}

}  // namespace trainyard::aws::model_internal
