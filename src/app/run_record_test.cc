// run.json and `--resume`: the record holds the very jobs of the run, and a resume refuses what
// would change them and clears what a killed run's writes left.
#include "app/run_record.h"

#include <gtest/gtest.h>

#include "app/run_resume.h"
#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

RunRecord ExampleRecord(const fs::path& out_dir) {
  RunFlags flags;
  flags.train = "data/train.csv";
  flags.channels = {"extra=/data/extra"};
  flags.hyperparameters = {"iterations=200"};
  flags.params = {"learning_rate=0.1,0.01", "layers=[64,32],[16]"};
  flags.environment = {"SEED=7"};
  flags.metrics = {"loss=loss: ([0-9.]+)"};
  flags.objective = "eval_accuracy:max";
  flags.stop_grace_seconds = 2.5;
  flags.out = out_dir.string();
  RunOptions options;
  options.sweep_name = "digits";
  options.command = {"./train", "--verbose"};
  options.parallel = 3;
  options.max_runtime_seconds = 600;
  options.keep_job_roots = true;
  options.wrapper_path = "/usr/bin/trainyard-wrap";
  auto built = BuildRunOptions(flags, options);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  auto combinations = core::ExpandSweep(built->sweep);
  EXPECT_TRUE(combinations.ok()) << combinations.status().ToString();
  return MakeRunRecord(*built, *combinations);
}

// `--resume` of a run on Slurm reaches Slurm as the run did: its commands or slurmrestd, as the
// same user with the same token file or key (paths; no token is recorded).
TEST(RunRecordTest, SlurmsTransportComesBackFromRunJson) {
  testing::TempDir dir;
  RunFlags flags;
  flags.out = dir.path().string();
  flags.slurm = {
      {"slurm_partition", "gpu"},           {"slurm_sbatch_arg", "--exclusive"},
      {"slurm_transport", "rest"},          {"slurm_rest_url", "http://slurm-login:6820"},
      {"slurm_rest_user", "alice"},         {"slurm_jwt_key_file", "/etc/slurm/jwt.key"},
      {"slurm_jwt_lifespan_seconds", "900"}};
  RunOptions given;
  given.sweep_name = "onslurm";
  given.command = {"./train"};
  given.wrapper_path = "/usr/bin/trainyard-wrap";
  auto built = BuildRunOptions(flags, given);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->executor, "slurm");
  ASSERT_TRUE(WriteRunRecord(MakeRunRecord(*built, {{}})).ok());
  auto read = ReadRunRecord(dir.path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const SlurmSettings& slurm = read->options.slurm;
  EXPECT_EQ(read->options.executor, "slurm");
  EXPECT_EQ(slurm.partition, "gpu");
  EXPECT_EQ(slurm.sbatch_args, (std::vector<std::string>{"--exclusive"}));
  EXPECT_EQ(slurm.transport, "rest");
  EXPECT_EQ(slurm.rest_url, "http://slurm-login:6820");
  EXPECT_EQ(slurm.rest_user, "alice");
  EXPECT_EQ(slurm.jwt_key_file, "/etc/slurm/jwt.key");
  EXPECT_EQ(slurm.jwt_lifespan_seconds, 900);

  flags.slurm = {{"slurm_transport", "ssh"}};
  auto refused = BuildRunOptions(flags, given);
  EXPECT_NE(refused.status().message().find("--slurm-transport: 'ssh' is not commands or rest"),
            std::string::npos)
      << refused.status().message();
}

