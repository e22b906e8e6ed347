// The parsed form of a botocore model, shared by service_model.cc (which builds it) and
// service_model_check.cc (which checks JSON values against it). Internal to the aws module.
//
// Immutable once built: shapes refer to each other by index, and to their compiled pattern by
// pointer into ModelData::patterns (a std::map, whose nodes do not move).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "aws/java_pattern.h"
#include "aws/service_model.h"

namespace trainyard::aws::model_internal {

enum class ShapeType {
  kStructure,
  kList,
  kMap,
  kString,
  kInteger,
  kLong,
  kFloat,
  kDouble,
  kBoolean,
  kTimestamp,
  kBlob,
  kDocument,
};

// A "min" or "max" trait: a length (strings, blobs, lists, maps) or a value (numbers).
struct Bound {
  double value = 0;
  // Written as a whole number in the model (every length, and the integers' bounds).
  bool integral = true;
};

struct Member {
  std::string name;       // as the JSON protocol writes it: "TrainingJobName"
  std::string path_name;  // as AWS's messages write it: "trainingJobName"
  int shape = -1;
  bool required = false;
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;
  std::optional<Bound> min;
  std::optional<Bound> max;
  std::vector<std::string> enum_values;
  const JavaPattern* pattern = nullptr;
  // Structures: members in the model's order, and where each name is.
  std::vector<Member> members;
  std::unordered_map<std::string, size_t> member_index;
  int list_member = -1;  // lists
  int map_key = -1;      // maps
  int map_value = -1;    // maps
};

struct Operation {
  int input = -1;  // -1: the operation takes or returns nothing
  int output = -1;
};

struct ModelData {
  std::string target_prefix;
  std::string signing_name;
  std::vector<Shape> shapes;
  std::unordered_map<std::string, int> shape_index;
  std::map<std::string, Operation> operations;
  std::map<std::string, JavaPattern> patterns;  // by source: each compiled once
};

// "Member is not expected in the input" and the like: what an unknown member violates.
enum class Direction { kInput, kOutput };

// Every violation of shape `shape` by `value` (null counts as absent), paths under `path`.
std::vector<ValidationError> CheckValue(const ModelData& model, int shape,
                                        const nlohmann::json& value, Direction direction,
                                        const std::string& path = "");

// The entries of a JSON object in the order a java.util.HashMap holding them iterates.
std::vector<nlohmann::json::const_iterator> JavaHashMapOrder(const nlohmann::json& object);

// A value as AWS quotes it: strings as they are, lists "[a, b]", a map shape's objects
// "{k=v, k2=v2}" (Java's toString), other objects as compact JSON. `shape`: -1 when unknown.
std::string RenderValue(const ModelData& model, const nlohmann::json& value, int shape);

// A model bound as Java prints it: "63" for a length or an integer, "1.0" for a double.
std::string FormatBound(const Bound& bound, bool as_double);

// "trainingJobName" for "TrainingJobName": the first character in lower case, as AWS's
// messages name members.
std::string PathName(const std::string& member_name);

}  // namespace trainyard::aws::model_internal
