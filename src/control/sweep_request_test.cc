#include "control/sweep_request.h"

#include <gtest/gtest.h>

namespace trainyard::control {
namespace {

using nlohmann::json;

json ValidBody() {
  return json::parse(R"json({
    "name": "digits",
    "trainer": {"command": ["trainyard-example-trainer", "--quiet"]},
    "channels": {"training": "ds-0123456789abcdef", "evaluation": "ds-fedcba9876543210"},
    "hyperparameters": {"iterations": 300},
    "grid": {"learning_rate": [0.01, 0.02], "batch_size": [32, 64]},
    "max_parallel": 2,
    "max_runtime_seconds": 600,
    "environment": {"FOO": "bar"},
    "resources": {"instance_type": "ml.m5.large", "instance_count": 1, "volume_size_gb": 5},
    "metric_definitions": [{"name": "loss", "regex": "loss=([0-9.]+)"}],
    "objective": {"metric": "eval_accuracy", "goal": "max"},
    "idempotency_key": "k-1"
  })json");
}

std::string FieldOf(const json& body) {
  auto parsed = ParseSweepRequest(body);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : FieldOfError(parsed.status());
}

TEST(SweepRequestTest, ParsesEveryField) {
  auto request = ParseSweepRequest(ValidBody());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "digits");
  EXPECT_EQ(request->command, (std::vector<std::string>{"trainyard-example-trainer", "--quiet"}));
  EXPECT_EQ(request->executor, "local");
  EXPECT_EQ(request->channels.at("training"), ChannelSource(DatasetChannel{"ds-0123456789abcdef"}));
  EXPECT_EQ(request->sweep.fixed.at("iterations"), "300");
  ASSERT_EQ(request->sweep.grid.size(), 2u);
  EXPECT_EQ(request->max_parallel, 2);
  EXPECT_EQ(request->max_runtime_seconds, 600);
  EXPECT_EQ(request->environment.at("FOO"), "bar");
  EXPECT_EQ(request->resources.instance_type, "ml.m5.large");
  EXPECT_EQ(request->resources.volume_size_gb, 5);
  ASSERT_EQ(request->metric_definitions.size(), 1u);
  ASSERT_TRUE(request->objective.has_value());
  EXPECT_EQ(*request->objective, (core::Objective{"eval_accuracy", core::ObjectiveGoal::kMax}));
  EXPECT_EQ(request->idempotency_key, "k-1");
}

TEST(SweepRequestTest, CanonicalJsonReadsBackToTheSameRequest) {
  auto request = ParseSweepRequest(ValidBody());
  ASSERT_TRUE(request.ok());
  json canonical = ToJson(*request);
  auto again = ParseSweepRequest(canonical);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), canonical);
  EXPECT_EQ(again->sweep.grid, request->sweep.grid);
}

TEST(SweepRequestTest, CombinationsAndNoGridAreOneJobEach) {
  json body = ValidBody();
  body.erase("grid");
  auto single = ParseSweepRequest(body);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(single->sweep.combinations.size(), 1u);
  body["combinations"] = json::parse(R"([{"learning_rate": 0.1}, {"learning_rate": 0.2}])");
  auto listed = ParseSweepRequest(body);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->sweep.combinations.size(), 2u);
}

