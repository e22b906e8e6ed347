#include "app/client_sweep_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace trainyard::app {
namespace {

using nlohmann::json;

TEST(TypedFlagValueTest, NumbersAndBooleansAreTypedOthersAreStrings) {
  EXPECT_EQ(TypedFlagValue("32"), json(32));
  EXPECT_TRUE(TypedFlagValue("32").is_number_integer());
  EXPECT_EQ(TypedFlagValue("0.01"), json(0.01));
  EXPECT_EQ(TypedFlagValue("1e-3"), json(0.001));
  EXPECT_EQ(TypedFlagValue("-2"), json(-2));
  EXPECT_EQ(TypedFlagValue(".5"), json(0.5));
  EXPECT_EQ(TypedFlagValue("true"), json(true));
  EXPECT_EQ(TypedFlagValue("false"), json(false));
  EXPECT_EQ(TypedFlagValue("adam"), json("adam"));
  EXPECT_EQ(TypedFlagValue("True"), json("True"));
  EXPECT_EQ(TypedFlagValue("1.2.3"), json("1.2.3"));
  EXPECT_EQ(TypedFlagValue("inf"), json("inf"));
  EXPECT_EQ(TypedFlagValue("0x10"), json("0x10"));
  EXPECT_EQ(TypedFlagValue(""), json(""));
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
