// ObjectStoreStaging: JobStaging over the server's object store (docs/slurm.md, "Object-store
// staging"; the container executor's too, docs/container.md). A job's input goes to
// <job prefix><job>/in/<path>, its outputs come back to <job prefix><job>/out/<name>, a
// checkpoint's one archive to <checkpoints prefix><name>/checkpoints.tar.gz (where it outlives
// its jobs), and the jobs (on compute nodes, in containers) reach them by presigned URLs, minted
// one of two ways:
//   - kS3Endpoint: trainyard's own S3 endpoint serves the store; the objects lie in its bucket
//     `bucket` (s3://<bucket>/jobs/<job>/..., the SageMaker endpoint's jobs under
//     sagemaker-jobs/, the container executor's under container-jobs/), and the URLs are
//     signed with the endpoint's key pair for `endpoint_url`, the address by which the jobs
//     reach the endpoint;
//   - kStore: the store presigns its own URLs (an s3:// store: S3 or any S3-compatible store,
//     with the store's credentials); the objects lie under staging/<jobs prefix><job>/ of the
//     store, and `endpoint_url`, where set, is the store's address as the jobs reach it.
// An input that is an object of the store already (a dataset's file) is not copied: its URL is
// the store's own presigned GET of it (kStore), or the S3 endpoint's, in its read-only view of
// the datasets (kS3Endpoint with `datasets_view`).
// Thread-safe (the store is).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "common/time_format.h"
#include "executor/job_staging.h"
#include "server/s3/s3_api.h"
#include "storage/object_store.h"

namespace trainyard::app {

struct ObjectStoreStagingOptions {
  enum class Signer { kS3Endpoint, kStore };
  Signer signer = Signer::kS3Endpoint;
  storage::ObjectStore* objects = nullptr;  // not owned: the server's store
  // kS3Endpoint: "http://10.0.0.5:9000", the endpoint as the nodes reach it. kStore: the
  // store's address as the nodes reach it, or empty for the store's own.
  std::string endpoint_url;
  // kS3Endpoint only: the endpoint's bucket (created at the first Publish when missing) and key
  // pair.
  std::string bucket = "trainyard-staging";
  aws::Credentials credentials;
  // kS3Endpoint only: the endpoint's read-only view of the store's datasets, whose key pair
  // signs the URL of a stored input under its objects_prefix. None: no input is handed in
  // place (the caller copies them all).
  std::optional<server::S3ReadOnlyView> datasets_view;
  // Each job's objects lie under <jobs_prefix><job>/: one prefix per job namespace (the
  // SageMaker endpoint's jobs may be named as the REST API's).
  std::string jobs_prefix = "jobs/";
  // Each checkpoint's archive is <checkpoints_prefix><name>/checkpoints.tar.gz, kept after its
  // job's objects are removed (a retry, a requeue, a promoted trial restore it).
  std::string checkpoints_prefix = "checkpoints/";
};

class ObjectStoreStaging : public executor::JobStaging, public executor::CheckpointPresigner {
 public:
  explicit ObjectStoreStaging(ObjectStoreStagingOptions options) : options_(std::move(options)) {}

  bool HandsStoredObjectsInPlace() const override;
  Result<std::string> Publish(const std::string& job_name, const std::vector<InputFile>& inputs,
                              std::chrono::seconds expires,
                              const executor::CheckpointSpec& checkpoint) override;
  Status Fetch(const std::string& job_name, const std::string& name,
               const std::filesystem::path& target) override;
  Status Remove(const std::string& job_name) override;
  // The URLs of <checkpoints_prefix><name>/checkpoints.tar.gz, as Publish's manifest has them.
  Result<std::string> PresignCheckpoint(const executor::CheckpointSpec& checkpoint,
                                        std::chrono::seconds expires) override;

 private:
  Status EnsureBucket();
  // The key in the store of a staging object ("jobs/<job>/in/...", "checkpoints/<name>/...").
  std::string StoreKey(const std::string& staging_key) const;
  // The key in the store of the job's staging object `relative` ("in/...", "out/...").
  std::string StoreKey(const std::string& job_name, const std::string& relative) const;
  // The GET URL of an object of the store itself (a dataset's file), for `expires`.
  Result<std::string> PresignStored(const std::string& store_key, TimePoint now,
                                    std::chrono::seconds expires) const;
  // The URL by which the job's wrapper sends `method` for a staging object.
  Result<std::string> Presign(const std::string& staging_key, const std::string& method,
                              TimePoint now, std::chrono::seconds expires) const;
  // {"get", "put", "restore_from" (where the spec names one)} of the checkpoint's archive.
  Result<nlohmann::json> CheckpointUrls(const executor::CheckpointSpec& checkpoint, TimePoint now,
                                        std::chrono::seconds expires) const;

  ObjectStoreStagingOptions options_;
};

}  // namespace trainyard::app
