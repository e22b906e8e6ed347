// Loading a botocore model: only the shapes the wanted operations reach are kept (the SageMaker
// model has thousands; CreateTrainingJob and its siblings reach about 130), and each pattern is
// compiled once, here, so that a pattern PCRE2 cannot read fails the load instead of a request.
#include "aws/service_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>

#include "aws/service_model_data.h"
#include "aws/service_model_internal.h"

namespace trainyard::aws {

using model_internal::Bound;
using model_internal::Direction;
using model_internal::Member;
using model_internal::ModelData;
using model_internal::Shape;
using model_internal::ShapeType;

struct ServiceModel::Impl {
  ModelData data;
};

namespace {

// ordered_json keeps the model's member order, which is the order errors are reported in.
using ModelJson = nlohmann::ordered_json;

std::optional<ShapeType> ParseShapeType(const std::string& type) {
  static const std::map<std::string, ShapeType> kTypes = {
      {"structure", ShapeType::kStructure},
      {"list", ShapeType::kList},
      {"map", ShapeType::kMap},
      {"string", ShapeType::kString},
      {"integer", ShapeType::kInteger},
      {"long", ShapeType::kLong},
      {"float", ShapeType::kFloat},
      {"double", ShapeType::kDouble},
      {"boolean", ShapeType::kBoolean},
      {"timestamp", ShapeType::kTimestamp},
      {"blob", ShapeType::kBlob},
      {"document", ShapeType::kDocument},
  };
  const auto found = kTypes.find(type);
  if (found == kTypes.end()) return std::nullopt;
  return found->second;
}

Result<std::optional<Bound>> ParseBound(const ModelJson& shape, const char* trait,
                                        const std::string& name) {
  const auto found = shape.find(trait);
  if (found == shape.end()) return std::optional<Bound>();
  if (!found->is_number()) {
    return InvalidArgument("shape '" + name + "': '" + trait + "' is not a number");
  }
  Bound bound;
  bound.value = found->get<double>();
  bound.integral = found->is_number_integer() || std::floor(bound.value) == bound.value;
  return std::optional<Bound>(bound);
}

// Builds the shapes reachable from one shape, depth first; a shape is indexed before its
// members are read, so recursive shapes end.
class ShapeLoader {
 public:
  ShapeLoader(const ModelJson& shapes, ModelData* data) : shapes_(shapes), data_(data) {}

  Result<int> Load(const std::string& name) {
    if (const auto known = data_->shape_index.find(name); known != data_->shape_index.end()) {
      return known->second;
    }
    const auto found = shapes_.find(name);
    if (found == shapes_.end() || !found->is_object()) {
      return InvalidArgument("shape '" + name + "' is referenced but not defined");
    }
    const int index = static_cast<int>(data_->shapes.size());
    data_->shapes.emplace_back();
    data_->shape_index.emplace(name, index);
    auto shape = Build(name, *found);
    if (!shape.ok()) return shape.status();
    data_->shapes[index] = std::move(shape).value();
    return index;
  }

 private:
  Result<int> LoadReference(const ModelJson& shape, const char* field, const std::string& name) {
    const auto found = shape.find(field);
    if (found == shape.end() || !found->is_object() || !found->contains("shape")) {
      return InvalidArgument("shape '" + name + "' has no '" + field + "' shape");
    }
    return Load(found->at("shape").get<std::string>());
  }

  Result<Shape> Build(const std::string& name, const ModelJson& json) {
    Shape shape;
    shape.name = name;
    const auto type = ParseShapeType(json.value("type", ""));
    if (!type) return InvalidArgument("shape '" + name + "' has an unknown type");
    shape.type = *type;
    TY_ASSIGN_OR_RETURN(shape.min, ParseBound(json, "min", name));
    TY_ASSIGN_OR_RETURN(shape.max, ParseBound(json, "max", name));
    if (json.contains("enum")) shape.enum_values = json.at("enum").get<std::vector<std::string>>();
    if (json.contains("pattern")) {
      TY_ASSIGN_OR_RETURN(shape.pattern, CompiledPattern(json.at("pattern").get<std::string>()));
    }
    if (shape.type == ShapeType::kStructure) TY_RETURN_IF_ERROR(AddMembers(json, &shape));
    if (shape.type == ShapeType::kList) {
      TY_ASSIGN_OR_RETURN(shape.list_member, LoadReference(json, "member", name));
    }
    if (shape.type == ShapeType::kMap) {
      TY_ASSIGN_OR_RETURN(shape.map_key, LoadReference(json, "key", name));
      TY_ASSIGN_OR_RETURN(shape.map_value, LoadReference(json, "value", name));
    }
    return shape;
  }

