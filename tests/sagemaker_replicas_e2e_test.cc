// The SageMaker-compatible endpoint of two `trainyard server` replicas on one PostgreSQL
// (tests/support/postgres_fixture.h) and one object store: the endpoint's jobs are in the
// database's "sagemaker" schema, so a training job created through one replica is described,
// listed, logged (CloudWatch Logs' GetLogEvents) and stopped through the other; each job is
// claimed and run by one replica only (a marker per run of its code); a tuning job created
// through one is described through the other. Requests are signed as AWS's SDKs sign them
// (sagemaker_test_client.h); the buckets are made with Debian's awscli. Skipped, saying why,
// where PostgreSQL or awscli is not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "server/sagemaker/sagemaker_test_client.h"
#include "server_fixture.h"
#include "support/postgres_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using server::sagemaker::testing::JsonTestClient;
using server::sagemaker::testing::JsonTestResponse;
using testing::ProcessResult;
using testing::ServerProcess;
using testing::WaitFor;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kKeyId[] = "AKIDSAGEMAKERREPLICAS";
constexpr char kSecret[] = "sagemaker-replicas-secret";
constexpr char kRole[] = "arn:aws:iam::000000000000:role/trainyard-test";
constexpr char kLogGroup[] = "/aws/sagemaker/TrainingJobs";

class SageMakerReplicasTest : public ::testing::Test {
 protected:
  struct Replica {
    std::unique_ptr<ServerProcess> server;
    std::string s3_url;
    std::unique_ptr<JsonTestClient> client;
  };

  void SetUp() override {
    testing::PostgresServer* postgres = testing::SharedPostgres();
    if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
    if (!fs::exists(kAwsCli)) {
      GTEST_SKIP() << "Debian's awscli is not installed (" << kAwsCli << "): it makes the buckets";
    }
    database_url_ = postgres->CreateDatabase();
    ASSERT_FALSE(database_url_.empty());
    ASSERT_TRUE(fs::create_directories(temp_.path() / "markers"));
  }

  // Replica `name`: its own data dir and listeners, the shared object store and keys, and the
  // test's database (`on_sqlite`: the server's own SQLite store instead).
  Replica StartReplica(const std::string& name, int max_running, bool on_sqlite = false) {
    Replica replica;
    replica.s3_url = "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    const std::string sagemaker_url =
        "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort());
    std::vector<std::string> flags = {
        "--objects",          "file://" + (temp_.path() / "objects").string(),
        "--replica-id",       name,
        "--lease-seconds",    "3",
        "--max-running",      std::to_string(max_running),
        "--s3-listen",        replica.s3_url.substr(7),
        "--sagemaker-listen", sagemaker_url.substr(7)};
    if (!on_sqlite) flags.insert(flags.end(), {"--metadata", database_url_});
    replica.server = std::make_unique<ServerProcess>(
        temp_.path() / name, flags,
        std::map<std::string, std::string>{{"TRAINYARD_S3_ACCESS_KEY_ID", kKeyId},
                                           {"TRAINYARD_S3_SECRET_ACCESS_KEY", kSecret}});
    replica.server->Start();
    replica.client = std::make_unique<JsonTestClient>(
        sagemaker_url, aws::Credentials{.access_key_id = kKeyId, .secret_access_key = kSecret});
    return replica;
  }

