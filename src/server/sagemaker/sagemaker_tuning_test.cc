// The tuning API over the fixture's server: a tuning job runs as a search whose training jobs
// run the definition's code (shipped as the SageMaker SDK ships it, sourcedir.tar.gz named by
// the static hyperparameter sagemaker_submit_directory) and report the objective through a
// MetricDefinitions regex; its state is read back from the store after a restart; stops; and
// what SageMaker or trainyard refuses is refused naming the field. Every answer is checked
// against botocore's output shapes (the fixture's Call).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "server/sagemaker/sagemaker_api_fixture.h"
#include "support/subprocess.h"

namespace trainyard::server {
namespace {

class SageMakerTuningTest : public SageMakerApiTest {
 protected:
  // A sourcedir.tar.gz at s3://code/tune/sourcedir.tar.gz whose train.py reports
  // val_loss = (x - 0.3)^2 (+ 0.01 per layer), after sleeping --sleep seconds.
  void PutTrainer() {
    const std::filesystem::path source = temp_.path() / "source_dir";
    std::filesystem::create_directories(source);
    std::ofstream(source / "train.py")
        << "import argparse, time\n"
           "parser = argparse.ArgumentParser()\n"
           // The toolkit passes a one-character key as -x (core::ToCommandLineArguments).
           "parser.add_argument('-x', type=float, default=0.0)\n"
           "parser.add_argument('--layers', type=int, default=0)\n"
           "parser.add_argument('--sleep', type=float, default=0.0)\n"
           "args, _ = parser.parse_known_args()\n"
           "time.sleep(args.sleep)\n"
           "print('val_loss=%.6f' % ((args.x - 0.3) ** 2 + 0.01 * args.layers), flush=True)\n";
    const std::filesystem::path tarball = temp_.path() / "sourcedir.tar.gz";
    auto packed = trainyard::testing::RunProcess(
        {"tar", "-czf", tarball.string(), "-C", source.string(), "train.py"}, {}, 30s);
    ASSERT_EQ(packed.exit_code, 0) << packed.output;
    std::ifstream file(tarball, std::ios::binary);
    MakeBucket("code");
    PutObject("code", "tune/sourcedir.tar.gz",
              std::string(std::istreambuf_iterator<char>(file), {}));
  }