TEST(SweepRequestTest, ErrorsNameTheField) {
  json body = ValidBody();
  body["colour"] = "blue";
  EXPECT_EQ(FieldOf(body), "colour");

  body = ValidBody();
  body.erase("name");
  EXPECT_EQ(FieldOf(body), "name");
  body["name"] = "my sweep";
  EXPECT_EQ(FieldOf(body), "name");

  body = ValidBody();
  body["trainer"] = {{"command", json::array()}};
  EXPECT_EQ(FieldOf(body), "trainer.command");
  body["trainer"] = {{"command", {"a"}}, {"image", "b"}};
  EXPECT_EQ(FieldOf(body), "trainer");

  body = ValidBody();
  body["channels"] = {{"bad/name", "ds-0123456789abcdef"}};
  EXPECT_EQ(FieldOf(body), "channels.bad/name");
  body["channels"] = {{"training", "../../etc/passwd"}};
  EXPECT_EQ(FieldOf(body), "channels.training");

  body = ValidBody();
  body["grid"]["learning_rate"] = json::array();
  EXPECT_EQ(FieldOf(body), "grid.learning_rate");

  body = ValidBody();
  body["combinations"] = json::array({json::object()});
  EXPECT_FALSE(ParseSweepRequest(body).ok());  // grid and combinations both

  body = ValidBody();
  body["max_parallel"] = "2";
  EXPECT_EQ(FieldOf(body), "max_parallel");
  body = ValidBody();
  body["max_runtime_seconds"] = 0;
  EXPECT_EQ(FieldOf(body), "max_runtime_seconds");
  body = ValidBody();
  body["environment"] = {{"TRAINYARD_JOB_TOKEN", "x"}};
  EXPECT_EQ(FieldOf(body), "environment.TRAINYARD_JOB_TOKEN");
  body = ValidBody();
  body["metric_definitions"] = json::parse(R"([{"name": "loss", "regex": "loss=[0-9.]+"}])");
  EXPECT_EQ(FieldOf(body), "metric_definitions[0].regex");
  body = ValidBody();
  body["objective"] = {{"metric", "loss"}, {"goal", "lowest"}};
  EXPECT_EQ(FieldOf(body), "objective.goal");
}

TEST(SweepRequestTest, ASweepsSlurmUserIsKeptAndChecked) {
  json body = ValidBody();
  body["slurm"] = {{"user", "alice.b_2"}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->slurm_user, "alice.b_2");
  auto again = ParseSweepRequest(ToJson(*request));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->slurm_user, "alice.b_2");
  EXPECT_FALSE(ToJson(*ParseSweepRequest(ValidBody())).contains("slurm"));

  for (const json& user : {json(""), json(7), json("-rf"), json("a b"), json("x\r\nX-Evil: 1"),
                           json(std::string(65, 'a'))}) {
    body["slurm"] = {{"user", user}};
    EXPECT_EQ(FieldOf(body), "slurm.user") << user.dump();
  }
  body["slurm"] = {{"uid", "alice"}};
  EXPECT_EQ(FieldOf(body), "slurm.uid");
  body["slurm"] = "alice";
  EXPECT_EQ(FieldOf(body), "slurm");
}

TEST(SweepRequestTest, TheOneTrainyardVariableAJobMaySetIsKeepArchives) {
  json body = ValidBody();
  body["environment"] = {{"TRAINYARD_KEEP_ARCHIVES", "pretrained"}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->environment.at("TRAINYARD_KEEP_ARCHIVES"), "pretrained");
  body["environment"] = {{"TRAINYARD_KEEP_ARCHIVES_TOO", "x"}};
  EXPECT_EQ(FieldOf(body), "environment.TRAINYARD_KEEP_ARCHIVES_TOO");
}

TEST(SweepRequestTest, ChannelsAreOptional) {
  // SageMaker's InputDataConfig is optional: code that makes its own data needs no channel.
  json body = ValidBody();
  body.erase("channels");
  auto without = ParseSweepRequest(body);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_TRUE(without->channels.empty());
  EXPECT_EQ(ToJson(*without)["channels"], json::object());
  // The canonical form, {} included, reads back.
  auto again = ParseSweepRequest(ToJson(*without));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->channels.empty());
  // A list that is given still holds at most 20.
  for (int i = 0; i < 21; ++i) body["channels"]["c" + std::to_string(i)] = "ds-0123456789abcdef";
  EXPECT_EQ(FieldOf(body), "channels");
}

