#include "app/server_sagemaker.h"

#include "aws/credentials_chain.h"
#include "aws/presigned_url.h"
#include "aws/shared_files_provider.h"
#include "common/files.h"
#include "common/log.h"
#include "metadata/postgres_metadata_store.h"

namespace trainyard::app {
namespace {

// The first of the settings' value and the variables that are set.
std::string FirstOf(const std::string& setting, const EnvironmentMap& environment,
                    std::initializer_list<const char*> variables) {
  if (!setting.empty()) return setting;
  for (const char* variable : variables) {
    auto it = environment.find(variable);
    if (it != environment.end() && !it->second.empty()) return it->second;
  }
  return "";
}

std::filesystem::path HomeOf(const EnvironmentMap& environment) {
  auto it = environment.find("HOME");
  return it == environment.end() ? std::filesystem::path() : std::filesystem::path(it->second);
}

}  // namespace

executor::SageMakerExecutorOptions SageMakerExecutorOptionsFrom(
    const SageMakerSettings& settings, const std::filesystem::path& work_dir,
    const EnvironmentMap& environment) {
  executor::SageMakerExecutorOptions options;
  options.role_arn = settings.role_arn;
  options.bucket = settings.bucket;
  options.prefix = settings.prefix;
  options.default_image = settings.image;
  options.instance_type = settings.instance_type;
  options.instance_count = settings.instance_count;
  options.volume_size_gb = settings.volume_size_gb;
  options.checkpoints = settings.checkpoints;
  options.poll_min = settings.poll_interval;
  options.poll_max = std::max(settings.poll_interval, std::chrono::milliseconds(30'000));
  options.work_dir = work_dir;
  options.region = settings.region;
  if (options.region.empty()) {
    auto region = aws::ResolveRegion(environment, HomeOf(environment));
    options.region = region.ok() ? *region : "us-east-1";
  }
  options.sagemaker_endpoint = FirstOf(settings.endpoint_url, environment,
                                       {"AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL"});
  options.logs_endpoint = FirstOf(
      settings.logs_endpoint_url.empty() ? settings.endpoint_url : settings.logs_endpoint_url,
      environment, {"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL"});
  options.s3_endpoint =
      FirstOf(settings.s3_endpoint_url, environment, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  options.credentials = aws::MakeDefaultCredentialsChain(environment, HomeOf(environment));
  return options;
}

Result<std::unique_ptr<SageMakerEndpoint>> SageMakerEndpoint::Start(
    const ServerOptions& options, storage::ObjectStore& objects, const server::S3KeyPair& keys,
    const ExecutorSettings& server_executors, StepHook on_step, const SecretMask& secret_mask,
    const std::string& replica_id, const std::string& jobs_s3_url) {
  std::unique_ptr<SageMakerEndpoint> endpoint(new SageMakerEndpoint());
  const SageMakerSettings& settings = options.sagemaker;
  server::SageMakerApiOptions api;
  api.objects = &objects;
  api.work_dir = options.data_dir / "sagemaker-work";
  api.secret_by_access_key_id = {{keys.access_key_id, keys.secret_access_key}};
  api.region = settings.region.empty() ? "us-east-1" : settings.region;
  api.max_running = options.max_running;
  api.on_step = std::move(on_step);
  api.secret_mask = secret_mask;
  if (!jobs_s3_url.empty()) {
    api.presign_checkpoint = [jobs_s3_url, keys](
                                 const std::string& bucket, const std::string& key,
                                 std::chrono::seconds expires) -> Result<server::PresignedPair> {
      const TimePoint now = std::chrono::system_clock::now();
      const aws::Credentials credentials{keys.access_key_id, keys.secret_access_key, ""};
      server::PresignedPair urls;
      for (auto [method, url] : {std::pair<const char*, std::string*>{"GET", &urls.get_url},
                                 std::pair<const char*, std::string*>{"PUT", &urls.put_url}}) {
        TY_ASSIGN_OR_RETURN(*url, aws::PresignObjectUrl({.endpoint = jobs_s3_url,
                                                         .bucket = bucket,
                                                         .key = key,
                                                         .method = method,
                                                         .signed_at = now,
                                                         .expires = expires},
                                                        credentials));
      }
      return urls;
    };
  }
  // The endpoint's jobs run on an executor of their own, configured as the server's, with their
  // job roots apart from the REST API's jobs.
  ExecutorSettings executors = server_executors;
  const std::filesystem::path jobs_dir = options.data_dir / "sagemaker-jobs";
  executors.local.work_dir = jobs_dir;
  if (executors.container) {
    executors.container->work_dir = jobs_dir;
    // The server's own container executor, built before this, has just checked the runtime.
    executors.container->check_runtime = false;
    // Names of their own: a training job may be named as one of the REST API's jobs, and both
    // run in the same runtime. No REST job name has an underscore, so none can look like these.
    executors.container->container_name_prefix = "trainyard_sm-";
  }
  if (executors.slurm) {
    // In the Slurm work dir the nodes share, under a name no REST job has (no underscore).
    executors.slurm->executor.work_dir /= "_sagemaker";
  }
  TY_ASSIGN_OR_RETURN(endpoint->executor_, OpenExecutor(settings.endpoint_executor, executors));
  api.executor = endpoint->executor_.get();
  api.executor_work_dir = jobs_dir;
  // The endpoint's jobs in a store of their own: SageMaker job names are a namespace apart from
  // the REST API's jobs. On PostgreSQL, a schema of the same database, which the replicas
  // sharing it share: any of them answers for any job, and each job is claimed and run by one.
  const bool shared = metadata::ParsePostgresUrl(options.metadata).ok();
  if (shared) {
    TY_ASSIGN_OR_RETURN(endpoint->metadata_,
                        metadata::PostgresMetadataStore::Open(
                            {.url = options.metadata, .schema = kSageMakerSchema}));
    const std::filesystem::path left = options.data_dir / "sagemaker" / "metadata.db";
    std::error_code error;
    if (std::filesystem::exists(left, error)) {
      Logger("sagemaker")
          .warn(
              "the endpoint's jobs are kept in the metadata database (schema {}); those of its "
              "SQLite store {} are not served (trainyard migrate moves it, with the server's "
              "own SQLite store, into an empty database)",
              kSageMakerSchema, left.string());
    }
  } else {
    const std::filesystem::path metadata_dir = options.data_dir / "sagemaker";
    TY_RETURN_IF_ERROR(MakeDirectories(metadata_dir));
    TY_ASSIGN_OR_RETURN(
        endpoint->metadata_,
        metadata::OpenMetadataStore("sqlite:///" + (metadata_dir / "metadata.db").string()));
  }
  api.metadata = endpoint->metadata_.get();
  if (shared) {
    api.owner_id = replica_id;
    api.lease_duration = std::chrono::seconds(options.lease_seconds);
    api.spread_claims = true;
  }
  // Otherwise the store is this server's alone, and its jobs keep the owner they have always
  // had (SageMakerApiOptions' default), so that a running job is its own after an upgrade.
  endpoint->api_ = std::make_unique<server::SageMakerApi>(std::move(api));
  TY_RETURN_IF_ERROR(endpoint->api_->Start());
  server::HttpServerOptions http =
      ListenerOptions(options.http, settings.listen_host, settings.listen_port, "sagemaker");
  http.error_document = server::SageMakerConnectionErrorDocument;
  server::SageMakerApi* handler = endpoint->api_.get();
  TY_ASSIGN_OR_RETURN(endpoint->http_,
                      server::HttpServer::Start(http, [handler](const server::HttpRequest& request,
                                                                server::BodyReader& body,
                                                                server::ResponseWriter& response) {
                        handler->Handle(request, body, response);
                      }));
  return endpoint;
}

SageMakerEndpoint::~SageMakerEndpoint() {
  if (http_) http_->Stop();
  if (api_) api_->Stop();
}

}  // namespace trainyard::app