  Status AddMembers(const ModelJson& json, Shape* shape) {
    const auto required = json.value("required", std::vector<std::string>());
    const auto members = json.find("members");
    if (members == json.end() || !members->is_object()) return Status::Ok();
    for (const auto& [member_name, member_json] : members->items()) {
      Member member;
      member.name = member_name;
      member.path_name = model_internal::PathName(member_name);
      member.required = std::find(required.begin(), required.end(), member_name) != required.end();
      if (!member_json.is_object() || !member_json.contains("shape")) {
        return InvalidArgument("member '" + member_name + "' of shape '" + shape->name +
                               "' has no shape");
      }
      // Load may grow data_->shapes, so `shape` (not an element of it) stays valid.
      TY_ASSIGN_OR_RETURN(member.shape, Load(member_json.at("shape").get<std::string>()));
      shape->member_index.emplace(member_name, shape->members.size());
      shape->members.push_back(std::move(member));
    }
    return Status::Ok();
  }

  Result<const JavaPattern*> CompiledPattern(const std::string& source) {
    if (const auto known = data_->patterns.find(source); known != data_->patterns.end()) {
      return &known->second;
    }
    auto compiled = JavaPattern::Compile(source);
    if (!compiled.ok()) return compiled.status();
    return &data_->patterns.emplace(source, std::move(compiled).value()).first->second;
  }

  const ModelJson& shapes_;
  ModelData* data_;
};

Result<int> LoadOperationShape(const ModelJson& operation, const char* field, ShapeLoader* loader) {
  const auto found = operation.find(field);
  if (found == operation.end()) return -1;
  return loader->Load(found->at("shape").get<std::string>());
}

Result<ModelData> LoadModel(const ModelJson& document, const std::vector<std::string>& wanted) {
  const auto metadata = document.find("metadata");
  const auto operations = document.find("operations");
  const auto shapes = document.find("shapes");
  if (!document.is_object() || metadata == document.end() || operations == document.end() ||
      shapes == document.end() || !operations->is_object() || !shapes->is_object()) {
    return InvalidArgument("not a botocore service model: no metadata, operations or shapes");
  }
  ModelData data;
  data.target_prefix = metadata->value("targetPrefix", "");
  data.signing_name = metadata->value("signingName", metadata->value("endpointPrefix", ""));
  std::vector<std::string> names = wanted;
  if (names.empty()) {
    for (const auto& [name, operation] : operations->items()) names.push_back(name);
  }
  ShapeLoader loader(*shapes, &data);
  for (const auto& name : names) {
    const auto operation = operations->find(name);
    if (operation == operations->end() || !operation->is_object()) {
      return InvalidArgument("operation '" + name + "' is not in the service model");
    }
    model_internal::Operation loaded;
    TY_ASSIGN_OR_RETURN(loaded.input, LoadOperationShape(*operation, "input", &loader));
    TY_ASSIGN_OR_RETURN(loaded.output, LoadOperationShape(*operation, "output", &loader));
    data.operations[name] = loaded;
  }
  return data;
}

// The compiled-in models are fixed at build time and aws_test parses them; should one still
// fail to load, the process keeps running with an empty model, which refuses every operation.
ServiceModel LoadEmbedded(std::string_view json, const std::vector<std::string>& operations,
                          const std::string& target_prefix, const std::string& signing_name) {
  auto model = ServiceModel::Parse(json, operations);
  if (model.ok()) return std::move(model).value();
  std::cerr << "trainyard: the built-in " << target_prefix
            << " service model does not load: " << model.status().ToString() << "\n";
  const nlohmann::json empty = {
      {"metadata", {{"targetPrefix", target_prefix}, {"signingName", signing_name}}},
      {"operations", nlohmann::json::object()},
      {"shapes", nlohmann::json::object()}};
  return std::move(ServiceModel::Parse(empty.dump())).value();
}

ValidationError UnknownOperation(const std::string& operation, const ModelData& data) {
  return ValidationError{
      "", "Operation is not in the " + data.target_prefix + " service model (or not loaded)",
      operation};
}

}  // namespace

std::string model_internal::PathName(const std::string& member_name) {
  std::string path_name = member_name;
  if (!path_name.empty()) {
    path_name[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(path_name[0])));
  }
  return path_name;
}