TEST(SweepRequestTest, AnObjectiveWithoutGoalFollowsTheSharedRule) {
  json body = ValidBody();
  body["objective"] = {{"metric", "eval_loss"}};
  auto loss = ParseSweepRequest(body);
  ASSERT_TRUE(loss.ok()) << loss.status().ToString();
  EXPECT_EQ(*loss->objective, (core::Objective{"eval_loss", core::ObjectiveGoal::kMin}));
  EXPECT_EQ(ToJson(*loss)["objective"], json({{"metric", "eval_loss"}, {"goal", "min"}}));

  body["objective"] = {{"metric", "eval_accuracy"}};
  auto refused = ParseSweepRequest(body);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "field 'objective.goal': metric 'eval_accuracy' needs a goal, min or max (only a loss "
            "or an error is minimized without one)");
  body["objective"] = {{"metric", "loss"}, {"goal", "lowest"}};
  EXPECT_EQ(ParseSweepRequest(body).status().message(),
            "field 'objective.goal': goal 'lowest': must be min or max");
  body["objective"] = {{"metric", "loss"}, {"goal", 1}};
  EXPECT_EQ(FieldOf(body), "objective.goal");
}

TEST(SweepRequestTest, TooManyJobsIsRefusedBeforeAnythingIsBuilt) {
  json body = ValidBody();
  json values = json::array();
  for (int i = 0; i < 101; ++i) values.push_back(i);
  body["grid"] = {{"a", values}, {"b", values}};  // 10,201 jobs
  EXPECT_EQ(FieldOf(body), "grid");
}

TEST(SweepRequestTest, ACallersJobNameAndLiteralHyperparametersMakeOneJobAsGiven) {
  json body = {{"name", "sm"},
               {"trainer", {{"command", {"train"}}}},
               {"job_name", "My-Job-1"},
               {"literal_hyperparameters", {{"lr", "0.10"}, {"layers", "[64, 32]"}}}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->job_name, "My-Job-1");
  EXPECT_TRUE(request->literal_hyperparameters);
  // Exactly as given: no JSON decoding ("0.10" stays "0.10") and no grid.
  EXPECT_EQ(request->sweep.fixed.at("lr"), "0.10");
  EXPECT_EQ(request->sweep.fixed.at("layers"), "[64, 32]");
  auto again = ParseSweepRequest(ToJson(*request));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->sweep.fixed, request->sweep.fixed);
  EXPECT_EQ(again->job_name, "My-Job-1");
  EXPECT_EQ(ToJson(*again), ToJson(*request));

  json grid = body;
  grid["grid"] = {{"lr", {0.1, 0.2}}};
  EXPECT_EQ(FieldOf(grid), "literal_hyperparameters");
  json numbers = body;
  numbers["literal_hyperparameters"] = {{"lr", 0.1}};
  EXPECT_EQ(FieldOf(numbers), "literal_hyperparameters.lr");
  json two_jobs = {{"name", "sm"},
                   {"trainer", {{"command", {"train"}}}},
                   {"job_name", "one"},
                   {"grid", {{"lr", {0.1, 0.2}}}}};
  auto refused = ParseSweepRequest(two_jobs);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "field 'job_name': names the one job of a sweep, and this sweep has 2 jobs");
  json bad_name = body;
  bad_name["job_name"] = "no_underscores";
  EXPECT_EQ(FieldOf(bad_name), "job_name");
}

