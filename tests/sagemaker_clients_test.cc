// `trainyard server` as SageMaker, end to end, with real processes and real clients:
//  - a 2×2 sweep with executor "sagemaker" whose SageMaker, CloudWatch Logs and S3 are the same
//    server's own endpoints (--sagemaker-listen, --s3-listen): each job goes through
//    CreateTrainingJob, runs behind the endpoint, and comes back with its model, predictions
//    and log;
//  - Debian's awscli (/usr/bin/aws sagemaker ... --endpoint-url) and boto3
//    (tests/sagemaker_boto3_check.py under /usr/bin/python3), both of which check requests and
//    parse answers with botocore's model. Each client test skips, saying why, where it is not
//    installed.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "archive/archive.h"
#include "archive/test_archives.h"
#include "server_fixture.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kKeyId[] = "AKIDSAGEMAKERCLIENTS";
constexpr char kSecret[] = "sagemaker-clients-secret";
constexpr char kRole[] = "arn:aws:iam::000000000000:role/trainyard-test";

class SageMakerClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    s3_port_ = FreeLoopbackPort();
    sagemaker_port_ = FreeLoopbackPort();
    // The server's executor signs with the same keys its endpoints accept.
    server_ = new ServerProcess(
        temp_->path() / "data",
        {"--s3-listen", "127.0.0.1:" + std::to_string(s3_port_), "--sagemaker-listen",
         "127.0.0.1:" + std::to_string(sagemaker_port_), "--sagemaker-role-arn", kRole,
         "--sagemaker-bucket", "sweeps", "--sagemaker-image", "trainyard/example:test",
         "--sagemaker-endpoint-url", Url(sagemaker_port_), "--sagemaker-s3-endpoint-url",
         Url(s3_port_), "--sagemaker-poll-interval-ms", "200", "--max-running", "4"},
        {{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId},
         {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret},
         {"AWS_ACCESS_KEY_ID", kKeyId},
         {"AWS_SECRET_ACCESS_KEY", kSecret},
         {"AWS_REGION", "us-east-1"},
         {"AWS_EC2_METADATA_DISABLED", "true"}});
    server_->Start();
    WaitFor([] { return Call({"GET", Url(s3_port_) + "/"}).status == 403; }, 20s);
    ProcessResult bucket = Aws({"s3", "mb", "s3://sweeps"});
    bucket_made_ = bucket.exit_code == 0;
    if (!bucket_made_) std::printf("aws s3 mb: %s\n", bucket.output.c_str());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete temp_;
  }

  static std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

  static std::map<std::string, std::string> ClientEnvironment() {
    return AwsClientEnvironment(temp_->path() / "home", kKeyId, kSecret);
  }

  // `aws SERVICE ...` against the endpoint that serves SERVICE.
  static ProcessResult Aws(std::vector<std::string> arguments) {
    if (!fs::exists(kAwsCli)) return {127, "no /usr/bin/aws"};
    int port = arguments[0] == "s3" ? s3_port_ : sagemaker_port_;
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", Url(port), "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return RunProcess(argv, ClientEnvironment(), 120s);
  }

  // `aws sagemaker create-training-job` of a job that runs `script` with /bin/sh over one
  // "training" channel, as the seed's requests are written.
  static ProcessResult CreateTrainingJob(const std::string& name, const std::string& input_uri,
                                         const std::string& output_uri, const std::string& script,
                                         int max_runtime, const json& environment = json()) {
    json algorithm = {{"TrainingImage", "trainyard/example:test"},
                      {"TrainingInputMode", "File"},
                      {"ContainerEntrypoint", {"/bin/sh", "-c"}},
                      {"ContainerArguments", {script}}};
    json channels = json::array({{{"ChannelName", "training"},
                                  {"DataSource",
                                   {{"S3DataSource",
                                     {{"S3DataType", "S3Prefix"},
                                      {"S3Uri", input_uri},
                                      {"S3DataDistributionType", "FullyReplicated"}}}}}}});
    std::vector<std::string> arguments = {
        "sagemaker",
        "create-training-job",
        "--training-job-name",
        name,
        "--algorithm-specification",
        algorithm.dump(),
        "--role-arn",
        kRole,
        "--input-data-config",
        channels.dump(),
        "--output-data-config",
        json{{"S3OutputPath", output_uri}}.dump(),
        "--resource-config",
        R"({"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10})",
        "--stopping-condition",
        "{\"MaxRuntimeInSeconds\": " + std::to_string(max_runtime) + "}",
        "--hyper-parameters",
        R"({"learning_rate": "0.1"})",
        "--output",
        "json"};
    if (!environment.is_null())
      arguments.insert(arguments.end(), {"--environment", environment.dump()});
    return Aws(arguments);
  }

  // The job's status once it ended (describe-training-job polled, as `aws sagemaker wait` does,
  // but without the waiter's two minutes between polls).
  static std::string WaitForTrainingJobEnd(const std::string& name) {
    std::string status;
    WaitFor(
        [&] {
          status = AwsJson({"sagemaker", "describe-training-job", "--training-job-name", name})
                       .value("TrainingJobStatus", "");
          return status != "InProgress" && status != "Stopping";
        },
        120s);
    return status;
  }

  static json AwsJson(std::vector<std::string> arguments) {
    arguments.insert(arguments.end(), {"--output", "json"});
    ProcessResult result = Aws(arguments);
    EXPECT_EQ(result.exit_code, 0) << arguments[0] << " " << arguments[1] << ": " << result.output;
    json parsed = json::parse(result.output, nullptr, false);
    return parsed.is_discarded() ? json::object() : parsed;
  }

  static TempDir* temp_;
  static ServerProcess* server_;
  static int s3_port_, sagemaker_port_;
  static bool bucket_made_;
};