  ProcessResult Aws(const Replica& replica, std::vector<std::string> arguments) {
    std::vector<std::string> argv = {kAwsCli, "--endpoint-url", replica.s3_url, "--no-cli-pager"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return testing::RunProcess(
        argv, testing::AwsClientEnvironment(temp_.path() / "home", kKeyId, kSecret), 60s);
  }

  // A training job whose code appends its model dir (which names the replica that runs it:
  // <temp>/<replica>/sagemaker-jobs/...) to markers/<job>, then runs `script`.
  json TrainingRequest(const std::string& name, const std::string& script) const {
    const std::string marker = (temp_.path() / "markers").string() + "/$TRAINING_JOB_NAME";
    return {{"TrainingJobName", name},
            {"AlgorithmSpecification",
             {{"TrainingImage", "trainyard/example:test"},
              {"TrainingInputMode", "File"},
              {"ContainerEntrypoint", {"/bin/sh", "-c"}},
              {"ContainerArguments",
               {"echo \"$SM_MODEL_DIR\" >> \"" + marker + "\"; " + script +
                "; echo weights > \"$SM_MODEL_DIR/model.bin\""}}}},
            {"RoleArn", kRole},
            {"OutputDataConfig", {{"S3OutputPath", "s3://replicas/out"}}},
            {"ResourceConfig",
             {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
            {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}};
  }

  // The replicas whose code ran the job, once per run, from its marker.
  std::vector<std::string> RunsOf(const std::string& job) const {
    std::vector<std::string> runs;
    std::ifstream file(temp_.path() / "markers" / job);
    for (std::string model_dir; std::getline(file, model_dir);) {
      runs.push_back(fs::path(model_dir).lexically_relative(temp_.path()).begin()->string());
    }
    return runs;
  }

  static json Describe(const Replica& replica, const std::string& job) {
    JsonTestResponse described =
        replica.client->SageMaker("DescribeTrainingJob", {{"TrainingJobName", job}});
    EXPECT_EQ(described.status, 200) << described.body;
    return described.json;
  }

  static std::string StatusOf(const Replica& replica, const std::string& job) {
    return Describe(replica, job).value("TrainingJobStatus", "");
  }

  testing::TempDir temp_;
  std::string database_url_;
};

TEST_F(SageMakerReplicasTest, ATrainingJobCreatedOnOneIsDescribedListedLoggedAndStoppedOnTheOther) {
  Replica a = StartReplica("a", 4);
  Replica b = StartReplica("b", 4);
  ProcessResult bucket = Aws(a, {"s3", "mb", "s3://replicas"});
  ASSERT_EQ(bucket.exit_code, 0) << bucket.output;

  // b is paused while a takes the job, so that a runs it and b only answers for it.
  ASSERT_EQ(kill(b.server->pid(), SIGSTOP), 0);
  JsonTestResponse created = a.client->SageMaker(
      "CreateTrainingJob",
      TrainingRequest("Long-One",
                      "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo \"tick $i\"; "
                      "sleep 0.1; done"));
  ASSERT_EQ(created.status, 200) << created.body;
  const bool started = WaitFor([&] { return RunsOf("Long-One").size() == 1; }, 30s);
  ASSERT_EQ(kill(b.server->pid(), SIGCONT), 0);
  ASSERT_TRUE(started) << "the job's code did not start";
  EXPECT_EQ(RunsOf("Long-One"), std::vector<std::string>{"a"});

  // Described through b (any case of its name), as a describes it.
  json on_b = Describe(b, "long-one");
  EXPECT_EQ(on_b.value("TrainingJobName", ""), "Long-One") << on_b.dump();
  EXPECT_EQ(on_b.value("TrainingJobArn", ""), created.json.value("TrainingJobArn", "?"));
  ASSERT_TRUE(WaitFor([&] { return StatusOf(b, "Long-One") == "InProgress"; }, 10s));
  EXPECT_EQ(Describe(b, "Long-One")["AlgorithmSpecification"],
            Describe(a, "Long-One")["AlgorithmSpecification"]);
  // Listed through b.
  JsonTestResponse listed = b.client->SageMaker("ListTrainingJobs", json::object());
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["TrainingJobSummaries"].size(), 1u) << listed.body;
  EXPECT_EQ(listed.json["TrainingJobSummaries"][0]["TrainingJobName"], "Long-One");
  EXPECT_EQ(listed.json["TrainingJobSummaries"][0]["TrainingJobStatus"], "InProgress");

  // Its log, while it runs on a, through b: the stream, then the lines as a recorded them.
  std::string stream;
  ASSERT_TRUE(WaitFor(
      [&] {
        JsonTestResponse streams =
            b.client->Logs("DescribeLogStreams",
                           {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", "Long-One/"}});
        if (streams.status != 200 || streams.json["logStreams"].empty()) return false;
        stream = streams.json["logStreams"][0].value("logStreamName", "");
        return streams.json["logStreams"][0].contains("lastEventTimestamp");
      },
      30s));
  // The ticks among its lines (trainyard-wrap writes lines of its own), in order.
  auto ticks = [](const json& events) {
    std::vector<std::string> found;
    for (const json& event : events) {
      std::string message = event.value("message", "");
      if (message.rfind("tick ", 0) == 0) found.push_back(message);
    }
    return found;
  };
  json events;
  ASSERT_TRUE(WaitFor(
      [&] {
        JsonTestResponse got = b.client->Logs(
            "GetLogEvents",
            {{"logGroupName", kLogGroup}, {"logStreamName", stream}, {"startFromHead", true}});
        events = got.json.value("events", json::array());
        return got.status == 200 && ticks(events).size() >= 5;
      },
      30s))
      << events.dump();
  std::vector<std::string> seen = ticks(events);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], "tick " + std::to_string(i + 1)) << events.dump();
  }
  int64_t previous = 0;
  for (const json& event : events) {
    EXPECT_GE(event.value("timestamp", int64_t{0}), previous) << events.dump();
    previous = event.value("timestamp", int64_t{0});
  }

  // Stopped through b: a, which runs it, stops it.
  JsonTestResponse stopped =
      b.client->SageMaker("StopTrainingJob", {{"TrainingJobName", "Long-One"}});
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  ASSERT_TRUE(WaitFor([&] { return StatusOf(a, "Long-One") == "Stopped"; }, 30s))
      << Describe(a, "Long-One").dump();
  EXPECT_EQ(StatusOf(b, "Long-One"), "Stopped");
  // Its code stopped long before its 600 ticks, and its whole log is served by b.
  JsonTestResponse after = b.client->Logs(
      "GetLogEvents",
      {{"logGroupName", kLogGroup}, {"logStreamName", stream}, {"startFromHead", true}});
  ASSERT_EQ(after.status, 200) << after.body;
  std::vector<std::string> all = ticks(after.json["events"]);
  ASSERT_GE(all.size(), seen.size()) << after.body;
  EXPECT_LT(all.size(), 600u);
  EXPECT_EQ(std::vector<std::string>(all.begin(), all.begin() + seen.size()), seen);
  EXPECT_EQ(RunsOf("Long-One").size(), 1u);
}

TEST_F(SageMakerReplicasTest, TrainingJobsCreatedOnBothRunEachOnceOnOneReplica) {
  constexpr int kJobs = 12;
  Replica a = StartReplica("a", kJobs);
  Replica b = StartReplica("b", kJobs);
  ProcessResult bucket = Aws(a, {"s3", "mb", "s3://replicas"});
  ASSERT_EQ(bucket.exit_code, 0) << bucket.output;
  std::vector<std::string> jobs;
  for (int i = 0; i < kJobs; ++i) {
    const std::string job = "once-" + std::to_string(i);
    const Replica& through = i % 2 == 0 ? a : b;
    JsonTestResponse created =
        through.client->SageMaker("CreateTrainingJob", TrainingRequest(job, "sleep 0.5"));
    ASSERT_EQ(created.status, 200) << created.body;
    jobs.push_back(job);
  }
  // The names are one namespace over both: a second job of a name taken on a is refused on b.
  JsonTestResponse again =
      b.client->SageMaker("CreateTrainingJob", TrainingRequest("ONCE-0", "true"));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.json.value("__type", ""), "ResourceInUse") << again.body;