TEST(SweepRequestTest, FieldsOfStoredRequestsAreRefusedFromClients) {
  json body = ValidBody();
  body["channels"] = {{"training", {{"object_prefix", "s3/objects/b/data/train"}}}};
  body["output_root"] = "s3/objects/b/models/";
  body["files_root"] = "sagemaker/training-jobs/";
  body["client_request"] = {{"TrainingJobName", "x"}};

  for (const char* field : {"output_root", "files_root", "client_request"}) {
    json client = ValidBody();
    client[field] = body[field];
    auto refused = ParseSweepRequest(client);
    ASSERT_FALSE(refused.ok()) << field;
    EXPECT_EQ(refused.status().message(), "field '" + std::string(field) + "': unknown field");
  }
  json client = ValidBody();
  client["channels"] = body["channels"];
  auto refused = ParseSweepRequest(client);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "field 'channels.training': must be a string: a dataset id (ds-<16 hex>)");

  auto stored = ParseSweepRequest(body, SweepRequestOrigin::kStored);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->channels.at("training"),
            ChannelSource(ObjectPrefixChannel{"s3/objects/b/data/train"}));
  EXPECT_EQ(stored->output_root, "s3/objects/b/models/");
  EXPECT_EQ(stored->files_root, "sagemaker/training-jobs/");
  EXPECT_EQ(stored->client_request["TrainingJobName"], "x");
  json canonical = ToJson(*stored);
  auto again = ParseSweepRequest(canonical, SweepRequestOrigin::kStored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ToJson(*again), canonical);

  body["channels"]["training"] = {{"object_prefix", ""}};
  auto empty = ParseSweepRequest(body, SweepRequestOrigin::kStored);
  EXPECT_EQ(FieldOfError(empty.status()), "channels.training.object_prefix");
  // A client's request leaves the defaults out of its canonical form, so that it reads back
  // as a client's.
  auto plain = ParseSweepRequest(ValidBody());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(ParseSweepRequest(ToJson(*plain)).ok());
}

}  // namespace
}  // namespace trainyard::control

