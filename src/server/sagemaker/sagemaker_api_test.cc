// The SageMaker operations end to end over HTTP: jobs created, run by the local executor
// through trainyard-wrap, followed to their end, their artifacts in the store; SageMaker's
// errors and quirks; a restart over the same store.
#include "server/sagemaker/sagemaker_api.h"

#include <regex>

#include "archive/archive.h"
#include "common/files.h"
#include "server/sagemaker/sagemaker_api_fixture.h"

namespace trainyard::server {
namespace {
namespace fs = std::filesystem;

constexpr char kTrainScript[] =
    "test -f \"$SM_CHANNEL_TRAINING/train.csv\" && test -f \"$SM_CHANNEL_TRAINING/sub/more.csv\" "
    "&& echo weights > \"$SM_MODEL_DIR/model.bin\" && echo 0,1 > "
    "\"$SM_OUTPUT_DATA_DIR/predictions.csv\" && echo loss=0.25 && echo \"FOO=$FOO "
    "lr=$SM_HP_LEARNING_RATE\"";

// Takes a second to stop, so that a test sees Stopping for sure.
constexpr char kSlowToStopScript[] =
    "trap 'sleep 1; exit 0' TERM; echo kept > \"$SM_MODEL_DIR/partial\"; "
    "while true; do sleep 0.1; done";

// The files of a .tar.gz in the store, unpacked into `directory`.
std::vector<std::string> UnpackStored(const std::string& content, const fs::path& directory) {
  fs::create_directories(directory);
  fs::path archive = directory.parent_path() / (directory.filename().string() + ".tar.gz");
  EXPECT_TRUE(WriteFileAtomic(archive, content).ok());
  auto files = archive::Unpack(archive, directory);
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? *files : std::vector<std::string>{};
}

TEST_F(SageMakerApiTest, CompletedJobHasTransitionsArtifactsMetricsAndLog) {
  StartServer();
  JsonTestResponse created = Call("CreateTrainingJob", JobRequest("digits-1", kTrainScript));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.json["TrainingJobArn"],
            "arn:aws:sagemaker:us-east-1:000000000000:training-job/digits-1");
  EXPECT_EQ(created.headers["content-type"], "application/x-amz-json-1.1");

  json job = WaitForEnd("digits-1");
  ASSERT_EQ(job["TrainingJobStatus"], "Completed") << job.dump(2);
  EXPECT_EQ(job["SecondaryStatus"], "Completed");
  EXPECT_EQ(Statuses(job), (std::vector<std::string>{"Starting", "Downloading", "Training",
                                                     "Uploading", "Completed"}));
  const json& transitions = job["SecondaryStatusTransitions"];
  EXPECT_EQ(transitions[0]["StatusMessage"], "Preparing the instances for training");
  EXPECT_EQ(transitions[1]["StatusMessage"], "Downloading input data");
  EXPECT_EQ(transitions[2]["StatusMessage"],
            "Training image download completed. Training in progress.");
  EXPECT_EQ(transitions[4]["StatusMessage"], "Training job completed");
  EXPECT_EQ(transitions[4]["StartTime"], transitions[4]["EndTime"]);
  EXPECT_EQ(job["ModelArtifacts"]["S3ModelArtifacts"],
            "s3://models/out/digits-1/output/model.tar.gz");
  EXPECT_EQ(job["TrainingStartTime"], transitions[1]["StartTime"]);
  EXPECT_EQ(job["TrainingEndTime"], transitions[4]["StartTime"]);
  EXPECT_GE(job["TrainingTimeInSeconds"].get<int>(), 1);
  EXPECT_EQ(job["BillableTimeInSeconds"], job["TrainingTimeInSeconds"]);
  EXPECT_TRUE(job["CreationTime"].is_number());
  EXPECT_EQ(job["HyperParameters"], json({{"learning_rate", "0.1"}}));
  EXPECT_EQ(job["Environment"], json({{"FOO", "bar"}}));
  EXPECT_EQ(job["RoleArn"], "arn:aws:iam::000000000000:role/trainyard-training");
  EXPECT_EQ(job["OutputDataConfig"]["KmsKeyId"], "");
  EXPECT_EQ(job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"],
            "FullyReplicated");
  EXPECT_EQ(job["EnableNetworkIsolation"], false);
  ASSERT_EQ(job["FinalMetricDataList"].size(), 1u) << job.dump(2);
  EXPECT_EQ(job["FinalMetricDataList"][0]["MetricName"], "train:loss");
  EXPECT_DOUBLE_EQ(job["FinalMetricDataList"][0]["Value"].get<double>(), 0.25);