std::string ValidationMessage(const std::vector<ValidationError>& errors) {
  if (errors.empty()) return "";
  std::string message = std::to_string(errors.size()) +
                        (errors.size() == 1 ? " validation error" : " validation errors") +
                        " detected: ";
  for (size_t i = 0; i < errors.size(); ++i) {
    const ValidationError& error = errors[i];
    if (i > 0) message += "; ";
    // AWS writes a missing value bare ("Value null at 'roleArn'") and quotes every other.
    const bool missing = error.constraint == "Member must not be null";
    message += missing ? "Value null" : "Value '" + error.value + "'";
    message += " at '" + error.path + "' failed to satisfy constraint: " + error.constraint;
  }
  return message;
}

Result<ServiceModel> ServiceModel::Parse(std::string_view service_json,
                                         const std::vector<std::string>& operations) {
  // nlohmann throws on a value of the wrong JSON type (a "shape" that is a number, say).
  try {
    const ModelJson document = ModelJson::parse(service_json, nullptr, false);
    if (document.is_discarded()) return InvalidArgument("service model is not valid JSON");
    auto data = LoadModel(document, operations);
    if (!data.ok()) return data.status();
    auto impl = std::make_unique<Impl>();
    impl->data = std::move(data).value();
    return ServiceModel(std::move(impl));
  } catch (const nlohmann::json::exception& error) {
    return InvalidArgument(std::string("not a botocore service model: ") + error.what());
  }
}

const std::string& ServiceModel::target_prefix() const {
  return impl_->data.target_prefix;
}

const std::string& ServiceModel::signing_name() const {
  return impl_->data.signing_name;
}

bool ServiceModel::HasOperation(const std::string& operation) const {
  return impl_->data.operations.count(operation) > 0;
}

std::vector<ValidationError> ServiceModel::ValidateInput(const std::string& operation,
                                                         const nlohmann::json& input) const {
  const auto found = impl_->data.operations.find(operation);
  if (found == impl_->data.operations.end()) return {UnknownOperation(operation, impl_->data)};
  if (found->second.input < 0) return {};
  return model_internal::CheckValue(impl_->data, found->second.input, input, Direction::kInput);
}

std::vector<ValidationError> ServiceModel::ValidateOutput(const std::string& operation,
                                                          const nlohmann::json& output) const {
  const auto found = impl_->data.operations.find(operation);
  if (found == impl_->data.operations.end()) return {UnknownOperation(operation, impl_->data)};
  if (found->second.output < 0) {
    // StopTrainingJob returns nothing: an empty object (or no body) is all it may send.
    if (output.is_null() || (output.is_object() && output.empty())) return {};
    return {ValidationError{"", "Operation " + operation + " returns no output", output.dump()}};
  }
  return model_internal::CheckValue(impl_->data, found->second.output, output, Direction::kOutput);
}

std::vector<ValidationError> ServiceModel::ValidateShape(const std::string& shape,
                                                         const nlohmann::json& value) const {
  const auto found = impl_->data.shape_index.find(shape);
  if (found == impl_->data.shape_index.end()) {
    return {ValidationError{"",
                            "Shape is not in the " + impl_->data.target_prefix +
                                " service model (or not reachable from its operations)",
                            shape}};
  }
  return model_internal::CheckValue(impl_->data, found->second, value, Direction::kInput);
}

ServiceModel::ServiceModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServiceModel::ServiceModel(ServiceModel&&) noexcept = default;
ServiceModel& ServiceModel::operator=(ServiceModel&&) noexcept = default;
ServiceModel::~ServiceModel() = default;

const ServiceModel& SageMakerModel() {
  static const ServiceModel model =
      LoadEmbedded(EmbeddedSageMakerModelJson(),
                   {"CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs",
                    "StopTrainingJob", "CreateHyperParameterTuningJob",
                    "DescribeHyperParameterTuningJob", "ListHyperParameterTuningJobs",
                    "ListTrainingJobsForHyperParameterTuningJob", "StopHyperParameterTuningJob"},
                   "SageMaker", "sagemaker");
  return model;
}

const ServiceModel& LogsModel() {
  static const ServiceModel model = LoadEmbedded(
      EmbeddedLogsModelJson(), {"DescribeLogStreams", "GetLogEvents", "FilterLogEvents"},
      "Logs_20140328", "logs");
  return model;
}

}  // namespace trainyard::aws