  static json TuningRequest(const std::string& name, const std::string& strategy, int max_jobs,
                            int max_parallel, double sleep_seconds = 0) {
    json config = {
        {"Strategy", strategy},
        {"HyperParameterTuningJobObjective", {{"Type", "Minimize"}, {"MetricName", "val:loss"}}},
        {"ResourceLimits",
         {{"MaxNumberOfTrainingJobs", max_jobs}, {"MaxParallelTrainingJobs", max_parallel}}},
        {"ParameterRanges",
         {{"ContinuousParameterRanges",
           {{{"Name", "x"}, {"MinValue", "0"}, {"MaxValue", "1"}, {"ScalingType", "Linear"}}}},
          {"IntegerParameterRanges",
           {{{"Name", "layers"}, {"MinValue", "1"}, {"MaxValue", "3"}}}}}},
        {"TrainingJobEarlyStoppingType", "Off"}};
    json definition = {
        {"StaticHyperParameters",
         {{"sagemaker_program", "\"train.py\""},
          {"sagemaker_submit_directory", "\"s3://code/tune/sourcedir.tar.gz\""},
          {"sleep", std::to_string(sleep_seconds)}}},
        {"AlgorithmSpecification",
         {{"TrainingInputMode", "File"},
          {"MetricDefinitions", {{{"Name", "val:loss"}, {"Regex", "val_loss=([0-9.]+)"}}}}}},
        {"RoleArn", "arn:aws:iam::000000000000:role/trainyard-tuning"},
        {"InputDataConfig",
         {{{"ChannelName", "training"},
           {"DataSource",
            {{"S3DataSource", {{"S3DataType", "S3Prefix"}, {"S3Uri", "s3://data/train/"}}}}}}}},
        {"OutputDataConfig", {{"S3OutputPath", "s3://models/tuning/"}}},
        {"ResourceConfig",
         {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
        {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}};
    return {{"HyperParameterTuningJobName", name},
            {"HyperParameterTuningJobConfig", config},
            {"TrainingJobDefinition", definition}};
  }

  json DescribeTuning(const std::string& name) {
    JsonTestResponse response =
        Call("DescribeHyperParameterTuningJob", {{"HyperParameterTuningJobName", name}});
    EXPECT_EQ(response.status, 200) << response.body;
    return response.json;
  }

  json WaitForTuning(const std::string& name, const std::set<std::string>& statuses,
                     std::chrono::seconds timeout = 90s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    json description;
    while (std::chrono::steady_clock::now() < deadline) {
      description = DescribeTuning(name);
      if (statuses.contains(description.value("HyperParameterTuningJobStatus", ""))) {
        return description;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << name << " did not get there in time: " << description.dump(2);
    return description;
  }

  // The refusal's message, after checking it is a 400 ValidationException.
  std::string Refusal(const json& request) {
    JsonTestResponse response = Call("CreateHyperParameterTuningJob", request);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(response.json.value("__type", ""), "ValidationException") << response.body;
    return response.json.value("message", "");
  }
};

TEST_F(SageMakerTuningTest, ARandomTuningJobRunsItsTrialsAndShowsTheBestAcrossARestart) {
  PutTrainer();
  StartServer();
  JsonTestResponse created =
      Call("CreateHyperParameterTuningJob", TuningRequest("Tune-A", "Random", 5, 2));
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.json["HyperParameterTuningJobArn"],
            "arn:aws:sagemaker:us-east-1:000000000000:hyper-parameter-tuning-job/tune-a");
  // A second one of the same name, whatever its case, is refused.
  JsonTestResponse again =
      Call("CreateHyperParameterTuningJob", TuningRequest("tune-a", "Random", 5, 2));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.json.value("__type", ""), "ResourceInUse") << again.body;

  json done = WaitForTuning("Tune-A", {"Completed", "Failed", "Stopped"});
  ASSERT_EQ(done["HyperParameterTuningJobStatus"], "Completed") << done.dump(2);
  EXPECT_EQ(done["TrainingJobStatusCounters"]["Completed"], 5) << done.dump(2);
  EXPECT_EQ(done["TrainingJobStatusCounters"]["InProgress"], 0);
  EXPECT_EQ(done["ObjectiveStatusCounters"]["Succeeded"], 5);
  EXPECT_TRUE(done.contains("HyperParameterTuningEndTime"));
  EXPECT_EQ(done["HyperParameterTuningJobConfig"]["Strategy"], "Random");

  // Every training job: SageMaker's name, its tuned values, its objective; the best is least.
  JsonTestResponse listed =
      Call("ListTrainingJobsForHyperParameterTuningJob", {{"HyperParameterTuningJobName", "Tune-A"},
                                                          {"SortBy", "FinalObjectiveMetricValue"},
                                                          {"SortOrder", "Ascending"},
                                                          {"MaxResults", 100}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json& jobs = listed.json["TrainingJobSummaries"];
  ASSERT_EQ(jobs.size(), 5u) << listed.body;
  const std::regex name_pattern("Tune-A-00[1-5]-[0-9a-f]{8}");
  std::set<std::string> names;
  double previous = -1;
  for (const json& job : jobs) {
    const std::string name = job["TrainingJobName"];
    EXPECT_TRUE(std::regex_match(name, name_pattern)) << name;
    names.insert(name.substr(0, 10));
    EXPECT_EQ(job["TuningJobName"], "Tune-A");
    EXPECT_EQ(job["ObjectiveStatus"], "Succeeded");
    const json& tuned = job["TunedHyperParameters"];
    ASSERT_TRUE(tuned.contains("x") && tuned.contains("layers")) << job.dump();
    EXPECT_EQ(tuned.size(), 2u) << job.dump();  // the static ones are not tuned
    const double x = std::stod(tuned["x"].get<std::string>());
    const int layers = std::stoi(tuned["layers"].get<std::string>());
    EXPECT_GE(x, 0);
    EXPECT_LE(x, 1);
    EXPECT_TRUE(layers >= 1 && layers <= 3) << layers;
    const double value = job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"];
    EXPECT_NEAR(value, (x - 0.3) * (x - 0.3) + 0.01 * layers, 1e-5) << job.dump();
    EXPECT_EQ(job["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"], "val:loss");
    EXPECT_GE(value, previous);
    previous = value;
  }
  EXPECT_EQ(names.size(), 5u);  // 001 to 005, each once
  EXPECT_EQ(done["BestTrainingJob"]["TrainingJobName"], jobs[0]["TrainingJobName"]);
  EXPECT_EQ(done["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"],
            jobs[0]["FinalHyperParameterTuningJobObjectiveMetric"]);

  // A page of 2, then the rest.
  JsonTestResponse first = Call("ListTrainingJobsForHyperParameterTuningJob",
                                {{"HyperParameterTuningJobName", "Tune-A"}, {"MaxResults", 2}});
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(first.json["TrainingJobSummaries"].size(), 2u);
  ASSERT_TRUE(first.json.contains("NextToken"));
  JsonTestResponse rest =
      Call("ListTrainingJobsForHyperParameterTuningJob", {{"HyperParameterTuningJobName", "Tune-A"},
                                                          {"MaxResults", 10},
                                                          {"NextToken", first.json["NextToken"]}});
  EXPECT_EQ(rest.json["TrainingJobSummaries"].size(), 3u) << rest.body;

  // A training job is a training job: its definition, the static hyperparameters as given,
  // SageMaker's _tuning_objective_metric, its tuning job's ARN, its model in S3.
  const std::string best = jobs[0]["TrainingJobName"];
  json training = Describe(best);
  EXPECT_EQ(training["TrainingJobStatus"], "Completed");
  EXPECT_EQ(training["TuningJobArn"], created.json["HyperParameterTuningJobArn"]);
  EXPECT_EQ(training["HyperParameters"]["sagemaker_program"], "\"train.py\"");
  EXPECT_EQ(training["HyperParameters"]["_tuning_objective_metric"], "val:loss");
  EXPECT_EQ(training["HyperParameters"]["x"], jobs[0]["TunedHyperParameters"]["x"]);
  EXPECT_NE(StoreObject("s3/objects/models/tuning/" + best + "/output/model.tar.gz"), "<missing>");
  JsonTestResponse all =
      Call("ListTrainingJobs", {{"NameContains", "tune-a-"}, {"MaxResults", 100}});
  EXPECT_EQ(all.json["TrainingJobSummaries"].size(), 5u) << all.body;

  JsonTestResponse tunings = Call("ListHyperParameterTuningJobs", json::object());
  ASSERT_EQ(tunings.status, 200) << tunings.body;
  ASSERT_EQ(tunings.json["HyperParameterTuningJobSummaries"].size(), 1u);
  EXPECT_EQ(tunings.json["HyperParameterTuningJobSummaries"][0]["HyperParameterTuningJobStatus"],
            "Completed");
  EXPECT_EQ(tunings.json["HyperParameterTuningJobSummaries"][0]["Strategy"], "Random");

  // Stopping an ended tuning job is refused with its status.
  JsonTestResponse stop =
      Call("StopHyperParameterTuningJob", {{"HyperParameterTuningJobName", "Tune-A"}});
  EXPECT_EQ(stop.status, 400);
  EXPECT_NE(stop.json.value("message", "").find("in status Completed"), std::string::npos)
      << stop.body;

  // All of it is in the store: a restarted server shows the same.
  StopServer();
  StartServer();
  json after = DescribeTuning("tune-a");
  EXPECT_EQ(after["HyperParameterTuningJobStatus"], "Completed");
  EXPECT_EQ(after["BestTrainingJob"], done["BestTrainingJob"]);
  EXPECT_EQ(after["TrainingJobStatusCounters"], done["TrainingJobStatusCounters"]);
  EXPECT_EQ(after["HyperParameterTuningEndTime"], done["HyperParameterTuningEndTime"]);
}

TEST_F(SageMakerTuningTest, ABayesianTuningJobGoesOnAfterARestartAndStopsItsJobs) {
  PutTrainer();
  detach_jobs_ = true;  // its jobs run on across the restart, as the server's do
  StartServer();
  ASSERT_EQ(
      Call("CreateHyperParameterTuningJob", TuningRequest("bayes", "Bayesian", 6, 2, 30)).status,
      200);
  // Two jobs run (MaxParallelTrainingJobs), the others are not created yet.
  auto two_running = [&] {
    JsonTestResponse listed = Call("ListTrainingJobsForHyperParameterTuningJob",
                                   {{"HyperParameterTuningJobName", "bayes"}});
    int training = 0;
    for (const json& job : listed.json["TrainingJobSummaries"]) {
      if (Describe(job["TrainingJobName"])["SecondaryStatus"] == "Training") ++training;
    }
    return training == 2 && listed.json["TrainingJobSummaries"].size() == 2;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!two_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(two_running());
  json running = DescribeTuning("bayes");
  EXPECT_EQ(running["HyperParameterTuningJobStatus"], "InProgress");
  EXPECT_EQ(running["TrainingJobStatusCounters"]["InProgress"], 2);
  EXPECT_EQ(running["ObjectiveStatusCounters"]["Pending"], 2);
  EXPECT_FALSE(running.contains("BestTrainingJob"));

  // A restart: still in progress with the same two jobs, and it can be stopped; its jobs get
  // SIGTERM and end Stopped.
  StopServer();
  StartServer();
  json resumed = DescribeTuning("bayes");
  EXPECT_EQ(resumed["HyperParameterTuningJobStatus"], "InProgress");
  EXPECT_EQ(resumed["TrainingJobStatusCounters"]["InProgress"], 2) << resumed.dump(2);
  JsonTestResponse stop =
      Call("StopHyperParameterTuningJob", {{"HyperParameterTuningJobName", "bayes"}});
  ASSERT_EQ(stop.status, 200) << stop.body;
  json stopped = WaitForTuning("bayes", {"Stopped"}, 60s);
  EXPECT_EQ(stopped["TrainingJobStatusCounters"]["Stopped"], 2) << stopped.dump(2);
  EXPECT_EQ(stopped["TrainingJobStatusCounters"]["InProgress"], 0);
  EXPECT_EQ(stopped["ObjectiveStatusCounters"]["Failed"], 2);
  EXPECT_TRUE(stopped.contains("HyperParameterTuningEndTime"));
  // No more jobs after the stop.
  JsonTestResponse listed =
      Call("ListTrainingJobsForHyperParameterTuningJob",
           {{"HyperParameterTuningJobName", "bayes"}, {"StatusEquals", "Stopped"}});
  EXPECT_EQ(listed.json["TrainingJobSummaries"].size(), 2u) << listed.body;
  JsonTestResponse stopped_list =
      Call("ListHyperParameterTuningJobs", {{"StatusEquals", "Stopped"}, {"NameContains", "BAY"}});
  EXPECT_EQ(stopped_list.json["HyperParameterTuningJobSummaries"].size(), 1u) << stopped_list.body;
}

TEST_F(SageMakerTuningTest, BadTuningRequestsAreRefusedNamingTheField) {
  PutTrainer();
  StartServer();
  json bad_number = TuningRequest("bad", "Random", 4, 2);
  bad_number["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0]
            ["MinValue"] = "abc";
  EXPECT_NE(Refusal(bad_number).find("ParameterRanges.ContinuousParameterRanges.1.MinValue"),
            std::string::npos);

  json bad_log = TuningRequest("bad", "Random", 4, 2);
  bad_log["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"][0]
         ["ScalingType"] = "Logarithmic";
  std::string message = Refusal(bad_log);
  EXPECT_NE(message.find("ContinuousParameterRanges.1 ('x')"), std::string::npos) << message;
  EXPECT_NE(message.find("logarithmic scaling needs min > 0"), std::string::npos) << message;

  json reversed = TuningRequest("bad", "Random", 4, 2);
  reversed["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0]
          ["MinValue"] = "5";
  message = Refusal(reversed);
  EXPECT_NE(message.find("IntegerParameterRanges.1 ('layers')"), std::string::npos) << message;

  json no_metric = TuningRequest("bad", "Bayesian", 4, 2);
  no_metric["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] =
      "accuracy";
  EXPECT_NE(Refusal(no_metric).find("HyperParameterTuningJobObjective.MetricName"),
            std::string::npos);

  json no_max = TuningRequest("bad", "Bayesian", 4, 2);
  no_max["HyperParameterTuningJobConfig"]["ResourceLimits"].erase("MaxNumberOfTrainingJobs");
  EXPECT_NE(Refusal(no_max).find("ResourceLimits.MaxNumberOfTrainingJobs is required"),
            std::string::npos);

  json grid = TuningRequest("bad", "Grid", 4, 2);
  EXPECT_NE(Refusal(grid).find("The Grid strategy takes CategoricalParameterRanges only"),
            std::string::npos);

  json both = TuningRequest("bad", "Random", 4, 2);
  both["TrainingJobDefinition"]["StaticHyperParameters"]["x"] = "0.5";
  EXPECT_NE(Refusal(both).find("'x' is both a static hyperparameter"), std::string::npos);

  json too_parallel = TuningRequest("bad", "Random", 4, 5);
  EXPECT_NE(Refusal(too_parallel).find("MaxParallelTrainingJobs (5)"), std::string::npos);

  json hyperband = TuningRequest("bad", "Hyperband", 4, 2);
  EXPECT_NE(Refusal(hyperband).find("HyperbandStrategyConfig.MaxResource is required"),
            std::string::npos);

  json strategy = TuningRequest("bad", "Genetic", 4, 2);
  message = Refusal(strategy);
  EXPECT_NE(message.find("hyperParameterTuningJobConfig.strategy"), std::string::npos) << message;

  json missing_bucket = TuningRequest("bad", "Random", 4, 2);
  missing_bucket["TrainingJobDefinition"]["OutputDataConfig"]["S3OutputPath"] = "s3://nowhere/x";
  EXPECT_NE(Refusal(missing_bucket).find("\"nowhere\""), std::string::npos);

  // Nothing was created by any of them.
  JsonTestResponse listed = Call("ListHyperParameterTuningJobs", json::object());
  EXPECT_TRUE(listed.json["HyperParameterTuningJobSummaries"].empty()) << listed.body;
  JsonTestResponse unknown =
      Call("DescribeHyperParameterTuningJob", {{"HyperParameterTuningJobName", "nope"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.json.value("__type", ""), "ResourceNotFound") << unknown.body;
  EXPECT_EQ(unknown.json.value("message", ""),
            "Amazon SageMaker can't find a tuning job with name nope");
}

// Grid runs every combination of its categorical ranges (no MaxNumberOfTrainingJobs needed);
// Hyperband gives each job its rung's epochs (inferred from the static "epochs" as MaxResource)
// in the hyperparameter SageMaker names, instead of the static value.
TEST_F(SageMakerTuningTest, GridRunsEveryCombinationAndHyperbandGivesEachJobItsEpochs) {
  PutTrainer();
  StartServer();
  json grid = TuningRequest("grid", "Grid", 6, 2);
  json& config = grid["HyperParameterTuningJobConfig"];
  config["ResourceLimits"].erase("MaxNumberOfTrainingJobs");
  config["ParameterRanges"] = {{"CategoricalParameterRanges",
                                {{{"Name", "x"}, {"Values", {"0.1", "0.3", "0.5"}}},
                                 {{"Name", "layers"}, {"Values", {"1", "2"}}}}}};
  JsonTestResponse created = Call("CreateHyperParameterTuningJob", grid);
  ASSERT_EQ(created.status, 200) << created.body;

  json hyperband = TuningRequest("band", "Hyperband", 6, 2);
  hyperband["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "9";
  hyperband["HyperParameterTuningJobConfig"]["StrategyConfig"] = {
      {"HyperbandStrategyConfig", {{"MinResource", 1}}}};
  hyperband["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Auto";
  created = Call("CreateHyperParameterTuningJob", hyperband);
  ASSERT_EQ(created.status, 200) << created.body;

  json grid_done = WaitForTuning("grid", {"Completed", "Failed", "Stopped"});
  EXPECT_EQ(grid_done["HyperParameterTuningJobStatus"], "Completed") << grid_done.dump(2);
  EXPECT_EQ(grid_done["TrainingJobStatusCounters"]["Completed"], 6);
  EXPECT_EQ(grid_done["BestTrainingJob"]["TunedHyperParameters"],
            json({{"layers", "1"}, {"x", "0.3"}}));
  JsonTestResponse grid_jobs =
      Call("ListTrainingJobsForHyperParameterTuningJob", {{"HyperParameterTuningJobName", "grid"}});
  std::set<std::string> combinations;
  for (const json& job : grid_jobs.json["TrainingJobSummaries"]) {
    combinations.insert(job["TunedHyperParameters"].dump());
  }
  EXPECT_EQ(combinations.size(), 6u) << grid_jobs.body;

  json band_done = WaitForTuning("band", {"Completed", "Failed", "Stopped"}, 120s);
  EXPECT_EQ(band_done["HyperParameterTuningJobStatus"], "Completed") << band_done.dump(2);
  JsonTestResponse band_jobs =
      Call("ListTrainingJobsForHyperParameterTuningJob", {{"HyperParameterTuningJobName", "band"}});
  ASSERT_FALSE(band_jobs.json["TrainingJobSummaries"].empty()) << band_jobs.body;
  for (const json& job : band_jobs.json["TrainingJobSummaries"]) {
    const json& tuned = job["TunedHyperParameters"];
    ASSERT_TRUE(tuned.contains("epochs")) << job.dump();
    const std::string epochs = tuned["epochs"];
    EXPECT_TRUE(epochs == "1" || epochs == "3" || epochs == "9") << epochs;
    EXPECT_EQ(Describe(job["TrainingJobName"])["HyperParameters"]["epochs"], epochs);
  }
}

// WarmStartConfig IdenticalDataAndAlgorithm: a child starts from its ended parents' results
// (its own MaxNumberOfTrainingJobs apart from theirs); a parent that has not ended, or one with
// another objective or data, is refused naming it, as is TransferLearning.
TEST_F(SageMakerTuningTest, AWarmStartBuildsOnItsEndedParents) {
  PutTrainer();
  StartServer();
  ASSERT_EQ(Call("CreateHyperParameterTuningJob", TuningRequest("parent", "Random", 3, 3)).status,
            200);
  json child = TuningRequest("child", "Bayesian", 2, 1);
  child["WarmStartConfig"] = {
      {"ParentHyperParameterTuningJobs", {{{"HyperParameterTuningJobName", "parent"}}}},
      {"WarmStartType", "IdenticalDataAndAlgorithm"}};
  std::string message = Refusal(child);
  EXPECT_NE(message.find("the parent tuning job 'parent' has not ended"), std::string::npos)
      << message;
  WaitForTuning("parent", {"Completed"});

  json other_objective = child;
  other_objective["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["Type"] =
      "Maximize";
  EXPECT_NE(Refusal(other_objective).find("another HyperParameterTuningJobObjective"),
            std::string::npos);
  json other_data = child;
  other_data["TrainingJobDefinition"]["InputDataConfig"][0]["ChannelName"] = "train";
  EXPECT_NE(Refusal(other_data).find("other TrainingJobDefinition.InputDataConfig"),
            std::string::npos);
  json transfer = child;
  transfer["WarmStartConfig"]["WarmStartType"] = "TransferLearning";
  EXPECT_NE(Refusal(transfer).find("TransferLearning is not supported"), std::string::npos);
  json unknown = child;
  unknown["WarmStartConfig"]["ParentHyperParameterTuningJobs"][0]["HyperParameterTuningJobName"] =
      "nobody";
  EXPECT_NE(Refusal(unknown).find("'nobody' does not exist"), std::string::npos);

  JsonTestResponse created = Call("CreateHyperParameterTuningJob", child);
  ASSERT_EQ(created.status, 200) << created.body;
  json done = WaitForTuning("child", {"Completed", "Failed", "Stopped"});
  EXPECT_EQ(done["HyperParameterTuningJobStatus"], "Completed") << done.dump(2);
  EXPECT_EQ(done["TrainingJobStatusCounters"]["Completed"], 2);  // its own jobs only
  EXPECT_EQ(done["WarmStartConfig"], child["WarmStartConfig"]);
  // OverallBestTrainingJob: the best of the child's own and its parent's (Minimize; the child's
  // of equals).
  json parent = DescribeTuning("parent");
  ASSERT_TRUE(parent.contains("BestTrainingJob")) << parent.dump(2);
  ASSERT_TRUE(done.contains("BestTrainingJob")) << done.dump(2);
  ASSERT_TRUE(done.contains("OverallBestTrainingJob")) << done.dump(2);
  EXPECT_FALSE(parent.contains("OverallBestTrainingJob"));  // no warm start: SageMaker omits it
  auto value = [](const json& summary) {
    return summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"].get<double>();
  };
  const json& overall = done["OverallBestTrainingJob"];
  EXPECT_EQ(value(overall),
            std::min(value(done["BestTrainingJob"]), value(parent["BestTrainingJob"])));
  EXPECT_EQ(overall["TuningJobName"],
            value(parent["BestTrainingJob"]) < value(done["BestTrainingJob"]) ? "parent" : "child");
  // The parents' results are the search's first trials: kept with the child's sweep.
  auto sweeps = metadata_->ListSweeps();
  ASSERT_TRUE(sweeps.ok());
  size_t priors = 0;
  for (const metadata::SweepRecord& sweep : *sweeps) {
    if (sweep.name == "child") priors = sweep.spec.value("prior_trials", json::array()).size();
  }
  EXPECT_EQ(priors, 3u);
}

// RandomSeed (newer than the endpoint's botocore model, sent by newer SDKs) makes the search
// reproducible: the same seed, the same trials.
TEST_F(SageMakerTuningTest, ARandomSeedGivesTheSameTrials) {
  PutTrainer();
  StartServer(2);
  auto tuned_values = [&](const std::string& name, const json& seed) {
    json request = TuningRequest(name, "Random", 4, 1, 30);
    request["HyperParameterTuningJobConfig"]["RandomSeed"] = seed;
    JsonTestResponse created = Call("CreateHyperParameterTuningJob", request);
    EXPECT_EQ(created.status, 200) << created.body;
    JsonTestResponse listed =
        Call("ListTrainingJobsForHyperParameterTuningJob", {{"HyperParameterTuningJobName", name}});
    std::vector<std::pair<std::string, json>> values;
    for (const json& job : listed.json["TrainingJobSummaries"]) {
      // Random search queues all its jobs at once; by name is by index.
      values.emplace_back(job["TrainingJobName"].get<std::string>().substr(name.size(), 4),
                          job["TunedHyperParameters"]);
    }
    Call("StopHyperParameterTuningJob", {{"HyperParameterTuningJobName", name}});
    return values;
  };
  auto first = tuned_values("seeded-a", 42);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(tuned_values("seeded-b", 42), first);
  EXPECT_NE(tuned_values("seeded-c", 43), first);
  json negative = TuningRequest("seeded-d", "Random", 4, 1);
  negative["HyperParameterTuningJobConfig"]["RandomSeed"] = -1;
  EXPECT_NE(Refusal(negative).find("'hyperParameterTuningJobConfig.randomSeed'"),
            std::string::npos);
}

// boto3 tuning code written for AWS (tests/sagemaker_tuning_check.py) runs here unchanged.
TEST_F(SageMakerTuningTest, Boto3TunesAsOnSageMaker) {
  const char* chosen = std::getenv("TRAINYARD_TEST_PYTHON");
  const std::string python = chosen ? chosen : "/usr/bin/python3";
  auto probe = trainyard::testing::RunProcess({python, "-c", "import boto3"}, {}, 30s);
  if (probe.exit_code != 0) {
    GTEST_SKIP() << python << " cannot import boto3 (Debian's python3-boto3): " << probe.output;
  }
  PutTrainer();
  StartServer();
  auto result = trainyard::testing::RunProcess(
      {python, (trainyard::testing::SourceDir() / "tests" / "sagemaker_tuning_check.py").string(),
       client_->endpoint(), "us-east-1", kKeyId, kSecret, "s3://data/train/", "s3://models/tuning/",
       "s3://code/tune/sourcedir.tar.gz", "boto-tune"},
      {{"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}, 240s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("sagemaker tuning check: OK"), std::string::npos) << result.output;
  std::cout << result.output;  // what was checked
}

// `aws sagemaker create-hyper-parameter-tuning-job` with its JSON files, then describe (as a
// script polls it) and list its training jobs; a bad range is refused naming the field.
TEST_F(SageMakerTuningTest, AwsCliCreatesAndDescribesATuningJob) {
  const std::filesystem::path aws = "/usr/bin/aws";
  if (!std::filesystem::exists(aws))
    GTEST_SKIP() << "Debian's awscli is not installed (" << aws << ")";
  PutTrainer();
  StartServer();
  json request = TuningRequest("cli-tune", "Random", 3, 3);
  std::ofstream(temp_.path() / "config.json") << request["HyperParameterTuningJobConfig"].dump();
  std::ofstream(temp_.path() / "definition.json") << request["TrainingJobDefinition"].dump();
  json bad = request["HyperParameterTuningJobConfig"];
  bad["ParameterRanges"]["ContinuousParameterRanges"][0]["MaxValue"] = "-1";
  std::ofstream(temp_.path() / "bad.json") << bad.dump();
  const std::map<std::string, std::string> environment = {
      {"AWS_ACCESS_KEY_ID", kKeyId},
      {"AWS_SECRET_ACCESS_KEY", kSecret},
      {"AWS_DEFAULT_REGION", "us-east-1"},
      {"AWS_CONFIG_FILE", "/dev/null"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
      {"HOME", temp_.path().string()}};
  auto run = [&](std::vector<std::string> arguments) {
    std::vector<std::string> argv = {aws.string(),     "--endpoint-url", client_->endpoint(),
                                     "--no-cli-pager", "--output",       "json",
                                     "sagemaker"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return trainyard::testing::RunProcess(argv, environment, 60s);
  };
  auto created = run(
      {"create-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli-tune",
       "--hyper-parameter-tuning-job-config", "file://" + (temp_.path() / "config.json").string(),
       "--training-job-definition", "file://" + (temp_.path() / "definition.json").string()});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("hyper-parameter-tuning-job/cli-tune"), std::string::npos)
      << created.output;

  json described;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto result = run(
        {"describe-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli-tune"});
    ASSERT_EQ(result.exit_code, 0) << result.output;
    described = json::parse(result.output);
    if (described["HyperParameterTuningJobStatus"] != "InProgress") break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(described["HyperParameterTuningJobStatus"], "Completed") << described.dump(2);
  EXPECT_EQ(described["TrainingJobStatusCounters"]["Completed"], 3);
  ASSERT_TRUE(described.contains("BestTrainingJob")) << described.dump(2);

  auto listed =
      run({"list-training-jobs-for-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name",
           "cli-tune", "--sort-by", "FinalObjectiveMetricValue"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  json jobs = json::parse(listed.output)["TrainingJobSummaries"];
  ASSERT_EQ(jobs.size(), 3u) << listed.output;
  EXPECT_EQ(jobs[0]["TrainingJobName"], described["BestTrainingJob"]["TrainingJobName"]);

  auto refused =
      run({"create-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli-bad",
           "--hyper-parameter-tuning-job-config", "file://" + (temp_.path() / "bad.json").string(),
           "--training-job-definition", "file://" + (temp_.path() / "definition.json").string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("ValidationException"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("ContinuousParameterRanges.1 ('x')"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace trainyard::server
