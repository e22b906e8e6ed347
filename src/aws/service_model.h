// ServiceModel: an AWS service's botocore model (service-2.json), used to check AWS JSON 1.1
// requests the way the service itself checks them, before they are sent (the sagemaker
// executor) and when they arrive (trainyard's SageMaker-compatible endpoint).
//
// The SageMaker and CloudWatch Logs models are Debian's python3-botocore files, built into
// trainyard at compile time (nothing is read at run time); SageMakerModel() and LogsModel()
// parse them once, on first use, keeping only the shapes the listed operations reach.
//
// Checks, as AWS's own validation does: required members present and not null; types
// (structure, list, map, string, integer, long, float, double, boolean, timestamp); string
// length min/max (in characters); list and map sizes; numeric min/max; enums; patterns (the
// model's Java regular expressions, matched against the whole value, with PCRE2 in UTF mode:
// \p{L}, lookbehind). Unknown members are refused too (AWS answers SerializationException or
// ignores them; a client that sends them has a bug we want to see at submit time).
//
// Thread-safe after construction.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trainyard::aws {

struct ValidationError {
  // Where, as AWS's messages write it: members in lowerCamelCase joined by '.', list items as
  // ".N.member" (1-based): "trainingJobName", "inputDataConfig.1.member.channelName". A map's
  // values and keys are judged at the map's own path ("hyperParameters"), with the constraint
  // "Map value must satisfy constraint: [...]" listing every constraint of the value shape, as
  // AWS does.
  std::string path;
  // The violated constraint in AWS's words, e.g. "Member must satisfy regular expression
  // pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "Member must have length less than or equal
  // to 63", "Member must not be null", "Member must satisfy enum value set: [File, Pipe]".
  std::string constraint;
  // The offending value as AWS quotes it (strings as they are, others as JSON; "null" when
  // missing).
  std::string value;
};

// AWS's ValidationException message: "1 validation error detected: Value 'x' at
// 'trainingJobName' failed to satisfy constraint: Member must ..." ("N validation errors
// detected: ...; ..." for several).
std::string ValidationMessage(const std::vector<ValidationError>& errors);

class ServiceModel {
 public:
  // Parses a service-2.json document, keeping the shapes reachable from `operations` (all
  // operations when empty). InvalidArgument for a document that is not a botocore model.
  static Result<ServiceModel> Parse(std::string_view service_json,
                                    const std::vector<std::string>& operations = {});

  // "SageMaker", "Logs_20140328": the X-Amz-Target prefix.
  const std::string& target_prefix() const;
  // "sagemaker", "logs": the SigV4 service name.
  const std::string& signing_name() const;
  bool HasOperation(const std::string& operation) const;

  // Every violation of the operation's input shape by `input` (empty: valid). An unknown
  // operation is one error with path "" naming it.
  std::vector<ValidationError> ValidateInput(const std::string& operation,
                                             const nlohmann::json& input) const;
  // The same for a response, against the operation's output shape (used by tests to prove our
  // endpoint answers what clients parse).
  std::vector<ValidationError> ValidateOutput(const std::string& operation,
                                              const nlohmann::json& output) const;

  // Every violation of the named shape (for nested checks and tests).
  std::vector<ValidationError> ValidateShape(const std::string& shape,
                                             const nlohmann::json& value) const;

  ServiceModel(ServiceModel&&) noexcept;
  ServiceModel& operator=(ServiceModel&&) noexcept;
  ~ServiceModel();

 private:
  struct Impl;
  explicit ServiceModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// botocore's sagemaker 2017-07-24 model: CreateTrainingJob, DescribeTrainingJob,
// ListTrainingJobs, StopTrainingJob, and the tuning operations CreateHyperParameterTuningJob,
// DescribeHyperParameterTuningJob, ListHyperParameterTuningJobs,
// ListTrainingJobsForHyperParameterTuningJob, StopHyperParameterTuningJob.
const ServiceModel& SageMakerModel();
// botocore's logs 2014-03-28 model: DescribeLogStreams, GetLogEvents, FilterLogEvents.
const ServiceModel& LogsModel();

}  // namespace trainyard::aws
