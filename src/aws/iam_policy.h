// The least-privilege IAM policies of the role a SageMaker training job runs as (the RoleArn of
// CreateTrainingJob), for `trainyard aws iam-policy` (docs/aws.md).
//
// Pure: no I/O, no AWS calls. The documents are returned as JSON text so that callers need no
// JSON library; every statement carries a Sid that says what it is for, and docs/aws.md says why.
#pragma once

#include <string>

#include "common/status.h"

namespace trainyard::aws {

// What the role is scoped to. Empty optional fields widen the scope as each comment says.
struct IamPolicyOptions {
  std::string bucket;          // required: the S3 bucket that holds the channels and outputs
  std::string prefix;          // the key prefix inside it ("" = the whole bucket); no leading '/'
  std::string ecr_repository;  // the training image's repository ARN ("" = no ECR statements)
  std::string region;          // the log group's region ("" = "*")
  std::string account;         // the log group's 12-digit account ("" = "*")
};

// The two documents, each pretty JSON (2-space indent), and both in one object.
struct SageMakerRolePolicies {
  std::string role_policy;   // the permissions policy (aws iam put-role-policy)
  std::string trust_policy;  // who may assume the role (aws iam create-role)
  std::string combined;      // {"role_policy": {...}, "trust_policy": {...}}
};

// The CloudWatch Logs group and CloudWatch metric namespace of SageMaker training jobs.
inline constexpr char kSageMakerTrainingLogGroup[] = "/aws/sagemaker/TrainingJobs";
inline constexpr char kSageMakerTrainingMetricNamespace[] = "/aws/sagemaker/TrainingJobs";

// InvalidArgument naming the flag (--bucket, --prefix, --ecr-repository, --region, --account)
// of the first field that breaks its rules; OK otherwise.
Status ValidateIamPolicyOptions(const IamPolicyOptions& options);

// The policies for `options`; InvalidArgument as ValidateIamPolicyOptions.
Result<SageMakerRolePolicies> BuildSageMakerRolePolicies(const IamPolicyOptions& options);

}  // namespace trainyard::aws
