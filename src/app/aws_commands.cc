// `trainyard aws iam-policy`: flags in, aws::BuildSageMakerRolePolicies, JSON or text out.
#include "app/aws_commands.h"

#include "aws/iam_policy.h"
#include "common/status.h"

namespace trainyard::app {

namespace {

constexpr char kRoleName[] = "trainyard-sagemaker-training";

void Print(std::FILE* stream, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

// Each document under a heading, then the awscli commands that create the role from them (saved
// as the file names the headings give).
std::string TextOutput(const aws::SageMakerRolePolicies& policies) {
  return "== Trust policy (save as trust-policy.json): only SageMaker may assume the role ==\n" +
         policies.trust_policy +
         "\n\n== Role policy (save as role-policy.json): what a training job may do ==\n" +
         policies.role_policy +
         "\n\n== Create the role ==\n"
         "aws iam create-role --role-name " +
         kRoleName +
         " \\\n"
         "  --assume-role-policy-document file://trust-policy.json\n"
         "aws iam put-role-policy --role-name " +
         kRoleName +
         " \\\n"
         "  --policy-name trainyard-training-job --policy-document file://role-policy.json\n"
         "# The role's ARN, for CreateTrainingJob's RoleArn:\n"
         "aws iam get-role --role-name " +
         kRoleName + " --query Role.Arn --output text\n";
}

}  // namespace

void AddAwsCommands(CLI::App& cli, AwsCommands& state) {
  CLI::App* group = cli.add_subcommand("aws", "Help for running trainyard's jobs on AWS");
  group->require_subcommand(1);
  AwsIamPolicyFlags& flags = state.iam_policy;
  CLI::App* command = group->add_subcommand(
      "iam-policy",
      "Print the least-privilege IAM policies of the role SageMaker training jobs run as");
  command->footer(
      "\nPrints {\"role_policy\": ..., \"trust_policy\": ...}; docs/aws.md says why each "
      "permission is there.\n\nExample:\n"
      "  trainyard aws iam-policy --bucket my-training-bucket --prefix trainyard/ \\\n"
      "    --ecr-repository arn:aws:ecr:eu-west-1:123456789012:repository/my-trainer \\\n"
      "    --region eu-west-1 --account 123456789012 --output text");
  command->add_option("--bucket", flags.bucket, "The S3 bucket of the jobs' data and outputs")
      ->required();
  command->add_option("--prefix", flags.prefix,
                      "Only keys under this prefix (no leading '/'; default: the whole bucket)");
  command->add_option("--ecr-repository", flags.ecr_repository,
                      "The training image's ECR repository ARN (default: no ECR permissions)");
  command->add_option("--region", flags.region, "The jobs' region (default: any)");
  command->add_option("--account", flags.account, "The jobs' 12-digit account (default: any)");
  command
      ->add_option("--output", flags.output,
                   "json: one JSON object; text: each document under a heading, and the aws iam "
                   "commands that create the role")
      ->check(CLI::IsMember({"json", "text"}));
  state.iam_policy_command = command;
}

std::optional<int> RunAwsCommands(const AwsCommands& state) {
  if (state.iam_policy_command == nullptr || !state.iam_policy_command->parsed()) {
    return std::nullopt;
  }
  const AwsIamPolicyFlags& flags = state.iam_policy;
  auto policies = aws::BuildSageMakerRolePolicies({.bucket = flags.bucket,
                                                   .prefix = flags.prefix,
                                                   .ecr_repository = flags.ecr_repository,
                                                   .region = flags.region,
                                                   .account = flags.account});
  if (!policies.ok()) {
    Print(state.err, "trainyard aws iam-policy: " + policies.status().message() + "\n");
    return ToExitCode(policies.status());
  }
  Print(state.out, flags.output == "text" ? TextOutput(*policies) : policies->combined + "\n");
  return 0;
}

}  // namespace trainyard::app
