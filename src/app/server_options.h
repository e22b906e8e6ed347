// The options of `trainyard server`, from a config file, then TRAINYARD_* environment
// variables, then flags (each later one wins), checked in one place.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/environment.h"
#include "common/log_options.h"
#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::app {

// Settings named sagemaker_* (config keys; TRAINYARD_SAGEMAKER_* variables; --sagemaker-*
// flags). The sagemaker executor (docs/sagemaker.md) is on when role_arn is set; the
// SageMaker-compatible endpoint (docs/sagemaker-endpoint.md) while listen_host is set.
struct SageMakerSettings {
  std::string role_arn, bucket, prefix = "trainyard", image;
  std::string instance_type = "ml.m5.large";
  int instance_count = 1;
  int volume_size_gb = 30;
  std::string region;  // empty: AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1
  // Endpoint overrides; empty: AWS_ENDPOINT_URL_SAGEMAKER / _CLOUDWATCH_LOGS / _S3, then
  // AWS_ENDPOINT_URL, else AWS. The logs endpoint defaults to the SageMaker one when only that
  // is overridden (a compatible service, as trainyard's own endpoint, answers both).
  std::string endpoint_url, logs_endpoint_url, s3_endpoint_url;
  bool checkpoints = false;
  std::chrono::milliseconds poll_interval{2'000};  // the first DescribeTrainingJob wait
  std::string listen_host;                         // the endpoint; empty: off
  uint16_t listen_port = 0;
  std::string endpoint_executor = "local";  // what runs the endpoint's jobs: local | container
};

// Settings named slurm_* (config keys; TRAINYARD_SLURM_* variables; --slurm-* flags): the slurm
// executor (docs/slurm.md), on when `slurm` is true or any slurm_* setting is given.
struct SlurmSettings {
  bool enabled = false;
  std::string partition, account, qos;  // empty: the cluster's defaults
  // Appended to every job's sbatch (--slurm-sbatch-arg, repeatable; a list in the config file;
  // whitespace-separated in TRAINYARD_SLURM_SBATCH_ARG).
  std::vector<std::string> sbatch_args;
  // Where job roots go: a directory the compute nodes see at the same path. Empty:
  // <data_dir>/slurm-jobs (then the data dir must be shared with the nodes).
  std::filesystem::path work_dir;
  std::string gpu_option = "gres";  // --gres=gpu:N, or "gpus": --gpus=N
  std::filesystem::path bin_dir;    // sbatch, squeue, scancel; empty: found on PATH
  int poll_interval_ms = 1000;      // one squeue for every job, at most this often
  // "shared" (the work dir is shared with the nodes) or "object-store" (the input and outputs
  // travel through the S3 endpoint's store and presigned URLs; docs/slurm.md).
  std::string staging = "shared";
  std::string staging_bucket = "trainyard-staging";
  // The S3 endpoint's URL as the compute nodes reach it; empty: http://<s3_listen>, when that
  // names a host and a port.
  std::string staging_endpoint;
  int staging_url_margin_seconds = 24 * 3600;  // the URLs' margin for the time in Slurm's queue
  // How Slurm is reached: "commands" (sbatch, squeue, scancel) or "rest" (slurmrestd with a JWT:
  // rest_url, rest_user, and rest_token_file or jwt_key_file; docs/slurm.md).
  std::string transport = "commands";
  std::string rest_url;   // slurmrestd's base URL
  std::string rest_user;  // the Slurm user jobs are submitted as
  // The other Slurm users a sweep may name as its own (slurm.user), minted tokens for from
  // jwt_key_file; comma-separated, a list in the config file.
  std::vector<std::string> allowed_users;
  std::filesystem::path rest_token_file;  // that user's token, read again when it changes
  std::filesystem::path jwt_key_file;     // or the cluster's key, to mint short-lived tokens
  int jwt_lifespan_seconds = 600;         // of each minted token
  // How a job that names an image runs it on the node: "podman" (podman run in the batch
  // script) or "srun" (Slurm's OCI support, srun --container; the image is a bundle's path).
  std::string container_runtime = "podman";
  std::string container_network = "host";  // podman's --network on the node
  // Pin each sweep's image to the digest its registry serves (skopeo inspect on the server), so
  // that every node, requeue and retry runs the same image; false: each node's podman resolves
  // the tag itself.
  bool pin_images = true;
};

// Settings named http_* (config keys; TRAINYARD_HTTP_* variables; --http-* flags): the
// connection limits of every listener (the API, the S3 and SageMaker endpoints), each applied
// to each listener on its own (docs/security.md, "Connections").
struct HttpSettings {
  int max_connections = 10000;           // open connections in all
  int max_connections_per_client = 512;  // open connections of one remote address
  int max_requests_per_client = 128;     // requests of one remote address in handlers at once
  int header_timeout_seconds = 20;       // to send a whole request header
  int idle_timeout_seconds = 20;         // a connection without a request is closed
  int max_handler_threads = 1024;        // requests in handlers at once, all clients together
  int body_timeout_seconds = 60;         // a body without data for this long fails
  int body_min_rate = 1024;              // bytes/s a body must average past body_timeout
};

// Settings named webhook_* (config keys; TRAINYARD_WEBHOOK_* variables; --webhook-* flags):
// docs/webhooks.md.
struct WebhookSettings {
  bool allow_private = false;    // targets on loopback, private, link-local addresses
  int timeout_seconds = 10;      // one try's limit
  int first_retry_seconds = 30;  // the wait after the first failed try, doubling
  int max_retry_seconds = 3600;  // the longest wait between tries
  int retry_hours = 24;          // no try after this long
  int link_hours = 168;          // how long the download links in payloads work
};

struct ServerOptions {
  std::filesystem::path data_dir = "trainyard-data";
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string objects;   // storage URI; empty: file://<data_dir>/objects
  std::string metadata;  // metadata URL; empty: sqlite://<data_dir>/trainyard.db
  int max_running = 2;   // jobs at once, every executor together
  // Servers sharing one metadata store (docs/scale-out.md): this server's name among them, the
  // owner of the jobs it runs (empty: <hostname>:<data_dir>, the same across restarts), and
  // how long its lease on a job holds without renewal before another server takes the job over.
  std::string replica_id;
  int lease_seconds = 30;
  std::map<std::string, int> executor_limits;  // jobs at once on one executor ("local": 1)
  std::string public_url;  // how jobs reach the server; empty: http://<host>:<port>
  std::string token;       // the API token; empty: generated at first start
  bool no_auth = false;    // only on a loopback address
  std::chrono::seconds progress_interval{5};
  std::filesystem::path wrapper_path;  // empty: beside the trainyard binary
  std::filesystem::path web_dir;  // the built web UI (docs/web-ui.md); empty: BINARY_DIR/../web
  // The container executor ("container"): off while container_runtime is empty.
  std::string container_runtime;  // "podman" or "docker", found on PATH, checked at start
  std::string container_image;    // the image of a sweep that names none
  bool container_gpus = false;    // give every container all GPUs
  std::string container_cpus, container_memory;  // --cpus / --memory; empty: no limit
  // When a job's image is pulled: "always", "missing" (when not on this host) or "never".
  std::string container_pull = "missing";
  // The registries' credentials in the runtime's format (auth.json); empty: the runtime's
  // default. A path: the credentials never reach a command line or a log.
  std::filesystem::path container_auth_file;
  // Where ECR-form images (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG) are pulled from
  // instead: HOST[:PORT]; empty: as given.
  std::string container_ecr_registry;
  // ECR's API for the tokens of ECR-form images pulled as given (a VPC endpoint); empty:
  // AWS_ENDPOINT_URL_ECR, then AWS_ENDPOINT_URL, else https://api.ecr.REGION.amazonaws.com.
  std::string container_ecr_endpoint_url;
  // "shared" (the job root mounted at /opt/ml) or "object-store" (nothing mounted: the wrapper
  // in the container moves the input, outputs and checkpoint through presigned URLs of an s3://
  // object store, else of the S3 endpoint; docs/container.md).
  std::string container_staging = "shared";
  // The S3-compatible endpoint (docs/s3.md): off while s3_host is empty. It always checks
  // SigV4 signatures: with no key pair configured, one is generated at the first start and kept
  // in <data_dir>/s3-credentials.json, so it is never open, on any address.
  std::string s3_host;
  uint16_t s3_port = 0;
  std::string s3_access_key_id, s3_secret_access_key;  // both or neither
  SageMakerSettings sagemaker;
  SlurmSettings slurm;
  HttpSettings http;
  WebhookSettings webhook;
  LogOptions log;  // log_level, log_format
  // Host variables that jobs get beyond the allowlist (common/environment.h, docs/security.md):
  // --job-env-passthrough, job_env_passthrough, TRAINYARD_JOB_ENV_PASSTHROUGH. Never TRAINYARD_*,
  // AWS_* or a credential's name (CheckJobPassthroughName).
  std::vector<std::string> job_env_passthrough;
};

// What the command line gave; unset fields leave the file's and environment's values.
struct ServerFlags {
  std::string config_file;
  std::optional<std::string> data_dir, listen, objects, metadata, public_url, token;
  std::optional<int> max_running, progress_interval_seconds, lease_seconds;
  std::optional<std::string> replica_id;
  std::vector<std::string> executor_limits;      // NAME=N, repeatable
  std::vector<std::string> job_env_passthrough;  // NAME or NAME,NAME; repeatable
  std::optional<std::string> wrapper;
  std::optional<std::string> web_dir;
  std::optional<std::string> container_runtime, container_image, container_cpus, container_memory,
      container_pull, container_auth_file, container_ecr_registry, container_ecr_endpoint_url,
      container_staging;
  bool container_gpus = false;
  bool no_auth = false;
  std::optional<std::string> s3_listen;
  std::optional<std::string> log_level, log_format;
  std::map<std::string, std::string> sagemaker;  // "sagemaker_role_arn" -> value
  // ("slurm_partition", value) in order: --slurm-sbatch-arg repeats; --slurm gives ("slurm",
  // "true")
  std::vector<std::pair<std::string, std::string>> slurm;
  std::map<std::string, std::string> http;     // "http_idle_timeout" -> value
  std::map<std::string, std::string> webhook;  // "webhook_allow_private" -> value
};

// The sagemaker_* setting keys, each with its --flag form's help.
const std::vector<std::pair<std::string, std::string>>& SageMakerSettingKeys();
// The slurm and slurm_* setting keys, each with its --flag form's help (slurm's flag takes no
// value; slurm_sbatch_arg's repeats).
const std::vector<std::pair<std::string, std::string>>& SlurmSettingKeys();
// The http_* setting keys, each with its --flag form's help.
const std::vector<std::pair<std::string, std::string>>& HttpSettingKeys();
// The webhook_* setting keys, each with its --flag form's help (webhook_allow_private's flag
// takes no value).
const std::vector<std::pair<std::string, std::string>>& WebhookSettingKeys();
// A setting key's flag: "sagemaker_role_arn" -> "--sagemaker-role-arn".
std::string FlagOfSetting(const std::string& key);
// Sets the slurm or slurm_* setting `key` of `settings` from its text (any slurm_* key turns the
// executor on); InvalidArgument naming `where` (the flag, variable or config key) otherwise.
// `trainyard server` and `trainyard run` read their --slurm-* flags with it.
Status SetSlurmSetting(SlurmSettings& settings, const std::string& key, const std::string& value,
                       const std::string& where);

// InvalidArgument naming the flag, variable or config key and what is wrong with it (unknown
// config keys included). Reads TRAINYARD_DATA_DIR, TRAINYARD_LISTEN, TRAINYARD_OBJECTS,
// TRAINYARD_METADATA, TRAINYARD_MAX_RUNNING, TRAINYARD_EXECUTOR_LIMITS ("local=2,container=1"),
// TRAINYARD_PUBLIC_URL, TRAINYARD_TOKEN, TRAINYARD_CONTAINER_RUNTIME, TRAINYARD_CONTAINER_IMAGE,
// TRAINYARD_S3_LISTEN, TRAINYARD_S3_ACCESS_KEY_ID, TRAINYARD_S3_SECRET_ACCESS_KEY,
// TRAINYARD_WEB_DIR, TRAINYARD_LOG_LEVEL, TRAINYARD_LOG_FORMAT, and TRAINYARD_SAGEMAKER_*,
// TRAINYARD_SLURM_*, TRAINYARD_HTTP_* and TRAINYARD_WEBHOOK_* for each sagemaker_*, slurm_*,
// http_* and webhook_* key (TRAINYARD_SLURM=true for slurm).
Result<ServerOptions> LoadServerOptions(const ServerFlags& flags,
                                        const EnvironmentMap& environment);

// The options of one listener (`logger_name`: "api", "s3", "sagemaker") with `settings`'
// connection limits; the listener's own error format is for the caller to set.
server::HttpServerOptions ListenerOptions(const HttpSettings& settings, const std::string& host,
                                          uint16_t port, const std::string& logger_name);

// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:80" into host and port.
Status ParseListenAddress(const std::string& text, std::string& host, uint16_t& port);
bool IsLoopbackHost(const std::string& host);

}  // namespace trainyard::app
