// Runs `trainyard aws iam-policy` through CLI11 as cli.cc does and checks what it prints.
#include "app/aws_commands.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace trainyard::app {
namespace {

using nlohmann::json;

struct CliRun {
  int code = -1;
  std::string out, err;
};

CliRun RunCli(std::vector<std::string> args) {
  CLI::App cli{"test", "trainyard"};
  cli.require_subcommand(1);
  AwsCommands state;
  char *out_data = nullptr, *err_data = nullptr;
  size_t out_size = 0, err_size = 0;
  state.out = open_memstream(&out_data, &out_size);
  state.err = open_memstream(&err_data, &err_size);
  AddAwsCommands(cli, state);
  CliRun run;
  std::ostringstream usage_out, usage_err;
  try {
    std::reverse(args.begin(), args.end());
    cli.parse(args);
    run.code = RunAwsCommands(state).value_or(-1);
  } catch (const CLI::ParseError& error) {
    run.code = cli.exit(error, usage_out, usage_err) == 0 ? 0 : 2;
  }
  std::fclose(state.out);
  std::fclose(state.err);
  run.out = std::string(out_data, out_size) + usage_out.str();
  run.err = std::string(err_data, err_size) + usage_err.str();
  std::free(out_data);
  std::free(err_data);
  return run;
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