  const auto created_at = std::chrono::steady_clock::now();
  for (const std::string& job : jobs) {
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string status = StatusOf(b, job);
          return status == "Completed" || status == "Failed" || status == "Stopped";
        },
        120s))
        << job << ": " << Describe(b, job).dump();
  }
  const auto ended_at = std::chrono::steady_clock::now();
  std::map<std::string, int> by_replica;
  for (const std::string& job : jobs) {
    EXPECT_EQ(StatusOf(a, job), "Completed") << Describe(a, job).dump();
    std::vector<std::string> runs = RunsOf(job);
    EXPECT_EQ(runs.size(), 1u) << job << "'s code ran " << runs.size() << " times";
    for (const std::string& replica : runs) by_replica[replica] += 1;
  }
  // Their models are in the shared store, whichever replica ran them.
  ProcessResult models = Aws(b, {"s3", "ls", "--recursive", "s3://replicas/out/"});
  ASSERT_EQ(models.exit_code, 0) << models.output;
  for (const std::string& job : jobs) {
    EXPECT_NE(models.output.find("out/" + job + "/output/model.tar.gz"), std::string::npos)
        << job << ": " << models.output;
  }
  std::printf("training jobs run by replica a: %d, b: %d; all ended %.1f s after their creation\n",
              by_replica["a"], by_replica["b"],
              std::chrono::duration<double>(ended_at - created_at).count());
  EXPECT_EQ(by_replica["a"] + by_replica["b"], kJobs);
  // Each claims at once the jobs created through it: both ran some.
  EXPECT_GT(by_replica["a"], 0);
  EXPECT_GT(by_replica["b"], 0);
  JsonTestResponse listed = a.client->SageMaker("ListTrainingJobs", {{"MaxResults", 100}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json["TrainingJobSummaries"].size(), static_cast<size_t>(kJobs));
}