  fs::path unpacked = temp_.path() / "unpacked";
  EXPECT_EQ(UnpackStored(StoreObject("s3/objects/models/out/digits-1/output/model.tar.gz"),
                         unpacked / "model"),
            std::vector<std::string>{"model.bin"});
  EXPECT_EQ(*ReadFile(unpacked / "model" / "model.bin"), "weights\n");
  std::vector<std::string> output = UnpackStored(
      StoreObject("s3/objects/models/out/digits-1/output/output.tar.gz"), unpacked / "output");
  EXPECT_NE(std::find(output.begin(), output.end(), "predictions.csv"), output.end());
  EXPECT_NE(StoreObject("sagemaker/training-jobs/digits-1/training.log").find("FOO=bar lr=0.1"),
            std::string::npos);
  // The job's state is the scheduler's record: no document of it in the store.
  EXPECT_EQ(StoreObject("sagemaker/training-jobs/digits-1/description.json"), "<missing>");
  // Nor its log beside the model.
  EXPECT_EQ(StoreObject("s3/objects/models/out/digits-1/output/training.log"), "<missing>");
  // The staged channels and artifacts go once the store has everything (just after the end).
  fs::path work = temp_.path() / "staging" / "digits-1";
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((fs::exists(work / "channels") || fs::exists(work / "artifacts")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_FALSE(fs::exists(work / "channels"));
  EXPECT_FALSE(fs::exists(work / "artifacts"));
}

TEST_F(SageMakerApiTest, FailingJobEndsFailedWithAlgorithmError) {
  StartServer();
  ASSERT_EQ(Call("CreateTrainingJob",
                 JobRequest("bad-1", "echo 'bad input data' > \"$SM_OUTPUT_DIR/failure\"; exit 3"))
                .status,
            200);
  json job = WaitForEnd("bad-1");
  EXPECT_EQ(job["TrainingJobStatus"], "Failed");
  EXPECT_EQ(job["SecondaryStatus"], "Failed");
  std::string reason = job.value("FailureReason", "");
  EXPECT_EQ(reason.rfind("AlgorithmError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("bad input data"), std::string::npos) << reason;
  EXPECT_EQ(job["SecondaryStatusTransitions"].back()["StatusMessage"], "Training job failed");
  EXPECT_TRUE(job.contains("TrainingEndTime"));
}

TEST_F(SageMakerApiTest, StopTrainingJobStopsAndThenRefuses) {
  StartServer();
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("sleepy-1", kSlowToStopScript)).status, 200);
  WaitForSecondary("sleepy-1", "Training");
  JsonTestResponse stopped = Call("StopTrainingJob", {{"TrainingJobName", "sleepy-1"}});
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  json stopping = Describe("sleepy-1");
  EXPECT_EQ(stopping["TrainingJobStatus"], "Stopping");
  EXPECT_EQ(stopping["SecondaryStatus"], "Stopping");
  JsonTestResponse again = Call("StopTrainingJob", {{"TrainingJobName", "sleepy-1"}});
  EXPECT_EQ(again.Type(), "ValidationException");
  EXPECT_EQ(again.Message(),
            "The request was rejected because the training job is in status Stopping.");

  json job = WaitForEnd("sleepy-1");
  EXPECT_EQ(job["TrainingJobStatus"], "Stopped");
  EXPECT_EQ(job["SecondaryStatus"], "Stopped");
  EXPECT_EQ(Statuses(job), (std::vector<std::string>{"Starting", "Downloading", "Training",
                                                     "Stopping", "Stopped"}));
  // What the job wrote to /opt/ml/model before the stop is uploaded, as SageMaker does.
  EXPECT_NE(StoreObject("s3/objects/models/out/sleepy-1/output/model.tar.gz"), "<missing>");

  JsonTestResponse ended = Call("StopTrainingJob", {{"TrainingJobName", "sleepy-1"}});
  EXPECT_EQ(ended.status, 400);
  EXPECT_EQ(ended.Type(), "ValidationException");
  EXPECT_EQ(ended.Message(),
            "The request was rejected because the training job is in status Stopped.");
  JsonTestResponse unknown = Call("StopTrainingJob", {{"TrainingJobName", "no-such-job"}});
  EXPECT_EQ(unknown.Type(), "ValidationException");
  EXPECT_EQ(unknown.Message(), "Requested resource not found.");
}

TEST_F(SageMakerApiTest, StopRightAfterCreateEndsStopped) {
  StartServer();
  for (int i = 0; i < 100; ++i) PutObject("data", "many/part-" + std::to_string(i), "x");
  json request = JobRequest("hasty-1", "exec sleep 30");
  request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://data/many/";
  ASSERT_EQ(Call("CreateTrainingJob", request).status, 200);
  // Whether the stop finds the job staging or already submitted, it ends Stopped.
  ASSERT_EQ(Call("StopTrainingJob", {{"TrainingJobName", "hasty-1"}}).status, 200);
  json job = WaitForEnd("hasty-1");
  EXPECT_EQ(job["TrainingJobStatus"], "Stopped");
  std::vector<std::string> statuses = Statuses(job);
  ASSERT_GE(statuses.size(), 3u);
  EXPECT_EQ(statuses.front(), "Starting");
  EXPECT_EQ(statuses[statuses.size() - 2], "Stopping");
  EXPECT_EQ(statuses.back(), "Stopped");
}

TEST_F(SageMakerApiTest, MaxRuntimeEndsStoppedMaxRuntimeExceeded) {
  StartServer();
  json request = JobRequest("slow-1", "exec sleep 30");
  request["StoppingCondition"]["MaxRuntimeInSeconds"] = 1;
  ASSERT_EQ(Call("CreateTrainingJob", request).status, 200);
  json job = WaitForEnd("slow-1");
  EXPECT_EQ(job["TrainingJobStatus"], "Stopped");
  EXPECT_EQ(job["SecondaryStatus"], "MaxRuntimeExceeded");
  EXPECT_EQ(job["StoppingCondition"]["MaxRuntimeInSeconds"], 1);
}

TEST_F(SageMakerApiTest, NamesAreUniqueAndValidated) {
  StartServer();
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("twin", "true")).status, 200);
  for (const char* name : {"twin", "TWIN"}) {
    JsonTestResponse duplicate = Call("CreateTrainingJob", JobRequest(name, "true"));
    EXPECT_EQ(duplicate.status, 400);
    EXPECT_EQ(duplicate.Type(), "ResourceInUse");
    EXPECT_EQ(duplicate.headers["x-amzn-errortype"], "ResourceInUse");
    EXPECT_EQ(duplicate.Message(),
              "Training job names must be unique within an AWS account and region, and a training "
              "job with this name already exists "
              "(arn:aws:sagemaker:us-east-1:000000000000:training-job/twin)");
  }
  JsonTestResponse invalid = Call("CreateTrainingJob", JobRequest("bad_name", "true"));
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.Type(), "ValidationException");
  EXPECT_EQ(invalid.Message(),
            "1 validation error detected: Value 'bad_name' at 'trainingJobName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  JsonTestResponse unknown = Call("DescribeTrainingJob", {{"TrainingJobName", "never-made"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Type(), "ValidationException");
  EXPECT_EQ(unknown.Message(), "Requested resource not found.");
  WaitForEnd("twin");
}

TEST_F(SageMakerApiTest, CreateChecksBucketsObjectsAndWhatTrainyardSupports) {
  StartServer();
  json empty = JobRequest("empty-1", "true");
  empty["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://data/nothing-here/";
  JsonTestResponse no_objects = Call("CreateTrainingJob", empty);
  EXPECT_EQ(no_objects.Type(), "ValidationException");
  EXPECT_EQ(no_objects.Message(),
            "No S3 objects found under S3 URL \"s3://data/nothing-here/\" given in input data "
            "source. Please ensure that the bucket exists in the selected region (us-east-1), that "
            "objects exist under that S3 prefix, and that the role "
            "\"arn:aws:iam::000000000000:role/trainyard-training\" has \"s3:ListBucket\" "
            "permissions on bucket \"data\".");

  json no_bucket = JobRequest("nobucket-1", "true");
  no_bucket["OutputDataConfig"]["S3OutputPath"] = "s3://missing-bucket/out";
  JsonTestResponse missing = Call("CreateTrainingJob", no_bucket);
  EXPECT_EQ(missing.Type(), "ValidationException");
  EXPECT_NE(missing.Message().find("missing-bucket"), std::string::npos);

  json manifest = JobRequest("manifest-1", "true");
  manifest["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile";
  EXPECT_NE(Call("CreateTrainingJob", manifest).Message().find("S3Prefix only"), std::string::npos);
  json dots = JobRequest("dots-1", "true");
  dots["InputDataConfig"][0]["ChannelName"] = "..";
  EXPECT_EQ(Call("CreateTrainingJob", dots).Type(), "ValidationException");
  json pipe = JobRequest("pipe-1", "true");
  pipe["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe";
  EXPECT_EQ(Call("CreateTrainingJob", pipe).Type(), "ValidationException");
  json cluster = JobRequest("cluster-1", "true");
  cluster["ResourceConfig"]["InstanceCount"] = 2;
  EXPECT_NE(Call("CreateTrainingJob", cluster).Message().find("InstanceCount must be 1"),
            std::string::npos);
  // TRAINYARD_* variables are trainyard's, as the REST API says; trainyard's own sagemaker
  // executor's (callback, job token, command, grace period) and TRAINYARD_KEEP_ARCHIVES pass.
  for (const char* reserved :
       {"TRAINYARD_UNPACK_MAX_BYTES", "TRAINYARD_ML_ROOT", "TRAINYARD_HYPERPARAMETERS_AS_ARGS"}) {
    json environment = JobRequest("reserved-1", "true");
    environment["Environment"] = {{"FOO", "bar"}, {reserved, "1"}};
    JsonTestResponse refused = Call("CreateTrainingJob", environment);
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(refused.Type(), "ValidationException");
    EXPECT_EQ(refused.Message(), std::string("Environment variable '") + reserved +
                                     "': TRAINYARD_* variables are set by trainyard (except "
                                     "TRAINYARD_KEEP_ARCHIVES).");
  }
  // None of them became a job.
  JsonTestResponse listed = Call("ListTrainingJobs", json::object());
  EXPECT_EQ(listed.json["TrainingJobSummaries"].size(), 0u);
}

// A secret of the server that a job prints is masked in what the endpoint stores and serves:
// the log (GetLogEvents, while the job runs and once it has ended) and FailureReason.
TEST_F(SageMakerApiTest, TheServersSecretsAreMaskedInLogsAndFailureReasons) {
  constexpr char kServerSecret[] = "endpoint-server-secret-0123456789";
  secret_mask_ = SecretMask({kServerSecret});
  StartServer();
  // The job reads it from a file, not from its request, which the endpoint shows as it came.
  std::filesystem::path file = temp_.path() / "found.txt";
  ASSERT_TRUE(WriteFileAtomic(file, kServerSecret).ok());
  std::string script =
      "echo \"found $(cat '" + file.string() + "')\"; cat '" + file.string() + "' >&2; exit 2";
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("leaky-1", script)).status, 200);
  json ended = WaitForEnd("leaky-1");
  EXPECT_EQ(ended["TrainingJobStatus"], "Failed");
  std::string reason = ended.value("FailureReason", "");
  EXPECT_NE(reason.find("****"), std::string::npos) << reason;
  EXPECT_EQ(ended.dump().find(kServerSecret), std::string::npos) << ended.dump();
  JsonTestResponse streams =
      Call("DescribeLogStreams",
           {{"logGroupName", "/aws/sagemaker/TrainingJobs"}, {"logStreamNamePrefix", "leaky-1/"}});
  ASSERT_EQ(streams.json["logStreams"].size(), 1u) << streams.body;
  JsonTestResponse events =
      Call("GetLogEvents", {{"logGroupName", "/aws/sagemaker/TrainingJobs"},
                            {"logStreamName", streams.json["logStreams"][0]["logStreamName"]},
                            {"startFromHead", true}});
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_NE(events.body.find("found ****"), std::string::npos) << events.body;
  EXPECT_EQ(events.body.find(kServerSecret), std::string::npos) << events.body;
}

TEST_F(SageMakerApiTest, JobsBeyondMaxRunningAreRefused) {
  StartServer(/*max_running=*/1);
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("first", "exec sleep 30")).status, 200);
  JsonTestResponse second = Call("CreateTrainingJob", JobRequest("second", "true"));
  EXPECT_EQ(second.status, 400);
  EXPECT_EQ(second.Type(), "ResourceLimitExceeded");
  EXPECT_NE(second.Message().find("with current utilization of 1 Jobs"), std::string::npos)
      << second.Message();
  ASSERT_EQ(Call("StopTrainingJob", {{"TrainingJobName", "first"}}).status, 200);
  WaitForEnd("first");
  EXPECT_EQ(Call("CreateTrainingJob", JobRequest("second", "true")).status, 200);
  WaitForEnd("second");
}

