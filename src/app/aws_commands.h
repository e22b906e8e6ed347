// The `aws` commands of `trainyard`: help for running trainyard's jobs on AWS. For now one,
// `trainyard aws iam-policy`, which prints the least-privilege policies of the IAM role that
// SageMaker training jobs run as (docs/aws.md). They need no server and make no AWS call.
//
// cli.cc adds them to its CLI11 app (AddAwsCommands) before parsing and, after parsing, asks
// RunAwsCommands to run whichever was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

namespace trainyard::app {

struct AwsIamPolicyFlags {
  std::string bucket, prefix, ecr_repository, region, account;
  std::string output = "json";  // json | text
};

struct AwsCommands {
  AwsIamPolicyFlags iam_policy;
  CLI::App* iam_policy_command = nullptr;
  // Where results and errors go (tests capture them).
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

void AddAwsCommands(CLI::App& cli, AwsCommands& state);

// The exit code of the aws command that was parsed (2 for bad input, naming the flag), or nullopt
// when none was.
std::optional<int> RunAwsCommands(const AwsCommands& state);

}  // namespace trainyard::app
