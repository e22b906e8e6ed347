// The server's SageMaker pieces, built from its sagemaker_* settings: the sagemaker executor
// (docs/sagemaker.md) and the SageMaker-compatible endpoint (docs/sagemaker-endpoint.md).
#pragma once

#include <filesystem>
#include <memory>

#include "app/executor_registry.h"
#include "app/server_options.h"
#include "common/environment.h"
#include "common/secret_mask.h"
#include "common/step_hook.h"
#include "executor/sagemaker/sagemaker_options.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"
#include "server/s3/s3_credentials.h"
#include "server/sagemaker/sagemaker_api.h"

namespace trainyard::app {

// The PostgreSQL schema of the SageMaker-compatible endpoint's jobs, beside the REST API's.
inline constexpr char kSageMakerSchema[] = "sagemaker";

// The sagemaker executor's options from the settings. Endpoints and region follow the AWS
// SDKs' variables (AWS_ENDPOINT_URL_SAGEMAKER, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; AWS_REGION, ...) where the settings say nothing;
// credentials come from the SDKs' default chain. The executor checks them when it is built.
executor::SageMakerExecutorOptions SageMakerExecutorOptionsFrom(
    const SageMakerSettings& settings, const std::filesystem::path& work_dir,
    const EnvironmentMap& environment);

// The SageMaker-compatible endpoint on its own listener, over the S3 endpoint's store and keys.
// Its jobs run on an executor of their own, settings.endpoint_executor ("local": detached, so
// that they outlive a server restart as the REST API's local jobs do; "container": needs
// --container-runtime; "slurm": needs --slurm, its job roots in <slurm work dir>/_sagemaker),
// with its job roots in <data_dir>/sagemaker-jobs, and are kept in a MetadataStore of their own,
// apart from the REST API's jobs (SageMaker job names are a namespace of their own):
// <data_dir>/sagemaker/metadata.db (SQLite) when the server's metadata is SQLite; with
// PostgreSQL metadata, the schema "sagemaker" of the same database (kSageMakerSchema), which
// every replica sharing the database shares (docs/scale-out.md).
class SageMakerEndpoint {
 public:
  // `server_executors` are the server's executor options (server_executors.h); the endpoint's
  // executor is built from them with its own work dir. Its errors come from OpenExecutor.
  // `on_step` reaches the endpoint's job table (tests/fault_injection_test.cc). `secret_mask`:
  // the server's secrets, masked in its jobs' logs and failure reasons. `replica_id`: the
  // server's name among the replicas sharing its metadata (the owner of the jobs it claims).
  // `jobs_s3_url`: the S3 endpoint's address as the endpoint's jobs reach it, for their
  // CheckpointConfig (docs/checkpoints.md); empty: none.
  static Result<std::unique_ptr<SageMakerEndpoint>> Start(
      const ServerOptions& options, storage::ObjectStore& objects, const server::S3KeyPair& keys,
      const ExecutorSettings& server_executors, StepHook on_step, const SecretMask& secret_mask,
      const std::string& replica_id, const std::string& jobs_s3_url);
  ~SageMakerEndpoint();  // stops listening and following; running jobs go on
  uint16_t port() const { return http_->port(); }

 private:
  SageMakerEndpoint() = default;
  executor::ExecutorPtr executor_;       // outlives api_, which uses it
  metadata::MetadataStorePtr metadata_;  // the endpoint's jobs; outlives api_
  std::unique_ptr<server::SageMakerApi> api_;
  std::unique_ptr<server::HttpServer> http_;
};

}  // namespace trainyard::app
