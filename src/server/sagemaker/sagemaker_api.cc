// Request handling, in AWS's order: read the body (at most 1 MiB: larger is answered 413 with a
// SerializationException, as no SageMaker or Logs request comes near it), authenticate it for
// the service its X-Amz-Target names, find the operation (UnknownOperationException), parse
// the JSON (SerializationException), check it against botocore's model
// (ValidationException), then run it.
#include "server/sagemaker/sagemaker_api.h"

#include <optional>

#include "aws/service_model.h"
#include "common/json_text.h"
#include "server/sagemaker/json_auth.h"
#include "server/sagemaker/list_operations.h"
#include "server/sagemaker/training_jobs.h"

namespace trainyard::server {
namespace {
using nlohmann::json;
using sagemaker::JsonError;
using sagemaker::JsonReply;

constexpr size_t kMaxRequestBytes = 1 << 20;
// Deeper than any request of the SageMaker and CloudWatch Logs models.
constexpr int kMaxRequestDepth = 64;

JsonReply SerializationException(int http_status, std::string message) {
  return JsonReply::Fail({http_status, "SerializationException", std::move(message)});
}

JsonReply UnknownOperation() {
  return JsonReply::Fail({400, "UnknownOperationException", ""});
}

}  // namespace

SageMakerApi::SageMakerApi(SageMakerApiOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  jobs_ = std::make_unique<sagemaker::TrainingJobs>(options_);
}

SageMakerApi::~SageMakerApi() {
  Stop();
}

Status SageMakerApi::Start() {
  return jobs_->Start();
}

void SageMakerApi::Stop() {
  jobs_->Stop();
}

void SageMakerApi::Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  const std::string request_id = sagemaker::NewRequestId();
  JsonReply reply = JsonReply::Ok(json::object());
  try {
    reply = [&]() -> JsonReply {
      Result<std::string> text = body.ReadAll(kMaxRequestBytes);
      if (!text.ok() && text.status().code() == StatusCode::kResourceExhausted) {
        return SerializationException(413,
                                      "The request body is larger than 1048576 bytes, the "
                                      "most this endpoint accepts.");
      }
      if (!text.ok()) {
        return SerializationException(
            400, "The request body could not be read: " + text.status().message());
      }
      const std::string& target = request.Header("x-amz-target");
      size_t dot = target.find('.');
      std::string prefix = target.substr(0, dot);
      std::string operation = dot == std::string::npos ? "" : target.substr(dot + 1);
      const aws::ServiceModel* model = nullptr;
      for (const aws::ServiceModel* candidate : {&aws::SageMakerModel(), &aws::LogsModel()}) {
        if (candidate->target_prefix() == prefix) model = candidate;
      }

      sagemaker::JsonAuthOptions auth;
      auth.secret_by_access_key_id = &options_.secret_by_access_key_id;
      auth.region = options_.region;
      auth.max_clock_skew = options_.max_clock_skew;
      auth.now = options_.clock();
      if (auto refused = sagemaker::AuthenticateJsonRequest(
              request, *text, model ? model->signing_name() : "", auth)) {
        return JsonReply::Fail(*refused);
      }
      if (request.method != "POST" || !model || !model->HasOperation(operation)) {
        return UnknownOperation();
      }

      json input = json::object();
      if (!text->empty()) {
        Result<json> parsed = ParseJsonText(*text, kMaxRequestDepth);
        if (!parsed.ok()) {
          // A key given twice is as unreadable as bad JSON: two readers could disagree on it.
          std::string field = parsed.status().message().rfind("field '", 0) == 0
                                  ? " (" + parsed.status().message() + ")"
                                  : "";
          return SerializationException(400, "The request body is not valid JSON" + field + ".");
        }
        input = std::move(parsed).value();
      }
      if (!input.is_object()) {
        return SerializationException(400, "The request body must be a JSON object.");
      }
      // HyperParameterTuningJobConfig.RandomSeed is newer than the model the endpoint checks
      // against: taken out for the check, and checked as the newer model does (an integer, at
      // least 0).
      std::optional<json> random_seed;
      json* tuning_config = nullptr;
      if (operation == "CreateHyperParameterTuningJob" &&
          input.contains("HyperParameterTuningJobConfig") &&
          input["HyperParameterTuningJobConfig"].is_object()) {
        tuning_config = &input["HyperParameterTuningJobConfig"];
        if (tuning_config->contains("RandomSeed")) {
          random_seed = (*tuning_config)["RandomSeed"];
          tuning_config->erase("RandomSeed");
        }
      }
      std::vector<aws::ValidationError> errors = model->ValidateInput(operation, input);
      if (!errors.empty()) return sagemaker::ValidationException(aws::ValidationMessage(errors));
      if (random_seed) {
        if (!random_seed->is_number_integer() || random_seed->get<int64_t>() < 0 ||
            random_seed->get<int64_t>() > 2147483647) {
          return sagemaker::ValidationException(
              "1 validation error detected: Value '" + random_seed->dump() +
              "' at 'hyperParameterTuningJobConfig.randomSeed' failed to satisfy constraint: "
              "Member must be an integer between 0 and 2147483647");
        }
        (*tuning_config)["RandomSeed"] = *random_seed;
      }

      if (operation == "CreateTrainingJob") return jobs_->Create(input);
      if (operation == "DescribeTrainingJob") {
        return jobs_->Describe(input["TrainingJobName"].get<std::string>());
      }
      if (operation == "ListTrainingJobs") {
        return sagemaker::ListTrainingJobs(jobs_->Summaries(), input);
      }
      if (operation == "StopTrainingJob") {
        return jobs_->StopJob(input["TrainingJobName"].get<std::string>());
      }
      if (operation == "CreateHyperParameterTuningJob") return jobs_->CreateTuningJob(input);
      if (operation == "DescribeHyperParameterTuningJob") {
        return jobs_->DescribeTuningJob(input["HyperParameterTuningJobName"].get<std::string>());
      }
      if (operation == "ListHyperParameterTuningJobs") return jobs_->ListTuningJobs(input);
      if (operation == "ListTrainingJobsForHyperParameterTuningJob") {
        return jobs_->ListTuningTrainingJobs(input);
      }
      if (operation == "StopHyperParameterTuningJob") {
        return jobs_->StopTuningJob(input["HyperParameterTuningJobName"].get<std::string>());
      }
      if (operation == "DescribeLogStreams") {
        return sagemaker::DescribeLogStreams(*jobs_, input, {options_.region, options_.account_id});
      }
      if (operation == "GetLogEvents") return sagemaker::GetLogEvents(*jobs_, input);
      if (operation == "FilterLogEvents") return sagemaker::FilterLogEvents(*jobs_, input);
      return UnknownOperation();
    }();
  } catch (const std::exception& error) {
    reply = sagemaker::InternalFailure(Internal(error.what()));
  }
  sagemaker::WriteJsonReply(response, reply, request_id);
}

}  // namespace trainyard::server
