// What the sagemaker executor needs to know about the AWS account it uses (docs/sagemaker.md).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "aws/credentials_provider.h"
#include "common/status.h"

namespace trainyard::executor {

struct SageMakerExecutorOptions {
  std::string region = "us-east-1";
  std::string role_arn;       // the training role (`trainyard aws iam-policy` prints its policy)
  std::string default_image;  // when the sweep names no image
  std::string instance_type = "ml.m5.large";
  int instance_count = 1;
  int volume_size_gb = 30;
  // Inputs go to s3://<bucket>/<prefix>/inputs/<sha256>/<file> (uploaded once per content),
  // outputs to s3://<bucket>/<prefix>/outputs/<job>/output/, checkpoints (when asked) to
  // s3://<bucket>/<prefix>/checkpoints/<job>/.
  std::string bucket;
  std::string prefix = "trainyard";
  bool checkpoints = false;  // sends CheckpointConfig (/opt/ml/checkpoints synced with S3)
  std::map<std::string, std::string> tags;
  // Endpoint overrides ("" for AWS): a compatible service, or trainyard's own endpoints.
  std::string sagemaker_endpoint;
  std::string logs_endpoint;
  std::string s3_endpoint;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  // A job the executor did not submit itself (found again after a server restart) leaves its
  // artifacts in <work_dir>/<job>/artifacts, where the scheduler expects them.
  std::filesystem::path work_dir;
  // DescribeTrainingJob polling: each job is polled `poll_min` after its last change, the wait
  // doubling up to `poll_max` while nothing changes (SageMaker's default rate limits are a few
  // Describe calls per second per account).
  std::chrono::milliseconds poll_min{2'000};
  std::chrono::milliseconds poll_max{30'000};
  int max_attempts = 5;  // per AWS call, throttling and 5xx retried with full jitter
};

// Checks what must be set (region, role ARN, bucket) and its form. InvalidArgument naming the
// option.
Status ValidateSageMakerOptions(const SageMakerExecutorOptions& options);

}  // namespace trainyard::executor