TEST_F(SageMakerReplicasTest, ATuningJobCreatedOnOneIsDescribedOnTheOther) {
  Replica a = StartReplica("a", 4);
  Replica b = StartReplica("b", 4);
  for (const char* made : {"s3://code", "s3://replicas"}) {
    ProcessResult bucket = Aws(a, {"s3", "mb", made});
    ASSERT_EQ(bucket.exit_code, 0) << bucket.output;
  }
  // The SageMaker SDK's way: the code as sourcedir.tar.gz, run by the toolkit's rules.
  const fs::path source = temp_.path() / "source_dir";
  fs::create_directories(source);
  std::ofstream(source / "train.py") << "import argparse\n"
                                        "parser = argparse.ArgumentParser()\n"
                                        "parser.add_argument('-x', type=float, default=0.0)\n"
                                        "args, _ = parser.parse_known_args()\n"
                                        "print('val_loss=%.6f' % ((args.x - 0.3) ** 2), "
                                        "flush=True)\n";
  const fs::path tarball = temp_.path() / "sourcedir.tar.gz";
  ProcessResult packed = testing::RunProcess(
      {"tar", "-czf", tarball.string(), "-C", source.string(), "train.py"}, {}, 30s);
  ASSERT_EQ(packed.exit_code, 0) << packed.output;
  ProcessResult uploaded =
      Aws(b, {"s3", "cp", tarball.string(), "s3://code/tune/sourcedir.tar.gz"});
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.output;

  json request = {
      {"HyperParameterTuningJobName", "Tune-Across"},
      {"HyperParameterTuningJobConfig",
       {{"Strategy", "Random"},
        {"HyperParameterTuningJobObjective", {{"Type", "Minimize"}, {"MetricName", "val:loss"}}},
        {"ResourceLimits", {{"MaxNumberOfTrainingJobs", 3}, {"MaxParallelTrainingJobs", 2}}},
        {"ParameterRanges",
         {{"ContinuousParameterRanges",
           {{{"Name", "x"}, {"MinValue", "0"}, {"MaxValue", "1"}, {"ScalingType", "Linear"}}}}}},
        {"TrainingJobEarlyStoppingType", "Off"}}},
      {"TrainingJobDefinition",
       {{"StaticHyperParameters",
         {{"sagemaker_program", "\"train.py\""},
          {"sagemaker_submit_directory", "\"s3://code/tune/sourcedir.tar.gz\""}}},
        {"AlgorithmSpecification",
         {{"TrainingInputMode", "File"},
          {"MetricDefinitions", {{{"Name", "val:loss"}, {"Regex", "val_loss=([0-9.]+)"}}}}}},
        {"RoleArn", kRole},
        {"OutputDataConfig", {{"S3OutputPath", "s3://replicas/tuning/"}}},
        {"ResourceConfig",
         {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
        {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}}}};
  JsonTestResponse created = a.client->SageMaker("CreateHyperParameterTuningJob", request);
  ASSERT_EQ(created.status, 200) << created.body;

  // Described through b at once, and followed there to its end.
  JsonTestResponse described = b.client->SageMaker(
      "DescribeHyperParameterTuningJob", {{"HyperParameterTuningJobName", "tune-across"}});
  ASSERT_EQ(described.status, 200) << described.body;
  EXPECT_EQ(described.json.value("HyperParameterTuningJobName", ""), "Tune-Across");
  EXPECT_EQ(described.json.value("HyperParameterTuningJobArn", ""),
            created.json.value("HyperParameterTuningJobArn", "?"));
  json done;
  ASSERT_TRUE(WaitFor(
      [&] {
        done = b.client
                   ->SageMaker("DescribeHyperParameterTuningJob",
                               {{"HyperParameterTuningJobName", "Tune-Across"}})
                   .json;
        std::string status = done.value("HyperParameterTuningJobStatus", "");
        return status == "Completed" || status == "Failed" || status == "Stopped";
      },
      120s))
      << done.dump(2);
  EXPECT_EQ(done["HyperParameterTuningJobStatus"], "Completed") << done.dump(2);
  EXPECT_EQ(done["TrainingJobStatusCounters"]["Completed"], 3) << done.dump(2);
  EXPECT_TRUE(done.contains("BestTrainingJob")) << done.dump(2);
  // Its training jobs, listed through b; each described through a.
  JsonTestResponse listed = b.client->SageMaker("ListTrainingJobsForHyperParameterTuningJob",
                                                {{"HyperParameterTuningJobName", "Tune-Across"}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["TrainingJobSummaries"].size(), 3u) << listed.body;
  for (const json& summary : listed.json["TrainingJobSummaries"]) {
    EXPECT_EQ(StatusOf(a, summary.value("TrainingJobName", "")), "Completed") << summary.dump();
  }
  JsonTestResponse tunings = b.client->SageMaker("ListHyperParameterTuningJobs", json::object());
  ASSERT_EQ(tunings.status, 200) << tunings.body;
  EXPECT_EQ(tunings.json["HyperParameterTuningJobSummaries"].size(), 1u) << tunings.body;
}

// `trainyard migrate` moves the endpoint's SQLite store with the server's: the server started
// again on PostgreSQL describes, lists and logs the training jobs it ran on SQLite.
TEST_F(SageMakerReplicasTest, TrainingJobsRunOnSqliteAreServedAfterTheMoveToPostgres) {
  std::string log_before;
  {
    Replica on_sqlite = StartReplica("a", 2, /*on_sqlite=*/true);
    ProcessResult bucket = Aws(on_sqlite, {"s3", "mb", "s3://replicas"});
    ASSERT_EQ(bucket.exit_code, 0) << bucket.output;
    JsonTestResponse created = on_sqlite.client->SageMaker(
        "CreateTrainingJob", TrainingRequest("Moved", "echo before the move"));
    ASSERT_EQ(created.status, 200) << created.body;
    ASSERT_TRUE(WaitFor([&] { return StatusOf(on_sqlite, "Moved") == "Completed"; }, 60s))
        << Describe(on_sqlite, "Moved").dump();
    on_sqlite.server->Stop();
  }
  const fs::path data_dir = temp_.path() / "a";
  ASSERT_TRUE(fs::exists(data_dir / "sagemaker" / "metadata.db"));
  ProcessResult migrated = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "migrate", "--from",
       "sqlite://" + (data_dir / "trainyard.db").string(), "--to", database_url_},
      {}, 60s);
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  EXPECT_NE(migrated.output.find("(schema sagemaker): "), std::string::npos) << migrated.output;
  // The endpoint's SQLite store stays as it was, and is no longer used: moved aside, nothing
  // changes.
  fs::rename(data_dir / "sagemaker" / "metadata.db", temp_.path() / "sagemaker-before.db");

  Replica on_postgres = StartReplica("a", 2);
  json described = Describe(on_postgres, "Moved");
  EXPECT_EQ(described.value("TrainingJobStatus", ""), "Completed") << described.dump();
  JsonTestResponse listed = on_postgres.client->SageMaker("ListTrainingJobs", json::object());
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["TrainingJobSummaries"].size(), 1u) << listed.body;
  JsonTestResponse streams = on_postgres.client->Logs(
      "DescribeLogStreams", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", "Moved/"}});
  ASSERT_EQ(streams.status, 200) << streams.body;
  ASSERT_EQ(streams.json["logStreams"].size(), 1u) << streams.body;
  JsonTestResponse events = on_postgres.client->Logs(
      "GetLogEvents", {{"logGroupName", kLogGroup},
                       {"logStreamName", streams.json["logStreams"][0].value("logStreamName", "")},
                       {"startFromHead", true}});
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_NE(events.body.find("before the move"), std::string::npos) << events.body;
  // Its name is taken there too.
  JsonTestResponse again =
      on_postgres.client->SageMaker("CreateTrainingJob", TrainingRequest("moved", "true"));
  EXPECT_EQ(again.json.value("__type", ""), "ResourceInUse") << again.body;
}

}  // namespace
}  // namespace trainyard