TEST_F(SageMakerApiTest, RequestsThatAreNotOperations) {
  StartServer();
  JsonTestResponse endpoint = Call("CreateEndpoint", {{"EndpointName", "x"}});
  EXPECT_EQ(endpoint.status, 400);
  EXPECT_EQ(endpoint.body, "{\"__type\":\"UnknownOperationException\"}");
  JsonTestRequest put_logs;
  put_logs.target = "Logs_20140328.PutLogEvents";
  put_logs.service = "logs";
  EXPECT_EQ(client_->Send(put_logs).Type(), "UnknownOperationException");
  JsonTestRequest other;
  other.target = "DynamoDB_20120810.ListTables";
  other.service = "dynamodb";
  EXPECT_EQ(client_->Send(other).Type(), "UnknownOperationException");

  JsonTestRequest malformed;
  malformed.target = "SageMaker.ListTrainingJobs";
  malformed.body = "{\"MaxResults\": ";
  JsonTestResponse bad_json = client_->Send(malformed);
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Type(), "SerializationException");
  malformed.body = "[1, 2]";
  EXPECT_EQ(client_->Send(malformed).Type(), "SerializationException");
  // A key given twice (which of the two would a reader take?) is refused as AWS refuses JSON
  // it cannot read, naming the key.
  malformed.body = "{\"MaxResults\": 5, \"MaxResults\": 7}";
  JsonTestResponse duplicate = client_->Send(malformed);
  EXPECT_EQ(duplicate.status, 400);
  EXPECT_EQ(duplicate.Type(), "SerializationException");
  EXPECT_NE(duplicate.body.find("MaxResults"), std::string::npos) << duplicate.body;
  malformed.body = "{\"MaxResults\": \"" + std::string(1100000, 'x') + "\"}";
  JsonTestResponse too_large = client_->Send(malformed);
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.Type(), "SerializationException");
}