TempDir* SageMakerClientsTest::temp_ = nullptr;
ServerProcess* SageMakerClientsTest::server_ = nullptr;
int SageMakerClientsTest::s3_port_ = 0;
int SageMakerClientsTest::sagemaker_port_ = 0;
bool SageMakerClientsTest::bucket_made_ = false;

TEST_F(SageMakerClientsTest, SweepThroughTheSageMakerExecutorCompletesWithArtifacts) {
  if (!bucket_made_) GTEST_SKIP() << "the bucket could not be made (awscli missing?)";
  json body = {{"name", "sagemade"},
               {"executor", "sagemaker"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", server_->UploadExample("train.csv", "training")},
                 {"evaluation", server_->UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 60}}},
               {"grid", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}}},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  auto created = server_->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  json sweep = server_->WaitForSweepEnd(sweep_id, 4, 120s);
  EXPECT_EQ(sweep["counts"]["Completed"], 4) << sweep.dump();
  ASSERT_TRUE(sweep["best_job"].is_object()) << sweep.dump();
  std::string job = sweep["best_job"]["name"];

  // The job really went through SageMaker's API: the endpoint knows it by that name.
  json described = AwsJson({"sagemaker", "describe-training-job", "--training-job-name", job});
  EXPECT_EQ(described.value("TrainingJobStatus", ""), "Completed") << described.dump();
  EXPECT_EQ(described["ModelArtifacts"].value("S3ModelArtifacts", ""),
            "s3://sweeps/trainyard/outputs/" + job + "/output/model.tar.gz");
  // Progress arrived live through the callback from behind the endpoint.
  json metrics = server_->Get("/api/v1/jobs/" + job + "/metrics?name=loss").Json();
  EXPECT_GT(metrics["metrics"].size(), 0u) << metrics.dump();

  // The model and the predictions download through the REST API as for any executor.
  fs::path model = temp_->path() / "model.tar.gz";
  ProcessResult downloaded =
      server_->Cli({"job", "download", job, "--artifact", "model", "-o", model.string()});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.output;
  fs::path unpacked = temp_->path() / "model";
  fs::create_directories(unpacked);
  ASSERT_TRUE(archive::Unpack(model, unpacked).ok());
  EXPECT_TRUE(fs::exists(unpacked / "model.json"));
  fs::path predictions = temp_->path() / "predictions.csv";
  downloaded = server_->Cli(
      {"job", "download", job, "--artifact", "predictions", "-o", predictions.string()});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.output;
  std::ifstream in(predictions);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "row,label,predicted,confidence");
  // And the log, read back from CloudWatch Logs.
  fs::path log = temp_->path() / "training.log";
  downloaded = server_->Cli({"job", "download", job, "--artifact", "log", "-o", log.string()});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.output;
  EXPECT_GT(fs::file_size(log), 0u);
}

