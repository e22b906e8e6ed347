// Runs `trainyard aws iam-policy` through CLI11 as cli.cc does and checks what it prints.
#include "app/aws_commands.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli_test_runner.h"

namespace trainyard::app {
namespace {

using nlohmann::json;

using testing::CliRun;

CliRun RunCli(std::vector<std::string> args) {
  return testing::RunCommands(std::move(args), AddAwsCommands, RunAwsCommands);
}

TEST(AwsCommandsTest, IamPolicyPrintsBothDocumentsAsJson) {
  CliRun run = RunCli({"aws", "iam-policy", "--bucket", "my-bucket", "--prefix", "jobs/",
                       "--ecr-repository", "arn:aws:ecr:eu-west-1:123456789012:repository/trainer",
                       "--region", "eu-west-1", "--account", "123456789012"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  json output = json::parse(run.out);
  EXPECT_EQ(output["role_policy"]["Version"], "2012-10-17");
  EXPECT_EQ(output["role_policy"]["Statement"].size(), 7u);
  EXPECT_EQ(output["role_policy"]["Statement"][0]["Resource"], "arn:aws:s3:::my-bucket/jobs/*");
  EXPECT_EQ(output["trust_policy"]["Statement"][0]["Principal"]["Service"],
            "sagemaker.amazonaws.com");
}

TEST(AwsCommandsTest, IamPolicyTextHasHeadingsAndCommands) {
  CliRun run = RunCli({"aws", "iam-policy", "--bucket", "my-bucket", "--output", "text"});
  ASSERT_EQ(run.code, 0) << run.err;
  for (const char* part : {"== Trust policy", "== Role policy", "aws iam create-role",
                           "aws iam put-role-policy", "arn:aws:s3:::my-bucket/*"}) {
    EXPECT_NE(run.out.find(part), std::string::npos) << part;
  }
}

TEST(AwsCommandsTest, IamPolicyRefusesBadInputNamingTheFlag) {
  CliRun run = RunCli({"aws", "iam-policy", "--bucket", "Bad_Bucket"});
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("--bucket"), std::string::npos) << run.err;
  run = RunCli({"aws", "iam-policy", "--bucket", "my-bucket", "--account", "42"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("--account"), std::string::npos) << run.err;
  run = RunCli({"aws", "iam-policy"});  // --bucket is required
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("--bucket"), std::string::npos) << run.err;
  run = RunCli({"aws", "iam-policy", "--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_NE(run.out.find("Example:"), std::string::npos);
}

}  // namespace
}  // namespace trainyard::app
