#include "wrapper/command.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/files.h"
#include "support/test_paths.h"

namespace trainyard::wrapper {
namespace {

class ResolveCommandTest : public ::testing::Test {
 protected:
  ResolveCommandTest() : root(dir.path()) {
    (void)MakeDirectories(root.code_dir());
    std::ofstream(root.code_dir() / "train.py") << "print('hi')\n";
    job.hyperparameters = {{"lr", "0.1"}, {"sagemaker_program", "\"train.py\""}};
  }
  testing::TempDir dir;
  contract::MlRoot root;
  contract::JobDefinition job;
  WrapperOptions options;
};

TEST_F(ResolveCommandTest, CommandLineComesFirstWithoutHyperparameters) {
  options.command = {"./trainer", "x"};
  auto command = ResolveCommand(options, job, root);
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->argv, (std::vector<std::string>{"./trainer", "x"}));
  options.hyperparameters_as_arguments = true;
  command = ResolveCommand(options, job, root);
  EXPECT_EQ(command->argv, (std::vector<std::string>{"./trainer", "x", "--lr", "0.1"}));
}

TEST_F(ResolveCommandTest, EnvironmentCommandIsSplit) {
  options.command_from_environment = "python3 -u 'my script.py'";
  auto command = ResolveCommand(options, job, root);
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->argv, (std::vector<std::string>{"python3", "-u", "my script.py"}));
}

TEST_F(ResolveCommandTest, SageMakerProgramRunsFromCodeWithArguments) {
  auto command = ResolveCommand(options, job, root);
  ASSERT_TRUE(command.ok()) << command.status().ToString();
  EXPECT_EQ(command->argv, (std::vector<std::string>{
                               "python3", (root.code_dir() / "train.py").string(), "--lr", "0.1"}));
  EXPECT_EQ(command->user_entry_point, "train.py");
  EXPECT_EQ(command->working_directory, root.code_dir().string());
}

TEST_F(ResolveCommandTest, SageMakerProgramFromEnvironmentAndShellScripts) {
  job.hyperparameters.erase("sagemaker_program");
  std::ofstream(root.code_dir() / "run.sh") << "echo hi\n";
  options.sagemaker_program = "run.sh";
  auto command = ResolveCommand(options, job, root);
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(command->argv[0], "sh");
}

TEST_F(ResolveCommandTest, MissingScriptAndNoCommandAreClearErrors) {
  job.hyperparameters["sagemaker_program"] = "missing.py";
  auto missing = ResolveCommand(options, job, root);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.py"), std::string::npos);

  job.hyperparameters.erase("sagemaker_program");
  auto none = ResolveCommand(options, job, root);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("TRAINYARD_COMMAND"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::wrapper