TEST_F(SageMakerClientsTest, AwsCliDrivesTheEndpointAsSageMaker) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << "Debian's awscli is not installed (" << kAwsCli << ")";
  ASSERT_TRUE(bucket_made_);
  fs::path data = temp_->path() / "cli-data.csv";
  std::ofstream(data) << "a,b\n1,2\n";
  ASSERT_EQ(Aws({"s3", "cp", data.string(), "s3://sweeps/cli/train/data.csv"}).exit_code, 0);
  auto create = [&](const std::string& name, const std::string& script, int max_runtime) {
    return CreateTrainingJob(name, "s3://sweeps/cli/train/", "s3://sweeps/cli/out/", script,
                             max_runtime);
  };
  ProcessResult created =
      create("cli-job", "cat $SM_CHANNEL_TRAINING/data.csv; echo w > $SM_MODEL_DIR/w.txt", 600);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("arn:aws:sagemaker:us-east-1:"), std::string::npos);

  // The waiter polls describe-training-job until Completed (or fails on Failed/Stopped).
  ProcessResult waited = Aws(
      {"sagemaker", "wait", "training-job-completed-or-stopped", "--training-job-name", "cli-job"});
  EXPECT_EQ(waited.exit_code, 0) << waited.output;
  json described =
      AwsJson({"sagemaker", "describe-training-job", "--training-job-name", "cli-job"});
  EXPECT_EQ(described.value("TrainingJobStatus", ""), "Completed") << described.dump();
  EXPECT_EQ(described.value("SecondaryStatus", ""), "Completed");
  EXPECT_GE(described["SecondaryStatusTransitions"].size(), 4u);
  ProcessResult model = Aws({"s3", "cp", "s3://sweeps/cli/out/cli-job/output/model.tar.gz", "-"});
  EXPECT_EQ(model.exit_code, 0) << model.output;

  json listed = AwsJson({"sagemaker", "list-training-jobs", "--name-contains", "cli-",
                         "--status-equals", "Completed"});
  ASSERT_EQ(listed["TrainingJobSummaries"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["TrainingJobSummaries"][0]["TrainingJobName"], "cli-job");

  json streams = AwsJson({"logs", "describe-log-streams", "--log-group-name",
                          "/aws/sagemaker/TrainingJobs", "--log-stream-name-prefix", "cli-job/"});
  ASSERT_EQ(streams["logStreams"].size(), 1u) << streams.dump();
  json events = AwsJson({"logs", "get-log-events", "--log-group-name",
                         "/aws/sagemaker/TrainingJobs", "--log-stream-name",
                         streams["logStreams"][0]["logStreamName"], "--start-from-head"});
  EXPECT_NE(events.dump().find("1,2"), std::string::npos) << events.dump();

  // Stop, and the errors SageMaker gives.
  ASSERT_EQ(create("cli-sleeper", "sleep 60", 600).exit_code, 0);
  WaitFor(
      [&] {
        json d =
            AwsJson({"sagemaker", "describe-training-job", "--training-job-name", "cli-sleeper"});
        return d.value("SecondaryStatus", "") == "Training";
      },
      30s);
  EXPECT_EQ(Aws({"sagemaker", "stop-training-job", "--training-job-name", "cli-sleeper"}).exit_code,
            0);
  Aws({"sagemaker", "wait", "training-job-completed-or-stopped", "--training-job-name",
       "cli-sleeper"});
  described = AwsJson({"sagemaker", "describe-training-job", "--training-job-name", "cli-sleeper"});
  EXPECT_EQ(described.value("TrainingJobStatus", ""), "Stopped") << described.dump();

  ProcessResult duplicate = create("cli-job", "true", 600);
  EXPECT_NE(duplicate.exit_code, 0);
  EXPECT_NE(duplicate.output.find("ResourceInUse"), std::string::npos) << duplicate.output;
  ProcessResult bad_name = create("cli_job", "true", 600);
  EXPECT_NE(bad_name.output.find("ValidationException"), std::string::npos) << bad_name.output;
  EXPECT_NE(bad_name.output.find("trainingJobName"), std::string::npos) << bad_name.output;
  ProcessResult unknown =
      Aws({"sagemaker", "describe-training-job", "--training-job-name", "no-such-job"});
  EXPECT_NE(unknown.output.find("Requested resource not found"), std::string::npos)
      << unknown.output;
}

