// Tests of the SageMaker training role's policies: every statement, its scoping, the checks on
// input, and IAM's policy grammar as far as a test can check it without AWS.
#include "aws/iam_policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

namespace trainyard::aws {
namespace {

using nlohmann::json;

constexpr char kEcrArn[] = "arn:aws:ecr:eu-west-1:123456789012:repository/team/trainer";

json RolePolicy(const IamPolicyOptions& options) {
  auto policies = BuildSageMakerRolePolicies(options);
  EXPECT_TRUE(policies.ok()) << policies.status().ToString();
  return policies.ok() ? json::parse(policies->role_policy) : json();
}

// The statement with this Sid, or null.
json StatementById(const json& policy, const std::string& sid) {
  for (const json& statement : policy["Statement"]) {
    if (statement.value("Sid", "") == sid) return statement;
  }
  return nullptr;
}

std::set<std::string> Actions(const json& statement) {
  return statement["Action"].get<std::set<std::string>>();
}

// IAM grammar: Version, and per statement Effect, Action and Resource with known shapes.
void ExpectValidIamPolicy(const json& policy) {
  ASSERT_TRUE(policy.is_object());
  EXPECT_EQ(policy["Version"], "2012-10-17");
  ASSERT_TRUE(policy["Statement"].is_array());
  ASSERT_FALSE(policy["Statement"].empty());
  const std::set<std::string> services = {"s3", "ecr", "logs", "cloudwatch"};
  const std::regex action_pattern("([a-z0-9]+):[A-Z][A-Za-z]+");
  std::set<std::string> sids;
  for (const json& statement : policy["Statement"]) {
    SCOPED_TRACE(statement.dump());
    EXPECT_EQ(statement["Effect"], "Allow");
    ASSERT_TRUE(statement.contains("Action"));
    ASSERT_TRUE(statement.contains("Resource"));
    EXPECT_TRUE(statement["Resource"].is_string());
    EXPECT_TRUE(sids.insert(statement["Sid"].get<std::string>()).second) << "Sid is repeated";
    EXPECT_TRUE(std::regex_match(statement["Sid"].get<std::string>(), std::regex("[A-Za-z0-9]+")));
    for (const std::string& action : Actions(statement)) {
      std::smatch match;
      ASSERT_TRUE(std::regex_match(action, match, action_pattern)) << action;
      EXPECT_TRUE(services.count(match[1])) << action;
    }
    for (const auto& [key, value] : statement.items()) {
      EXPECT_TRUE(key == "Sid" || key == "Effect" || key == "Action" || key == "Resource" ||
                  key == "Condition")
          << key;
    }
  }
}

TEST(IamPolicyTest, WholeBucketWithoutPrefixOrEcr) {
  json policy = RolePolicy({.bucket = "my-bucket"});
  ExpectValidIamPolicy(policy);
  ASSERT_EQ(policy["Statement"].size(), 5u);

  json objects = StatementById(policy, "TrainingDataAndOutputs");
  EXPECT_EQ(objects["Resource"], "arn:aws:s3:::my-bucket/*");
  EXPECT_EQ(Actions(objects),
            (std::set<std::string>{"s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                   "s3:AbortMultipartUpload"}));
  json list = StatementById(policy, "ListJobPrefix");
  EXPECT_EQ(list["Resource"], "arn:aws:s3:::my-bucket");
  EXPECT_EQ(Actions(list), std::set<std::string>{"s3:ListBucket"});
  EXPECT_FALSE(list.contains("Condition"));
  json locate = StatementById(policy, "LocateBucket");
  EXPECT_EQ(locate["Resource"], "arn:aws:s3:::my-bucket");
  EXPECT_EQ(Actions(locate), std::set<std::string>{"s3:GetBucketLocation"});
  EXPECT_FALSE(locate.contains("Condition"));

  json logs = StatementById(policy, "TrainingLogs");
  EXPECT_EQ(logs["Resource"], "arn:aws:logs:*:*:log-group:/aws/sagemaker/TrainingJobs*");
  EXPECT_EQ(Actions(logs), (std::set<std::string>{"logs:CreateLogGroup", "logs:CreateLogStream",
                                                  "logs:PutLogEvents", "logs:DescribeLogStreams",
                                                  "logs:GetLogEvents"}));
  json metrics = StatementById(policy, "TrainingMetrics");
  EXPECT_EQ(metrics["Resource"], "*");
  EXPECT_EQ(Actions(metrics), std::set<std::string>{"cloudwatch:PutMetricData"});
  EXPECT_EQ(metrics["Condition"]["StringEquals"]["cloudwatch:namespace"],
            "/aws/sagemaker/TrainingJobs");

  EXPECT_TRUE(StatementById(policy, "PullTrainingImage").is_null());
  EXPECT_TRUE(StatementById(policy, "EcrLogin").is_null());
}

TEST(IamPolicyTest, PrefixScopesObjectsAndListing) {
  json policy = RolePolicy({.bucket = "my-bucket", .prefix = "trainyard/"});
  ExpectValidIamPolicy(policy);
  EXPECT_EQ(StatementById(policy, "TrainingDataAndOutputs")["Resource"],
            "arn:aws:s3:::my-bucket/trainyard/*");
  json list = StatementById(policy, "ListJobPrefix");
  EXPECT_EQ(list["Resource"], "arn:aws:s3:::my-bucket");
  EXPECT_EQ(list["Condition"], json::parse(R"({"StringLike": {"s3:prefix": ["trainyard/*"]}})"));
  // GetBucketLocation has no s3:prefix: the condition must not reach it.
  EXPECT_FALSE(StatementById(policy, "LocateBucket").contains("Condition"));
}

TEST(IamPolicyTest, EcrRepositoryAddsPullAndLogin) {
  json policy = RolePolicy({.bucket = "my-bucket", .ecr_repository = kEcrArn});
  ExpectValidIamPolicy(policy);
  ASSERT_EQ(policy["Statement"].size(), 7u);
  json pull = StatementById(policy, "PullTrainingImage");
  EXPECT_EQ(pull["Resource"], kEcrArn);
  EXPECT_EQ(Actions(pull), (std::set<std::string>{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                                  "ecr:BatchCheckLayerAvailability"}));
  json login = StatementById(policy, "EcrLogin");
  EXPECT_EQ(login["Resource"], "*");
  EXPECT_EQ(Actions(login), std::set<std::string>{"ecr:GetAuthorizationToken"});
}

TEST(IamPolicyTest, RegionAndAccountScopeTheLogGroup) {
  json policy = RolePolicy({.bucket = "b12", .region = "eu-west-1", .account = "123456789012"});
  EXPECT_EQ(StatementById(policy, "TrainingLogs")["Resource"],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/TrainingJobs*");
  policy = RolePolicy({.bucket = "b12", .region = "us-east-2"});
  EXPECT_EQ(StatementById(policy, "TrainingLogs")["Resource"],
            "arn:aws:logs:us-east-2:*:log-group:/aws/sagemaker/TrainingJobs*");
  policy = RolePolicy({.bucket = "b12", .account = "123456789012"});
  EXPECT_EQ(StatementById(policy, "TrainingLogs")["Resource"],
            "arn:aws:logs:*:123456789012:log-group:/aws/sagemaker/TrainingJobs*");
}

TEST(IamPolicyTest, ChinaAndGovCloudUseTheirPartition) {
  json policy = RolePolicy({.bucket = "b12", .region = "cn-north-1"});
  EXPECT_EQ(StatementById(policy, "TrainingDataAndOutputs")["Resource"], "arn:aws-cn:s3:::b12/*");
  EXPECT_EQ(StatementById(policy, "TrainingLogs")["Resource"],
            "arn:aws-cn:logs:cn-north-1:*:log-group:/aws/sagemaker/TrainingJobs*");
  policy = RolePolicy({.bucket = "b12",
                       .ecr_repository = "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:"
                                         "repository/trainer"});
  EXPECT_EQ(StatementById(policy, "LocateBucket")["Resource"], "arn:aws-us-gov:s3:::b12");
}

TEST(IamPolicyTest, LeavesOutWhatOnlyTheWebServerNeeded) {
  std::string text =
      BuildSageMakerRolePolicies({.bucket = "my-bucket", .ecr_repository = kEcrArn})->role_policy;
  for (const char* action :
       {"s3:CreateBucket", "s3:ListAllMyBuckets", "s3:GetBucketCors", "s3:PutBucketCors",
        "s3:GetBucketAcl", "s3:PutObjectAcl", "ecr:DescribeImages", "ecr:GetRegistryPolicy",
        "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"}) {
    EXPECT_EQ(text.find(action), std::string::npos) << action;
  }
}

TEST(IamPolicyTest, TrustPolicyLetsOnlySageMakerAssumeTheRole) {
  auto policies = BuildSageMakerRolePolicies({.bucket = "my-bucket"});
  ASSERT_TRUE(policies.ok());
  EXPECT_EQ(json::parse(policies->trust_policy), json::parse(R"({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]})"));
  json combined = json::parse(policies->combined);
  EXPECT_EQ(combined["role_policy"], json::parse(policies->role_policy));
  EXPECT_EQ(combined["trust_policy"], json::parse(policies->trust_policy));
}

// The message of a refused options set; "" when they are accepted.
std::string Refusal(const IamPolicyOptions& options) {
  Status status = ValidateIamPolicyOptions(options);
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(BuildSageMakerRolePolicies(options).ok());
  return status.message();
}

TEST(IamPolicyTest, BadInputsNameTheFlag) {
  for (const char* bucket :
       {"", "ab", "My-Bucket", "-bucket", "bucket-", "a..b", "192.168.1.1", "under_score", "a/b"}) {
    EXPECT_NE(Refusal({.bucket = bucket}).find("--bucket"), std::string::npos) << bucket;
  }
  std::string too_long(64, 'a');
  EXPECT_NE(Refusal({.bucket = too_long}).find("--bucket"), std::string::npos);
  for (const char* bucket : {"abc", "my.bucket-1", "0bucket9"}) {
    EXPECT_EQ(Refusal({.bucket = bucket}), "") << bucket;
  }
  EXPECT_EQ(Refusal({.bucket = std::string(63, 'a')}), "");

  for (const char* prefix : {"/jobs", "jobs/*", "a?b", "${aws:username}/"}) {
    EXPECT_NE(Refusal({.bucket = "abc", .prefix = prefix}).find("--prefix"), std::string::npos)
        << prefix;
  }
  EXPECT_EQ(Refusal({.bucket = "abc", .prefix = "a/b-c_d.e/"}), "");

  for (const char* arn :
       {"123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer",
        "arn:aws:ecr:eu-west-1:1234:repository/x", "arn:aws:ecr:eu-west-1:123456789012:repository/",
        "arn:aws:ecr:*:123456789012:repository/x",
        "arn:aws:ecr:eu-west-1:123456789012:repository/Trainer",
        "arn:aws:s3:eu-west-1:123456789012:repository/x"}) {
    EXPECT_NE(Refusal({.bucket = "abc", .ecr_repository = arn}).find("--ecr-repository"),
              std::string::npos)
        << arn;
  }
  for (const char* region : {"EU-WEST-1", "eu-west", "euwest1", "*", "eu-west-1 "}) {
    EXPECT_NE(Refusal({.bucket = "abc", .region = region}).find("--region"), std::string::npos)
        << region;
  }
  EXPECT_EQ(Refusal({.bucket = "abc", .region = "us-gov-west-1"}), "");
  for (const char* account : {"12345678901", "1234567890123", "12345678901a"}) {
    EXPECT_NE(Refusal({.bucket = "abc", .account = account}).find("--account"), std::string::npos)
        << account;
  }
}

}  // namespace
}  // namespace trainyard::aws