TEST(RunRecordTest, EveryJobAndSettingComesBackFromRunJson) {
  testing::TempDir dir;
  RunRecord written = ExampleRecord(dir.path());
  ASSERT_EQ(written.jobs.size(), 4u);
  EXPECT_EQ(written.jobs[0].name, "digits-001");
  EXPECT_EQ(written.jobs[3].name, "digits-004");
  EXPECT_EQ(written.jobs[0].hyperparameters.at("iterations"), "200");
  EXPECT_TRUE(written.options.channels.at("training").is_absolute());
  ASSERT_TRUE(WriteRunRecord(written).ok());

  auto read = ReadRunRecord(dir.path());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->jobs, written.jobs);
  const RunOptions& options = read->options;
  EXPECT_EQ(options.out_dir, dir.path());
  EXPECT_EQ(options.sweep_name, "digits");
  EXPECT_EQ(options.channels, written.options.channels);
  EXPECT_EQ(options.command, (std::vector<std::string>{"./train", "--verbose"}));
  EXPECT_EQ(options.environment.at("SEED"), "7");
  ASSERT_EQ(options.metric_definitions.size(), 1u);
  EXPECT_EQ(options.metric_definitions[0].regex, "loss: ([0-9.]+)");
  EXPECT_EQ(options.parallel, 3u);
  EXPECT_EQ(options.max_runtime_seconds, 600);
  EXPECT_EQ(options.stop_grace_period, std::chrono::milliseconds(2500));
  EXPECT_TRUE(options.keep_job_roots);
  EXPECT_EQ(options.wrapper_path, "/usr/bin/trainyard-wrap");
  EXPECT_EQ(options.objective, (core::Objective{"eval_accuracy", core::ObjectiveGoal::kMax}));
  EXPECT_EQ(RunRecordJson(*read), RunRecordJson(written));
}

TEST(RunRecordTest, ADirectoryWithoutARunOrWithABrokenOneIsRefused) {
  testing::TempDir dir;
  Status missing = ReadRunRecord(dir.path()).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("holds no run to resume"), std::string::npos)
      << missing.message();

  json record = RunRecordJson(ExampleRecord(dir.path()));
  record["parallel"] = "three";
  Status wrong_type = RunRecordFromJson(record, dir.path()).status();
  EXPECT_EQ(wrong_type.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.message().find("field 'parallel'"), std::string::npos)
      << wrong_type.message();
  record = RunRecordJson(ExampleRecord(dir.path()));
  record["version"] = 2;
  EXPECT_NE(RunRecordFromJson(record, dir.path()).status().message().find("field 'version'"),
            std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "run.json", "{not json").ok());
  EXPECT_EQ(ReadRunRecord(dir.path()).status().code(), StatusCode::kInvalidArgument);
}

TEST(RunRecordTest, OnlyOneProcessRunsADirectoryAtATime) {
  testing::TempDir dir;
  EXPECT_EQ(AcquireRunLock(dir.path()).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteRunRecord(ExampleRecord(dir.path())).ok());
  {
    auto first = AcquireRunLock(dir.path());
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    Status second = AcquireRunLock(dir.path()).status();
    EXPECT_EQ(second.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.message().find("another `trainyard run`"), std::string::npos);
  }
  EXPECT_TRUE(AcquireRunLock(dir.path()).ok());  // released with the first
}

TEST(ResumeTest, ResumeTakesNoOtherOptionNorACommand) {
  EXPECT_TRUE(CheckResumeIsAlone({}, false).ok());
  Status with_param = CheckResumeIsAlone({"--param", "--out"}, false);
  EXPECT_EQ(with_param.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(with_param.message(),
            "--resume runs the jobs as they were recorded: --param cannot be given with it");
  EXPECT_EQ(CheckResumeIsAlone({}, true).code(), StatusCode::kInvalidArgument);
}

TEST(ResumeTest, InterruptedWritesAreRemovedAndResultsKept) {
  testing::TempDir dir;
  RunRecord record = ExampleRecord(dir.path());
  fs::path job = dir.path() / "digits-001";
  fs::create_directories(job);
  for (const char* name : {"status.json.tmp.123.4", "model.tar.gz.tmp-a1B2c3", "model.tar.gz",
                           "predictions.tmp.csv", "training.log"}) {
    ASSERT_TRUE(WriteFileAtomic(job / name, "x").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "sweep.json.tmp.9.1", "{").ok());
  RemoveInterruptedWrites(record);
  std::vector<std::string> left;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    left.push_back(fs::relative(entry.path(), dir.path()).string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"digits-001", "digits-001/model.tar.gz",
                                            "digits-001/predictions.tmp.csv",
                                            "digits-001/training.log"}));
}

}  // namespace
}  // namespace trainyard::app