// The seed's request exactly: channel S3Uri s3://sample-s3/converts/<uuid> (no trailing slash)
// holding converts/<uuid>/<uuid>.zip. SageMaker places the object at <channel>/<uuid>/<uuid>.zip;
// the code must find the zip's csv there and no zip, and job.json must say what was unpacked.
// With Environment TRAINYARD_KEEP_ARCHIVES naming the channel, the zip stays as it came.
TEST_F(SageMakerClientsTest, TheSeedsChannelPrefixArrivesUnpacked) {
  if (!fs::exists(kAwsCli)) GTEST_SKIP() << "Debian's awscli is not installed (" << kAwsCli << ")";
  ASSERT_TRUE(bucket_made_);
  ProcessResult bucket = Aws({"s3", "mb", "s3://sample-s3"});
  ASSERT_EQ(bucket.exit_code, 0) << bucket.output;
  const std::string uuid = "0b6f3a52-8c1e-4f7a-9d2b-3e5c7a1f9e40";
  fs::path zip = temp_->path() / (uuid + ".zip");
  archive::testing::WriteTestArchive(zip, archive::testing::Format::kZip,
                                     {archive::testing::File("train.csv", "x,y\n1,2\n")});
  ProcessResult put =
      Aws({"s3", "cp", zip.string(), "s3://sample-s3/converts/" + uuid + "/" + uuid + ".zip"});
  ASSERT_EQ(put.exit_code, 0) << put.output;
  const std::string input_uri = "s3://sample-s3/converts/" + uuid;

  // The code fails unless the csv is where the zip was and the zip is gone; it hands back what
  // it saw in its model (in at most 256 characters: the most a ContainerArguments member holds).
  std::string check_unpacked = "u=" + uuid +
                               "; cd \"$SM_CHANNEL_TRAINING\" && find . -type f | sort >"
                               " \"$SM_MODEL_DIR/seen.txt\" && cp \"$TRAINYARD_JOB_JSON\""
                               " \"$SM_MODEL_DIR/\" && test -f $u/train.csv && test ! -e $u/$u.zip";
  ProcessResult created =
      CreateTrainingJob("seed-unpacked", input_uri, "s3://sample-s3/out/", check_unpacked, 600);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(WaitForTrainingJobEnd("seed-unpacked"), "Completed")
      << AwsJson({"sagemaker", "describe-training-job", "--training-job-name", "seed-unpacked"})
             .dump();
  fs::path model = temp_->path() / "seed-model.tar.gz";
  ProcessResult fetched =
      Aws({"s3", "cp", "s3://sample-s3/out/seed-unpacked/output/model.tar.gz", model.string()});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  fs::path unpacked = temp_->path() / "seed-model";
  fs::create_directories(unpacked);
  ASSERT_TRUE(archive::Unpack(model, unpacked).ok());
  std::ifstream seen(unpacked / "seen.txt");
  std::string seen_files((std::istreambuf_iterator<char>(seen)), std::istreambuf_iterator<char>());
  EXPECT_EQ(seen_files, "./" + uuid + "/train.csv\n");
  std::ifstream job_json_file(unpacked / "job.json");
  json job_json = json::parse(job_json_file, nullptr, false);
  ASSERT_TRUE(job_json.is_object());
  EXPECT_EQ(job_json["channels"]["training"]["unpacked_archives"],
            json::array({uuid + "/" + uuid + ".zip"}));
  EXPECT_EQ(job_json["channels"]["training"]["files"], json::array({uuid + "/train.csv"}));

  std::string check_kept = "test -f \"$SM_CHANNEL_TRAINING/" + uuid + "/" + uuid + ".zip\"";
  created = CreateTrainingJob("seed-kept", input_uri, "s3://sample-s3/out/", check_kept, 600,
                              {{"TRAINYARD_KEEP_ARCHIVES", "training"}});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(WaitForTrainingJobEnd("seed-kept"), "Completed")
      << AwsJson({"sagemaker", "describe-training-job", "--training-job-name", "seed-kept"}).dump();
}

TEST_F(SageMakerClientsTest, Boto3DrivesTheEndpointAsSageMaker) {
  if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython;
  if (RunProcess({kPython, "-c", "import boto3"}, {}, 30s).exit_code != 0)
    GTEST_SKIP() << "python3-boto3 is not installed";
  ASSERT_TRUE(bucket_made_);
  fs::path data = temp_->path() / "boto-data.csv";
  std::ofstream(data) << "x,y\n";
  ASSERT_EQ(Aws({"s3", "cp", data.string(), "s3://sweeps/boto/train/data.csv"}).exit_code, 0);
  ProcessResult result = RunProcess(
      {kPython, (SourceDir() / "tests" / "sagemaker_boto3_check.py").string(), Url(sagemaker_port_),
       "us-east-1", kKeyId, kSecret, "s3://sweeps/boto/train/",
       "test -f $SM_CHANNEL_TRAINING/data.csv && echo w > $SM_MODEL_DIR/w.txt && echo trained"},
      ClientEnvironment(), 180s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

}  // namespace
}  // namespace trainyard::testing
