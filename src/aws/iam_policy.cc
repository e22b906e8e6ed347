// Builds the SageMaker training role's policies. Each statement says in its comment why the job's
// role needs it; CONTRACT.md §6 also lists permissions that only the web server needed (bucket
// creation, CORS, ACLs, listing every bucket, reading metrics back): those are left out here.
#include "aws/iam_policy.h"

#include <nlohmann/json.hpp>
#include <regex>

namespace trainyard::aws {
namespace {

// ordered_json keeps the order a reader expects: Version before Statement, Sid first.
using Json = nlohmann::ordered_json;

// S3's rules for new bucket names: 3-63 of a-z 0-9 . -, a letter or digit at both ends, no "..",
// not shaped like an IPv4 address.
Status ValidateBucket(const std::string& bucket) {
  static const std::regex kPattern("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  static const std::regex kIpAddress("[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+");
  if (bucket.empty()) return InvalidArgument("--bucket is required");
  if (!std::regex_match(bucket, kPattern) || bucket.find("..") != std::string::npos ||
      std::regex_match(bucket, kIpAddress)) {
    return InvalidArgument("--bucket '" + bucket +
                           "' is not a valid S3 bucket name (3-63 characters of a-z, 0-9, '.' "
                           "and '-', starting and ending with a letter or digit)");
  }
  return Status::Ok();
}

// '*', '?' and "${" mean something in an IAM resource, so a prefix holding them would widen the
// grant instead of naming keys.
Status ValidatePrefix(const std::string& prefix) {
  if (prefix.empty()) return Status::Ok();
  if (prefix.front() == '/') {
    return InvalidArgument("--prefix '" + prefix + "' must not start with '/' (S3 keys do not)");
  }
  if (prefix.size() > 1024) return InvalidArgument("--prefix is longer than 1024 characters");
  if (prefix.find_first_of("*?") != std::string::npos || prefix.find("${") != std::string::npos) {
    return InvalidArgument("--prefix '" + prefix + "' must not contain '*', '?' or '${'");
  }
  for (unsigned char c : prefix) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("--prefix holds a control character");
  }
  return Status::Ok();
}

const std::regex& RegionPattern() {
  static const std::regex kPattern("[a-z]{2}(-[a-z]+)+-[0-9]+");
  return kPattern;
}

// ECR's repository ARN; the name is ECR's pattern (lower-case components separated by '/').
const std::regex& EcrArnPattern() {
  static const std::regex kPattern(
      "arn:(aws[a-z-]*):ecr:([a-z]{2}(?:-[a-z]+)+-[0-9]+):([0-9]{12}):repository/"
      "((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)");
  return kPattern;
}

// The ARN partition of a region: China and GovCloud have their own.
std::string PartitionOf(const std::string& region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

std::string Partition(const IamPolicyOptions& options) {
  if (!options.region.empty()) return PartitionOf(options.region);
  std::smatch match;
  if (std::regex_match(options.ecr_repository, match, EcrArnPattern())) return match[1];
  return "aws";
}

Json Statement(const std::string& sid, std::vector<std::string> actions, Json resource) {
  return Json{{"Sid", sid}, {"Effect", "Allow"}, {"Action", actions}, {"Resource", resource}};
}

Json RolePolicy(const IamPolicyOptions& options) {
  const std::string partition = Partition(options);
  const std::string bucket_arn = "arn:" + partition + ":s3:::" + options.bucket;
  Json statements = Json::array();

  // The job reads its channels, writes model.tar.gz, output.tar.gz and checkpoints, deletes
  // checkpoints its trainer removed, and aborts an interrupted multipart upload of a large model.
  statements.push_back(
      Statement("TrainingDataAndOutputs",
                {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
                bucket_arn + "/" + options.prefix + "*"));

  // An S3Prefix channel is downloaded by listing its prefix; only the job's prefix may be listed.
  Json list = Statement("ListJobPrefix", {"s3:ListBucket"}, bucket_arn);
  if (!options.prefix.empty()) {
    list["Condition"] = {{"StringLike", {{"s3:prefix", Json::array({options.prefix + "*"})}}}};
  }
  statements.push_back(list);

  // SDKs ask where the bucket is before using it. Apart from ListBucket: GetBucketLocation
  // carries no s3:prefix, so the condition above would deny it.
  statements.push_back(Statement("LocateBucket", {"s3:GetBucketLocation"}, bucket_arn));

  if (!options.ecr_repository.empty()) {
    // Pulling the training image: the manifest, then each layer.
    statements.push_back(Statement(
        "PullTrainingImage",
        {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
        options.ecr_repository));
    // The registry login that precedes a pull; ECR accepts no narrower resource for it.
    statements.push_back(Statement("EcrLogin", {"ecr:GetAuthorizationToken"}, "*"));
  }

  // SageMaker writes the container's stdout and stderr to this log group, one stream per
  // instance; reading them back (GetLogEvents) is how a training log is fetched afterwards.
  const std::string region = options.region.empty() ? "*" : options.region;
  const std::string account = options.account.empty() ? "*" : options.account;
  statements.push_back(
      Statement("TrainingLogs",
                {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                 "logs:DescribeLogStreams", "logs:GetLogEvents"},
                "arn:" + partition + ":logs:" + region + ":" + account +
                    ":log-group:" + kSageMakerTrainingLogGroup + "*"));

  // Training metrics (MetricDefinitions, instance utilisation) go to CloudWatch. PutMetricData
  // has no resource to scope, but CloudWatch documents the cloudwatch:namespace condition key.
  Json metrics = Statement("TrainingMetrics", {"cloudwatch:PutMetricData"}, "*");
  metrics["Condition"] = {
      {"StringEquals", {{"cloudwatch:namespace", kSageMakerTrainingMetricNamespace}}}};
  statements.push_back(metrics);

  return Json{{"Version", "2012-10-17"}, {"Statement", statements}};
}

// Only SageMaker may assume the role.
Json TrustPolicy() {
  return Json{
      {"Version", "2012-10-17"},
      {"Statement", Json::array({Json{{"Effect", "Allow"},
                                      {"Principal", {{"Service", "sagemaker.amazonaws.com"}}},
                                      {"Action", "sts:AssumeRole"}}})}};
}

}  // namespace

Status ValidateIamPolicyOptions(const IamPolicyOptions& options) {
  TY_RETURN_IF_ERROR(ValidateBucket(options.bucket));
  TY_RETURN_IF_ERROR(ValidatePrefix(options.prefix));
  if (!options.ecr_repository.empty() &&
      !std::regex_match(options.ecr_repository, EcrArnPattern())) {
    return InvalidArgument("--ecr-repository '" + options.ecr_repository +
                           "' is not an ECR repository ARN "
                           "(arn:aws:ecr:REGION:ACCOUNT:repository/NAME)");
  }
  if (!options.region.empty() && !std::regex_match(options.region, RegionPattern())) {
    return InvalidArgument("--region '" + options.region +
                           "' is not an AWS region name (such as us-east-1)");
  }
  if (!options.account.empty() && !std::regex_match(options.account, std::regex("[0-9]{12}"))) {
    return InvalidArgument("--account '" + options.account + "' must be 12 digits");
  }
  return Status::Ok();
}

Result<SageMakerRolePolicies> BuildSageMakerRolePolicies(const IamPolicyOptions& options) {
  TY_RETURN_IF_ERROR(ValidateIamPolicyOptions(options));
  Json role = RolePolicy(options);
  Json trust = TrustPolicy();
  SageMakerRolePolicies policies;
  policies.role_policy = role.dump(2);
  policies.trust_policy = trust.dump(2);
  policies.combined = Json{{"role_policy", role}, {"trust_policy", trust}}.dump(2);
  return policies;
}

}  // namespace trainyard::aws