namespace trainyard::control {
namespace {

json SearchBody() {
  return json::parse(R"json({
    "name": "digits",
    "trainer": {"command": ["trainyard-example-trainer"]},
    "hyperparameters": {"iterations": 100},
    "strategy": "bayesian",
    "ranges": {
      "learning_rate": {"type": "continuous", "min": 1e-5, "max": 0.1, "scaling": "logarithmic"},
      "momentum": {"type": "continuous", "min": 0.9, "max": 0.999,
                   "scaling": "reverse_logarithmic"},
      "layers": {"type": "integer", "min": 1, "max": 8},
      "optimizer": {"type": "categorical", "values": ["adam", "sgd", 3]}
    },
    "max_jobs": 30,
    "max_parallel": 3,
    "random_seed": 7,
    "objective": {"metric": "eval_accuracy", "goal": "max"}
  })json");
}

std::string ErrorOf(const json& body) {
  auto parsed = ParseSweepRequest(body);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(SearchRequestTest, ParsesTheStrategyAndTypedRangesAndWritesThemBack) {
  auto request = ParseSweepRequest(SearchBody());
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  const core::SearchSpec& search = request->search;
  EXPECT_EQ(search.strategy, core::SearchStrategy::kBayesian);
  EXPECT_EQ(search.max_jobs, 30);
  EXPECT_EQ(search.random_seed, 7u);
  ASSERT_EQ(search.ranges.size(), 4u);
  // In key order, as the stored JSON gives them back.
  EXPECT_EQ(search.ranges[0].name, "layers");
  EXPECT_EQ(search.ranges[0].type, core::ParameterType::kInteger);
  EXPECT_EQ(search.ranges[1].name, "learning_rate");
  EXPECT_EQ(search.ranges[1].scaling, core::ParameterScaling::kLogarithmic);
  EXPECT_EQ(search.ranges[2].scaling, core::ParameterScaling::kReverseLogarithmic);
  EXPECT_EQ(search.ranges[3].values, (std::vector<std::string>{"adam", "sgd", "3"}));
  EXPECT_EQ(request->sweep.fixed.at("iterations"), "100");

  const json stored = ToJson(*request);
  EXPECT_EQ(stored["strategy"], "bayesian");
  EXPECT_FALSE(stored.contains("combinations"));
  EXPECT_EQ(stored["ranges"]["optimizer"]["values"], json::parse(R"(["adam", "sgd", 3])"));
  EXPECT_EQ(stored["ranges"]["layers"]["scaling"], "auto");
  auto again = ParseSweepRequest(stored, SweepRequestOrigin::kStored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->search, request->search);
  EXPECT_EQ(ToJson(*again), stored);
}

TEST(SearchRequestTest, HyperbandTakesItsResourceAndAGridStaysAsItWas) {
  json body = SearchBody();
  body["strategy"] = "hyperband";
  body["hyperband"] = {{"resource", "epochs"}, {"max_resource", 27}};
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ASSERT_TRUE(request->search.hyperband.has_value());
  EXPECT_EQ(request->search.hyperband->resource, "epochs");
  EXPECT_EQ(request->search.hyperband->min_resource, 1);
  EXPECT_EQ(request->search.hyperband->eta, 3);
  EXPECT_EQ(ToJson(*request)["hyperband"],
            json::parse(R"({"resource": "epochs", "min_resource": 1, "max_resource": 27,
                            "eta": 3})"));

  // A grid sweep, with or without "strategy": "grid", is today's and writes no search fields.
  json grid = ValidBody();
  grid["strategy"] = "grid";
  auto parsed = ParseSweepRequest(grid);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->search, core::SearchSpec());
  EXPECT_EQ(ToJson(*parsed), ToJson(*ParseSweepRequest(ValidBody())));
}

TEST(SearchRequestTest, EarlyStoppingIsForEveryStrategyAndNeedsTheObjective) {
  json body = SearchBody();
  body["early_stopping"] = "auto";
  auto request = ParseSweepRequest(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->search.early_stopping, core::EarlyStopping::kAuto);
  EXPECT_EQ(ToJson(*request)["early_stopping"], "auto");

  // A grid sweep takes it too, and keeps it when stored.
  json grid = ValidBody();
  grid["objective"] = {{"metric", "accuracy"}, {"goal", "max"}};
  grid["early_stopping"] = "Auto";  // SageMaker's spelling
  auto parsed = ParseSweepRequest(grid);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->search.strategy, core::SearchStrategy::kGrid);
  EXPECT_EQ(parsed->search.early_stopping, core::EarlyStopping::kAuto);
  auto again = ParseSweepRequest(ToJson(*parsed), SweepRequestOrigin::kStored);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->search.early_stopping, core::EarlyStopping::kAuto);
  // off is the default and is not written.
  grid["early_stopping"] = "off";
  EXPECT_FALSE(ToJson(*ParseSweepRequest(grid)).contains("early_stopping"));

  grid["early_stopping"] = "median";
  EXPECT_EQ(ErrorOf(grid),
            "field 'early_stopping': 'median' is not an early stopping mode (off, auto)");
  grid["early_stopping"] = true;
  EXPECT_EQ(ErrorOf(grid), "field 'early_stopping': must be a string");
  grid["early_stopping"] = "auto";
  grid.erase("objective");
  EXPECT_EQ(ErrorOf(grid),
            "field 'early_stopping': auto needs an objective: the metric whose intermediate "
            "values it judges");
}

