#include "app/client_sweep_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace trainyard::app {
namespace {

using nlohmann::json;

TEST(BuildSweepBodyTest, ValuesAreSentAsTheJobWillSeeThem) {
  ClientSweepFlags flags;
  flags.name = "n";
  flags.command = "x";
  flags.hyperparameters = {"a=32",  "b=1e-3", "c=true",  "d=adam",      "e=True",
                           "f=001", "g=.5",   "h=[1,2]", "i=\"quoted\""};
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  // As SageMaker's training toolkit decodes a hyperparameter: JSON when it parses, else text.
  EXPECT_EQ(body->at("hyperparameters"), json::parse(R"({"a": 32, "b": 0.001, "c": true,
      "d": "adam", "e": "True", "f": "001", "g": ".5", "h": [1, 2], "i": "quoted"})"));
  EXPECT_TRUE(body->at("hyperparameters").at("a").is_number_integer());
}

TEST(BuildSweepBodyTest, ParamUnderstandsBracketsAndQuotesAsTrainyardRunDoes) {
  ClientSweepFlags flags;
  flags.name = "n";
  flags.command = "x";
  flags.params = {"layers=[64,32],[16]", "tag=\"a,b\",c", "lr = 0.1 , 0.01"};
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->at("grid"), json::parse(R"({"layers": [[64, 32], [16]], "tag": ["a,b", "c"],
      "lr": [0.1, 0.01]})"));
}

TEST(BuildSweepBodyTest, NoChannelFlagsSendNoChannels) {
  ClientSweepFlags flags;
  flags.name = "n";
  flags.command = "x";
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_FALSE(body->contains("channels")) << body->dump();
}

TEST(BuildSweepBodyTest, FlagsMakeTheDocumentedBody) {
  ClientSweepFlags flags;
  flags.name = "digits";
  flags.command = "trainyard-example-trainer --quiet";
  flags.train = "ds-train";
  flags.channels = {"extra=ds-extra"};
  flags.hyperparameters = {"iterations=300", "optimizer=adam", "warm=true"};
  flags.params = {"learning_rate=0.01,0.02", "batch_size=32,64"};
  flags.max_parallel = 2;
  flags.max_runtime_seconds = 3600;
  flags.environment = {"FOO=1"};
  flags.objective = "eval_accuracy:max";
  flags.idempotency_key = "k1";
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, json::parse(R"({
    "name": "digits", "executor": "local",
    "trainer": {"command": ["trainyard-example-trainer", "--quiet"]},
    "channels": {"training": "ds-train", "extra": "ds-extra"},
    "hyperparameters": {"iterations": 300, "optimizer": "adam", "warm": true},
    "grid": {"learning_rate": [0.01, 0.02], "batch_size": [32, 64]},
    "max_parallel": 2, "max_runtime_seconds": 3600, "environment": {"FOO": "1"},
    "objective": {"metric": "eval_accuracy", "goal": "max"}, "idempotency_key": "k1"})"));
}

TEST(BuildSweepBodyTest, SlurmUserGoesUnderSlurm) {
  ClientSweepFlags flags;
  flags.name = "digits";
  flags.executor = "slurm";
  flags.command = "train";
  flags.slurm_user = "alice";
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ((*body)["slurm"], json::parse(R"({"user": "alice"})"));
}