TEST_F(SageMakerApiTest, RestartKeepsEndedJobsAndFailsOrphans) {
  StartServer();
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("before-1", "echo done")).status, 200);
  json ended = WaitForEnd("before-1");
  ASSERT_EQ(ended["TrainingJobStatus"], "Completed");
  ASSERT_EQ(Call("CreateTrainingJob", JobRequest("orphan-1", "exec sleep 30")).status, 200);
  WaitForSecondary("orphan-1", "Training");
  StopServer();  // the executor goes with the server and takes the running job with it

  StartServer();
  EXPECT_EQ(Describe("before-1"), ended);
  json orphan = WaitForEnd("orphan-1");
  EXPECT_EQ(orphan["TrainingJobStatus"], "Failed");
  EXPECT_NE(orphan.value("FailureReason", "").find("server stopped while the job ran"),
            std::string::npos)
      << orphan.dump(2);
  JsonTestResponse listed = Call("ListTrainingJobs", json::object());
  ASSERT_EQ(listed.json["TrainingJobSummaries"].size(), 2u);
  EXPECT_EQ(listed.json["TrainingJobSummaries"][0]["TrainingJobName"], "before-1");
  EXPECT_EQ(listed.json["TrainingJobSummaries"][1]["TrainingJobName"], "orphan-1");
  JsonTestResponse duplicate = Call("CreateTrainingJob", JobRequest("before-1", "true"));
  EXPECT_EQ(duplicate.Type(), "ResourceInUse");
}

}  // namespace
}  // namespace trainyard::server