TEST(SearchRequestTest, RefusesInvalidStrategiesAndRangesNamingTheField) {
  const auto with = [](const std::string& pointer, const json& value) {
    json body = SearchBody();
    body[json::json_pointer(pointer)] = value;
    return body;
  };
  const auto without = [](const std::string& key) {
    json body = SearchBody();
    body.erase(key);
    return body;
  };
  EXPECT_EQ(ErrorOf(with("/strategy", "genetic")),
            "field 'strategy': 'genetic' is not a strategy (grid, random, bayesian, hyperband)");
  EXPECT_EQ(ErrorOf(with("/ranges/learning_rate/scaling", "log")),
            "field 'ranges.learning_rate.scaling': 'log' is not a scaling (auto, linear, "
            "logarithmic, reverse_logarithmic)");
  EXPECT_EQ(ErrorOf(with("/ranges/learning_rate/min", 0)),
            "field 'ranges.learning_rate': logarithmic scaling needs min > 0, not 0");
  EXPECT_EQ(ErrorOf(with("/ranges/layers/max", 0)), "field 'ranges.layers': min 1 is above max 0");
  EXPECT_EQ(ErrorOf(with("/ranges/layers/min", 1.5)),
            "field 'ranges.layers': an integer range's min and max must be whole numbers");
  EXPECT_EQ(ErrorOf(with("/ranges/momentum/max", 1)),
            "field 'ranges.momentum': reverse_logarithmic scaling needs 0 <= min < max < 1");
  EXPECT_EQ(ErrorOf(with("/ranges/layers/type", "float")),
            "field 'ranges.layers.type': 'float' is not a parameter type (continuous, integer, "
            "categorical)");
  EXPECT_EQ(ErrorOf(with("/ranges/layers/values", {1, 2})),
            "field 'ranges.layers.values': is for categorical ranges; give min and max");
  EXPECT_EQ(ErrorOf(with("/ranges/optimizer/values", json::array())),
            "field 'ranges.optimizer': a categorical range needs values");
  EXPECT_EQ(ErrorOf(with("/ranges/iterations", {{"type", "integer"}, {"min", 1}, {"max", 9}})),
            "field 'ranges.iterations': 'iterations' is also a fixed hyperparameter; give it one "
            "way");
  EXPECT_EQ(ErrorOf(with("/ranges", json::object())),
            "field 'ranges': strategy bayesian needs ranges: an object of parameter names to "
            "ranges");
  EXPECT_EQ(ErrorOf(without("max_jobs")),
            "field 'max_jobs': is required by strategy bayesian: the most jobs the search starts");
  EXPECT_EQ(ErrorOf(with("/max_jobs", 0)), "field 'max_jobs': must be between 1 and 10000, not 0");
  EXPECT_EQ(ErrorOf(with("/random_seed", -1)),
            "field 'random_seed': must be a non-negative integer");
  EXPECT_EQ(ErrorOf(without("objective")),
            "field 'objective': is required by strategy bayesian: the metric it learns from");
  EXPECT_EQ(ErrorOf(with("/grid", {{"lr", {0.1}}})),
            "field 'grid': is not for strategy bayesian, which takes ranges (docs/search.md)");
  EXPECT_EQ(ErrorOf(with("/hyperband", {{"resource", "epochs"}, {"max_resource", 9}})),
            "field 'hyperband': is for strategy hyperband, not bayesian");
  json hyperband = with("/strategy", "hyperband");
  EXPECT_EQ(ErrorOf(hyperband),
            "field 'hyperband': strategy hyperband needs {\"resource\": NAME, \"max_resource\": "
            "N}");
  hyperband["hyperband"] = {{"resource", "iterations"}, {"max_resource", 9}};
  EXPECT_EQ(ErrorOf(hyperband),
            "field 'hyperband.resource': 'iterations' is also a fixed hyperparameter; hyperband "
            "sets it for each job");
  hyperband["hyperband"] = {{"resource", "epochs"}, {"max_resource", 9}, {"eta", 1}};
  EXPECT_EQ(ErrorOf(hyperband), "field 'hyperband.eta': must be between 2 and 10, not 1");
  hyperband["hyperband"] = {{"resource", "epochs"}, {"min_resource", 9}, {"max_resource", 9}};
  EXPECT_EQ(ErrorOf(hyperband), "field 'hyperband.max_resource': must be above min_resource (9)");
  json grid = ValidBody();
  grid["max_jobs"] = 3;
  EXPECT_EQ(ErrorOf(grid),
            "field 'max_jobs': is for the random, bayesian and hyperband strategies; a grid "
            "sweep takes grid or combinations");
}

}  // namespace
}  // namespace trainyard::control