TEST(BuildSweepBodyTest, FlagsOverrideTheFileFieldByField) {
  std::filesystem::path file = std::filesystem::temp_directory_path() / "sweep-spec-test.json";
  std::ofstream(file) << R"({"name": "from-file", "executor": "container",
      "trainer": {"image": "trainer:1"}, "channels": {"training": "ds-a", "evaluation": "ds-b"},
      "hyperparameters": {"iterations": 100, "seed": 1}, "grid": {"lr": [1, 2]},
      "max_parallel": 4, "resources": {"instance_count": 1}})";
  ClientSweepFlags flags;
  flags.file = file.string();
  flags.name = "from-flags";
  flags.eval = "ds-c";
  flags.hyperparameters = {"iterations=300"};
  flags.params = {"depth=3,4"};
  auto body = BuildSweepBody(flags);
  std::filesystem::remove(file);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, json::parse(R"({"name": "from-flags", "executor": "container",
      "trainer": {"image": "trainer:1"}, "channels": {"training": "ds-a", "evaluation": "ds-c"},
      "hyperparameters": {"iterations": 300, "seed": 1}, "grid": {"lr": [1, 2], "depth": [3, 4]},
      "max_parallel": 4, "resources": {"instance_count": 1}})"));
}

TEST(BuildSweepBodyTest, RejectsBadFlags) {
  ClientSweepFlags base;
  base.name = "n";
  base.command = "x";
  auto code = [](ClientSweepFlags flags) { return BuildSweepBody(flags).status().code(); };
  ClientSweepFlags flags = base;
  flags.params = {"lr=0.1,,0.2"};
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.hyperparameters = {"novalue"};
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.objective = "acc:up";
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.params = {"lr=1,2", "lr=3"};
  EXPECT_EQ(BuildSweepBody(flags).status().message(), "--param 'lr' is given twice");
  flags = base;
  flags.train = "ds-1";
  flags.channels = {"training=ds-2"};
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.command.clear();
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.name.clear();
  EXPECT_EQ(code(flags), StatusCode::kInvalidArgument);
  flags = base;
  flags.file = "/no/such/sweep.json";
  EXPECT_EQ(code(flags), StatusCode::kNotFound);
}

}  // namespace
}  // namespace trainyard::app

namespace trainyard::app {
namespace {

TEST(BuildSweepBodyTest, ASearchsParamsAreRangesAndHyperbandTakesItsResource) {
  ClientSweepFlags flags;
  flags.name = "tune";
  flags.command = "trainer";
  flags.strategy = "hyperband";
  flags.hyperparameters = {"batch=32"};
  flags.params = {"lr=log:1e-5..1e-1", "layers=int:1..8", "optimizer=adam,sgd"};
  flags.max_jobs = 40;
  flags.random_seed = 0;
  flags.resource = "epochs=1..27";
  flags.eta = 3;
  flags.early_stopping = "auto";
  flags.objective = "eval_accuracy:max";
  auto body = BuildSweepBody(flags);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, json::parse(R"({
    "name": "tune", "executor": "local", "trainer": {"command": ["trainer"]},
    "strategy": "hyperband", "hyperparameters": {"batch": 32},
    "ranges": {
      "lr": {"type": "continuous", "scaling": "logarithmic", "min": 1e-5, "max": 0.1},
      "layers": {"type": "integer", "scaling": "linear", "min": 1, "max": 8},
      "optimizer": {"type": "categorical", "values": ["adam", "sgd"]}},
    "max_jobs": 40, "random_seed": 0, "early_stopping": "auto",
    "hyperband": {"resource": "epochs", "min_resource": 1, "max_resource": 27, "eta": 3},
    "objective": {"metric": "eval_accuracy", "goal": "max"}})"))
      << body->dump();
}

TEST(BuildSweepBodyTest, ARangeWithoutASearchIsRefused) {
  ClientSweepFlags flags;
  flags.name = "tune";
  flags.command = "trainer";
  flags.params = {"lr=log:1e-5..1e-1"};
  EXPECT_EQ(BuildSweepBody(flags).status().message(),
            "--param 'lr': a range needs --strategy random, bayesian or hyperband (a grid lists "
            "its values)");
  flags.strategy = "random";
  flags.resource = "epochs=1..x";
  EXPECT_EQ(BuildSweepBody(flags).status().message(),
            "--resource 'epochs=1..x': expected NAME=MIN..MAX (epochs=1..27)");
}

}  // namespace
}  // namespace trainyard::app
