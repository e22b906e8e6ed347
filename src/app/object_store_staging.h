// ObjectStoreStaging: JobStaging over the server's object store as its S3 endpoint serves it
// (docs/slurm.md, "Object-store staging"). A job's input goes to
// s3://<bucket>/jobs/<job>/in/<path>, its outputs come back to .../jobs/<job>/out/<name> (the
// SageMaker endpoint's jobs: sagemaker-jobs/<job>/...); the URLs
// are presigned with the endpoint's key pair for `endpoint_url`, the address by which the
// compute nodes reach the endpoint. Thread-safe (the store is).
#pragma once

#include <string>

#include "aws/credentials.h"
#include "executor/job_staging.h"
#include "storage/object_store.h"

namespace trainyard::app {

struct ObjectStoreStagingOptions {
  storage::ObjectStore* objects = nullptr;   // not owned: the store the S3 endpoint serves
  std::string endpoint_url;                  // "http://10.0.0.5:9000", as the nodes reach it
  std::string bucket = "trainyard-staging";  // created at the first Publish when missing
  aws::Credentials credentials;              // the S3 endpoint's key pair
  // Each job's objects lie under <jobs_prefix><job>/: one prefix per job namespace (the
  // SageMaker endpoint's jobs may be named as the REST API's).
  std::string jobs_prefix = "jobs/";
};

class ObjectStoreStaging : public executor::JobStaging {
 public:
  explicit ObjectStoreStaging(ObjectStoreStagingOptions options) : options_(std::move(options)) {}

  Result<std::string> Publish(const std::string& job_name, const std::vector<InputFile>& inputs,
                              std::chrono::seconds expires) override;
  Status Fetch(const std::string& job_name, const std::string& name,
               const std::filesystem::path& target) override;
  Status Remove(const std::string& job_name) override;

 private:
  Status EnsureBucket();
  std::string StoreKey(const std::string& job_name, const std::string& relative) const;

  ObjectStoreStagingOptions options_;
};

}  // namespace trainyard::app
