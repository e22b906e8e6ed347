#include "app/server_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/environment.h"
#include "common/files.h"

namespace trainyard::app {
namespace {

using nlohmann::json;

Result<int> ParseInt(const std::string& text, const std::string& what, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return InvalidArgument(what + ": '" + text + "' is not an integer from " + std::to_string(min) +
                           " to " + std::to_string(max));
  }
  return value;
}

Status ParseBool(const std::string& value, const std::string& where, bool& out) {
  if (value != "true" && value != "false") return InvalidArgument(where + ": not true/false");
  out = value == "true";
  return Status::Ok();
}

Status SetSageMaker(SageMakerSettings& settings, const std::string& key, const std::string& value,
                    const std::string& where) {
  std::map<std::string, std::string*> strings = {
      {"sagemaker_role_arn", &settings.role_arn},
      {"sagemaker_bucket", &settings.bucket},
      {"sagemaker_prefix", &settings.prefix},
      {"sagemaker_image", &settings.image},
      {"sagemaker_instance_type", &settings.instance_type},
      {"sagemaker_region", &settings.region},
      {"sagemaker_endpoint_url", &settings.endpoint_url},
      {"sagemaker_logs_endpoint_url", &settings.logs_endpoint_url},
      {"sagemaker_s3_endpoint_url", &settings.s3_endpoint_url}};
  if (auto it = strings.find(key); it != strings.end()) {
    *it->second = value;
  } else if (key == "sagemaker_instance_count") {
    TY_ASSIGN_OR_RETURN(settings.instance_count, ParseInt(value, where, 1, 100));
  } else if (key == "sagemaker_volume_size_gb") {
    TY_ASSIGN_OR_RETURN(settings.volume_size_gb, ParseInt(value, where, 1, 16384));
  } else if (key == "sagemaker_checkpoints") {
    return ParseBool(value, where, settings.checkpoints);
  } else if (key == "sagemaker_poll_interval_ms") {
    TY_ASSIGN_OR_RETURN(int ms, ParseInt(value, where, 50, 600'000));
    settings.poll_interval = std::chrono::milliseconds(ms);
  } else if (key == "sagemaker_listen") {
    if (value.empty()) {
      settings.listen_host.clear();
      return Status::Ok();
    }
    return ParseListenAddress(value, settings.listen_host, settings.listen_port).WithContext(where);
  } else if (key == "sagemaker_endpoint_executor") {
    if (value != "local" && value != "container" && value != "slurm")
      return InvalidArgument(where + ": '" + value + "' is not local, container or slurm");
    settings.endpoint_executor = value;
  } else {
    return InvalidArgument(where + ": unknown setting");
  }
  return Status::Ok();
}

Status SetHttp(HttpSettings& settings, const std::string& key, const std::string& value,
               const std::string& where) {
  if (key == "http_max_connections") {
    TY_ASSIGN_OR_RETURN(settings.max_connections, ParseInt(value, where, 1, 1'000'000));
  } else if (key == "http_max_connections_per_client") {
    TY_ASSIGN_OR_RETURN(settings.max_connections_per_client, ParseInt(value, where, 1, 1'000'000));
  } else if (key == "http_max_requests_per_client") {
    TY_ASSIGN_OR_RETURN(settings.max_requests_per_client, ParseInt(value, where, 1, 1'000'000));
  } else if (key == "http_header_timeout") {
    TY_ASSIGN_OR_RETURN(settings.header_timeout_seconds, ParseInt(value, where, 1, 3600));
  } else if (key == "http_idle_timeout") {
    TY_ASSIGN_OR_RETURN(settings.idle_timeout_seconds, ParseInt(value, where, 1, 3600));
  } else if (key == "http_max_handler_threads") {
    TY_ASSIGN_OR_RETURN(settings.max_handler_threads, ParseInt(value, where, 8, 100'000));
  } else if (key == "http_body_timeout") {
    TY_ASSIGN_OR_RETURN(settings.body_timeout_seconds, ParseInt(value, where, 1, 3600));
  } else if (key == "http_body_min_rate") {
    TY_ASSIGN_OR_RETURN(settings.body_min_rate, ParseInt(value, where, 0, 1'000'000'000));
  } else {
    return InvalidArgument(where + ": unknown setting");
  }
  return Status::Ok();
}

Status SetWebhook(WebhookSettings& settings, const std::string& key, const std::string& value,
                  const std::string& where) {
  if (key == "webhook_allow_private") return ParseBool(value, where, settings.allow_private);
  if (key == "webhook_timeout") {
    TY_ASSIGN_OR_RETURN(settings.timeout_seconds, ParseInt(value, where, 1, 300));
  } else if (key == "webhook_first_retry") {
    TY_ASSIGN_OR_RETURN(settings.first_retry_seconds, ParseInt(value, where, 1, 86'400));
  } else if (key == "webhook_max_retry") {
    TY_ASSIGN_OR_RETURN(settings.max_retry_seconds, ParseInt(value, where, 1, 86'400));
  } else if (key == "webhook_retry_hours") {
    TY_ASSIGN_OR_RETURN(settings.retry_hours, ParseInt(value, where, 1, 24 * 30));
  } else if (key == "webhook_link_hours") {
    TY_ASSIGN_OR_RETURN(settings.link_hours, ParseInt(value, where, 1, 24 * 30));
  } else {
    return InvalidArgument(where + ": unknown setting");
  }
  return Status::Ok();
}

}  // namespace

Status SetSlurmSetting(SlurmSettings& settings, const std::string& key, const std::string& value,
                       const std::string& where) {
  if (key == "slurm") return ParseBool(value, where, settings.enabled);
  // Any slurm_* setting turns the executor on.
  settings.enabled = true;
  if (key == "slurm_partition") {
    settings.partition = value;
  } else if (key == "slurm_account") {
    settings.account = value;
  } else if (key == "slurm_qos") {
    settings.qos = value;
  } else if (key == "slurm_sbatch_arg") {
    if (value.rfind("-", 0) != 0) {
      return InvalidArgument(where + ": '" + value + "' is not an sbatch option (--name=value)");
    }
    settings.sbatch_args.push_back(value);
  } else if (key == "slurm_work_dir") {
    if (value.empty()) return InvalidArgument(where + ": must not be empty");
    settings.work_dir = value;
  } else if (key == "slurm_gpu_option") {
    if (value != "gres" && value != "gpus") {
      return InvalidArgument(where + ": '" + value + "' is not gres or gpus");
    }
    settings.gpu_option = value;
  } else if (key == "slurm_bin_dir") {
    settings.bin_dir = value;
  } else if (key == "slurm_poll_interval_ms") {
    TY_ASSIGN_OR_RETURN(settings.poll_interval_ms, ParseInt(value, where, 50, 600'000));
  } else if (key == "slurm_staging") {
    if (value != "shared" && value != "object-store") {
      return InvalidArgument(where + ": '" + value + "' is not shared or object-store");
    }
    settings.staging = value;
  } else if (key == "slurm_staging_bucket") {
    if (value.empty()) return InvalidArgument(where + ": must not be empty");
    settings.staging_bucket = value;
  } else if (key == "slurm_staging_endpoint") {
    if (!value.starts_with("http://") && !value.starts_with("https://")) {
      return InvalidArgument(where + ": '" + value + "' is not an http:// or https:// URL");
    }
    settings.staging_endpoint = value;
  } else if (key == "slurm_staging_url_margin_seconds") {
    TY_ASSIGN_OR_RETURN(settings.staging_url_margin_seconds,
                        ParseInt(value, where, 60, 6 * 24 * 3600));
  } else if (key == "slurm_transport") {
    if (value != "commands" && value != "rest") {
      return InvalidArgument(where + ": '" + value + "' is not commands or rest");
    }
    settings.transport = value;
  } else if (key == "slurm_rest_url") {
    if (!value.starts_with("http://") && !value.starts_with("https://")) {
      return InvalidArgument(where + ": '" + value + "' is not an http:// or https:// URL");
    }
    settings.rest_url = value;
  } else if (key == "slurm_rest_user") {
    if (value.empty()) return InvalidArgument(where + ": must not be empty");
    settings.rest_user = value;
  } else if (key == "slurm_allowed_users") {
    std::istringstream names(value);
    for (std::string name; std::getline(names, name, ',');) {
      if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos) {
        return InvalidArgument(where + ": '" + value + "' is not a comma-separated list of users");
      }
      settings.allowed_users.push_back(name);
    }
  } else if (key == "slurm_rest_token_file") {
    if (value.empty()) return InvalidArgument(where + ": must not be empty");
    settings.rest_token_file = value;
  } else if (key == "slurm_jwt_key_file") {
    if (value.empty()) return InvalidArgument(where + ": must not be empty");
    settings.jwt_key_file = value;
  } else if (key == "slurm_jwt_lifespan_seconds") {
    TY_ASSIGN_OR_RETURN(settings.jwt_lifespan_seconds, ParseInt(value, where, 60, 24 * 3600));
  } else if (key == "slurm_container_runtime") {
    if (value != "podman" && value != "srun") {
      return InvalidArgument(where + ": '" + value + "' is not podman or srun");
    }
    settings.container_runtime = value;
  } else if (key == "slurm_container_network") {
    settings.container_network = value;
  } else if (key == "slurm_pin_images") {
    return ParseBool(value, where, settings.pin_images);
  } else {
    return InvalidArgument(where + ": unknown setting");
  }
  return Status::Ok();
}

namespace {

struct Setters {
  ServerOptions& options;
  Status Set(const std::string& key, const std::string& value, const std::string& where) {
    if (key.starts_with("sagemaker_")) {
      return SetSageMaker(options.sagemaker, key, value, where);
    } else if (key == "slurm" || key.starts_with("slurm_")) {
      return SetSlurmSetting(options.slurm, key, value, where);
    } else if (key.starts_with("http_")) {
      return SetHttp(options.http, key, value, where);
    } else if (key.starts_with("webhook_")) {
      return SetWebhook(options.webhook, key, value, where);
    } else if (key == "data_dir") {
      if (value.empty()) return InvalidArgument(where + ": must not be empty");
      options.data_dir = value;
    } else if (key == "listen") {
      return ParseListenAddress(value, options.host, options.port).WithContext(where);
    } else if (key == "objects") {
      options.objects = value;
    } else if (key == "metadata") {
      options.metadata = value;
    } else if (key == "max_running") {
      TY_ASSIGN_OR_RETURN(options.max_running, ParseInt(value, where, 1, 10000));
    } else if (key == "replica_id") {
      if (value.empty() || value.size() > 200) {
        return InvalidArgument(where + ": must be 1 to 200 characters");
      }
      for (char c : value) {
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
          return InvalidArgument(where + ": '" + value +
                                 "' has a space or a control character; use letters, digits "
                                 "and punctuation");
        }
      }
      options.replica_id = value;
    } else if (key == "lease_seconds") {
      TY_ASSIGN_OR_RETURN(options.lease_seconds, ParseInt(value, where, 1, 3600));
    } else if (key == "executor_limits") {
      // "local=2,container=1" (the config file's object arrives in this form too)
      size_t start = 0;
      while (start < value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        std::string entry = value.substr(start, end - start);
        start = end + 1;
        size_t equals = entry.find('=');
        if (equals == std::string::npos || equals == 0) {
          return InvalidArgument(where + ": '" + entry + "' is not EXECUTOR=N");
        }
        TY_ASSIGN_OR_RETURN(options.executor_limits[entry.substr(0, equals)],
                            ParseInt(entry.substr(equals + 1), where, 1, 10000));
      }
    } else if (key == "public_url") {
      options.public_url = value;
    } else if (key == "token") {
      options.token = value;
    } else if (key == "progress_interval_seconds") {
      TY_ASSIGN_OR_RETURN(int seconds, ParseInt(value, where, 1, 3600));
      options.progress_interval = std::chrono::seconds(seconds);
    } else if (key == "wrapper") {
      options.wrapper_path = value;
    } else if (key == "web_dir") {
      options.web_dir = value;
    } else if (key == "container_runtime") {
      if (value != "podman" && value != "docker" && !value.empty()) {
        return InvalidArgument(where + ": '" + value + "' is not podman or docker");
      }
      options.container_runtime = value;
    } else if (key == "container_image") {
      options.container_image = value;
    } else if (key == "container_gpus") {
      return ParseBool(value, where, options.container_gpus);
    } else if (key == "container_cpus") {
      options.container_cpus = value;
    } else if (key == "container_memory") {
      options.container_memory = value;
    } else if (key == "container_pull") {
      if (value != "always" && value != "missing" && value != "never") {
        return InvalidArgument(where + ": '" + value +
                               "' is no pull policy (always, missing or never)");
      }
      options.container_pull = value;
    } else if (key == "container_auth_file") {
      options.container_auth_file = value;
    } else if (key == "container_ecr_registry") {
      if (value.find_first_of("/@ ") != std::string::npos) {
        return InvalidArgument(where + ": '" + value + "' is no registry host (HOST or HOST:PORT)");
      }
      options.container_ecr_registry = value;
    } else if (key == "container_ecr_endpoint_url") {
      if (!value.empty() && value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
        return InvalidArgument(where + ": '" + value +
                               "' is no endpoint URL (http://HOST[:PORT] or https://HOST)");
      }
      options.container_ecr_endpoint_url = value;
    } else if (key == "container_staging") {
      if (value != "shared" && value != "object-store") {
        return InvalidArgument(where + ": '" + value + "' is not shared or object-store");
      }
      options.container_staging = value;
    } else if (key == "s3_listen") {
      if (value.empty()) {
        options.s3_host.clear();  // off
        return Status::Ok();
      }
      return ParseListenAddress(value, options.s3_host, options.s3_port).WithContext(where);
    } else if (key == "s3_access_key_id") {
      options.s3_access_key_id = value;
    } else if (key == "s3_secret_access_key") {
      options.s3_secret_access_key = value;
    } else if (key == "job_env_passthrough") {
      // NAME,NAME (the config file's array arrives in this form too)
      size_t start = 0;
      while (start <= value.size()) {
        size_t end = value.find(',', start);
        if (end == std::string::npos) end = value.size();
        std::string name = value.substr(start, end - start);
        start = end + 1;
        if (name.empty()) continue;
        TY_RETURN_IF_ERROR(CheckJobPassthroughName(name).WithContext(where));
        auto& names = options.job_env_passthrough;
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      }
    } else if (key == "log_level") {
      options.log.level = value;
      return CheckLogOptions({.level = value}).WithContext(where);
    } else if (key == "log_format") {
      options.log.format = value;
      return CheckLogOptions({.format = value}).WithContext(where);
    } else {
      return InvalidArgument(where +
                             ": unknown setting (known: data_dir, listen, objects, "
                             "metadata, max_running, replica_id, lease_seconds, executor_limits, "
                             "public_url, token, progress_interval_seconds, wrapper, web_dir, "
                             "container_runtime, container_image, container_gpus, container_cpus, "
                             "container_memory, container_pull, container_auth_file, "
                             "container_ecr_registry, container_ecr_endpoint_url, "
                             "container_staging, s3_listen, "
                             "s3_access_key_id, "
                             "s3_secret_access_key, log_level, log_format, "
                             "job_env_passthrough, http_*, sagemaker_*, slurm, slurm_*, "
                             "webhook_*: see "
                             "--help)");
    }
    return Status::Ok();
  }
};

}  // namespace

const std::vector<std::pair<std::string, std::string>>& SlurmSettingKeys() {
  static const std::vector<std::pair<std::string, std::string>> kKeys = {
      {"slurm", "turn the slurm executor on (docs/slurm.md); any --slurm-* setting does too"},
      {"slurm_partition", "Slurm partition of every job (default: the cluster's)"},
      {"slurm_account", "Slurm account of every job (default: the user's)"},
      {"slurm_qos", "Slurm QoS of every job (default: the account's)"},
      {"slurm_sbatch_arg",
       "one more sbatch option for every job, e.g. --constraint=a100 (repeatable)"},
      {"slurm_work_dir",
       "directory of the job roots, shared with the compute nodes at the same path (default "
       "DATA_DIR/slurm-jobs)"},
      {"slurm_gpu_option", "how GPUs are asked for: gres (--gres=gpu:N, default) or gpus"},
      {"slurm_bin_dir", "directory of sbatch, squeue and scancel (default: found on PATH)"},
      {"slurm_poll_interval_ms", "how often squeue is asked about the jobs (default 1000)"},
      {"slurm_staging",
       "how jobs get their input and return their outputs: shared (the work dir is shared with "
       "the nodes; default) or object-store (through presigned URLs of an s3:// object store, "
       "else of the S3 endpoint)"},
      {"slurm_staging_bucket",
       "the S3 endpoint's bucket of object-store staging (default trainyard-staging; an "
       "s3:// object store keeps them under staging/ instead)"},
      {"slurm_staging_endpoint",
       "the URL of the s3:// object store, else of the S3 endpoint, as the compute nodes reach "
       "it (default: the store's own endpoint, else http://<s3_listen>)"},
      {"slurm_staging_url_margin_seconds",
       "how much longer than max runtime + stop grace the staging URLs stay valid, for the time "
       "in Slurm's queue (default 86400)"},
      {"slurm_transport",
       "how Slurm is reached: commands (sbatch, squeue, scancel; default) or rest (slurmrestd "
       "with a JWT: needs slurm_rest_url, slurm_rest_user and a token file or the JWT key)"},
      {"slurm_rest_url", "slurmrestd's URL, e.g. http://slurm-login:6820 (slurm_transport rest)"},
      {"slurm_rest_user",
       "the Slurm user a job is submitted as unless its sweep names its own (slurm_transport "
       "rest)"},
      {"slurm_allowed_users",
       "the other Slurm users a sweep may name as its own (slurm.user), comma-separated; needs "
       "slurm_jwt_key_file (slurm_transport rest)"},
      {"slurm_rest_token_file",
       "a file holding that user's JWT (scontrol token; SLURM_JWT=... as printed), read again "
       "whenever it changes; never logged"},
      {"slurm_jwt_key_file",
       "instead of a token file: the cluster's HS256 key (AuthAltParameters jwt_key), from "
       "which short-lived tokens are minted"},
      {"slurm_jwt_lifespan_seconds",
       "how long each minted token is valid (default 600; renewed at half of it)"},
      {"slurm_container_runtime",
       "how a job that names an image runs on the node: podman (podman run in the batch "
       "script; default) or srun (Slurm's OCI support, srun --container: the image is an OCI "
       "bundle's path on the nodes)"},
      {"slurm_container_network", "podman's --network for jobs with an image (default host)"},
      {"slurm_pin_images",
       "true (default): run each sweep's image by the digest its registry served for the "
       "sweep's first job (skopeo inspect on the server), on every node, requeue and retry; "
       "false: each node's podman resolves the tag itself"}};
  return kKeys;
}

const std::vector<std::pair<std::string, std::string>>& SageMakerSettingKeys() {
  static const std::vector<std::pair<std::string, std::string>> kKeys = {
      {"sagemaker_role_arn",
       "ARN of the SageMaker training role; turns the sagemaker executor on "
       "(`trainyard aws iam-policy` prints its policy)"},
      {"sagemaker_bucket", "S3 bucket of the jobs' inputs and outputs"},
      {"sagemaker_prefix", "key prefix in that bucket (default trainyard)"},
      {"sagemaker_image", "training image of a sweep that names none (an ECR URI)"},
      {"sagemaker_instance_type", "default instance type (ml.m5.large)"},
      {"sagemaker_instance_count", "default instance count (1)"},
      {"sagemaker_volume_size_gb", "default volume size in GB (30)"},
      {"sagemaker_region", "AWS region (default: AWS_REGION, the profile, us-east-1)"},
      {"sagemaker_endpoint_url", "SageMaker endpoint override (a compatible service)"},
      {"sagemaker_logs_endpoint_url",
       "CloudWatch Logs endpoint override (default: the "
       "SageMaker override, when one is set)"},
      {"sagemaker_s3_endpoint_url", "S3 endpoint override of the executor's bucket"},
      {"sagemaker_checkpoints", "true: sync /opt/ml/checkpoints with S3 (CheckpointConfig)"},
      {"sagemaker_poll_interval_ms", "first DescribeTrainingJob wait after a change (2000)"},
      {"sagemaker_listen",
       "HOST:PORT of the SageMaker-compatible endpoint (off by default; "
       "same keys as the S3 endpoint)"},
      {"sagemaker_endpoint_executor",
       "what runs the endpoint's jobs: local (default), container (needs "
       "--container-runtime) or slurm (needs --slurm)"}};
  return kKeys;
}

const std::vector<std::pair<std::string, std::string>>& WebhookSettingKeys() {
  static const std::vector<std::pair<std::string, std::string>> kKeys = {
      {"webhook_allow_private",
       "allow webhook targets on loopback, private and link-local addresses (refused by default: "
       "docs/webhooks.md)"},
      {"webhook_timeout", "seconds one webhook try may take (default 10)"},
      {"webhook_first_retry",
       "seconds before a failed webhook delivery is tried again, doubling (default 30)"},
      {"webhook_max_retry", "the longest wait between two tries, in seconds (default 3600)"},
      {"webhook_retry_hours", "hours a failing delivery is retried before it fails (default 24)"},
      {"webhook_link_hours", "hours the download links in webhook payloads work (default 168)"}};
  return kKeys;
}

const std::vector<std::pair<std::string, std::string>>& HttpSettingKeys() {
  static const std::vector<std::pair<std::string, std::string>> kKeys = {
      {"http_max_connections",
       "open connections of each listener in all; beyond: 503 (default 10000; each takes a "
       "file descriptor)"},
      {"http_max_connections_per_client",
       "open connections of one client address on each listener; beyond: 503 for that client "
       "(default 512; behind a proxy every client has the proxy's address)"},
      {"http_max_requests_per_client",
       "requests of one client address in handlers at once on each listener (an upload holds "
       "one until its body is in); beyond: 503 for that client (default 128)"},
      {"http_header_timeout",
       "seconds a client has to send a whole request header; past it: 408 (default 20)"},
      {"http_idle_timeout",
       "seconds a connection may stay open without a request (default 20, as S3)"},
      {"http_max_handler_threads",
       "requests in handlers at once on each listener, all clients together (each holds a "
       "thread while its body is read and its answer written); beyond: 503 (default 1024)"},
      {"http_body_timeout",
       "seconds a request body may go without data before the request fails (default 60)"},
      {"http_body_min_rate",
       "bytes per second a request body must average: it may take http_body_timeout plus a "
       "second per this many bytes, no longer; past it: 408 (default 1024; 0: no minimum)"}};
  return kKeys;
}

server::HttpServerOptions ListenerOptions(const HttpSettings& settings, const std::string& host,
                                          uint16_t port, const std::string& logger_name) {
  server::HttpServerOptions http;
  http.host = host;
  http.port = port;
  http.logger_name = logger_name;
  http.max_connections = static_cast<size_t>(settings.max_connections);
  http.max_connections_per_client = static_cast<size_t>(settings.max_connections_per_client);
  http.max_requests_per_client = static_cast<size_t>(settings.max_requests_per_client);
  http.header_timeout = std::chrono::seconds(settings.header_timeout_seconds);
  http.idle_timeout = std::chrono::seconds(settings.idle_timeout_seconds);
  http.max_handler_threads = static_cast<size_t>(settings.max_handler_threads);
  http.body_read_timeout = std::chrono::seconds(settings.body_timeout_seconds);
  http.body_min_rate = static_cast<uint64_t>(settings.body_min_rate);
  return http;
}

std::string FlagOfSetting(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Status ParseListenAddress(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:8080)");
  }
  std::string parsed_host = text.substr(0, colon);
  if (parsed_host.front() == '[' && parsed_host.back() == ']') {
    parsed_host = parsed_host.substr(1, parsed_host.size() - 2);
  }
  TY_ASSIGN_OR_RETURN(int parsed_port, ParseInt(text.substr(colon + 1), "port", 0, 65535));
  host = parsed_host;
  port = static_cast<uint16_t>(parsed_port);
  return Status::Ok();
}

Result<ServerOptions> LoadServerOptions(const ServerFlags& flags,
                                        const EnvironmentMap& environment) {
  ServerOptions options;
  Setters setters{options};
  if (!flags.config_file.empty()) {
    TY_ASSIGN_OR_RETURN(std::string text, ReadFile(flags.config_file));
    json config;
    try {
      config = json::parse(text);
    } catch (const json::parse_error& error) {
      return InvalidArgument("--config '" + flags.config_file + "': " + error.what());
    }
    if (!config.is_object()) {
      return InvalidArgument("--config '" + flags.config_file + "': must be a JSON object");
    }
    for (const auto& [key, value] : config.items()) {
      std::string where = "--config '" + flags.config_file + "': " + key;
      std::string text_value = value.is_string() ? value.get<std::string>() : value.dump();
      if ((key == "job_env_passthrough" || key == "slurm_allowed_users") && value.is_array()) {
        text_value.clear();
        for (const json& name : value) {
          if (!name.is_string()) return InvalidArgument(where + ": must list names");
          text_value += (text_value.empty() ? "" : ",") + name.get<std::string>();
        }
      }
      if (key == "slurm_sbatch_arg" && value.is_array()) {
        for (const json& argument : value) {
          if (!argument.is_string()) return InvalidArgument(where + ": must list sbatch options");
          TY_RETURN_IF_ERROR(setters.Set(key, argument.get<std::string>(), where));
        }
        continue;
      }
      if (key == "executor_limits" && value.is_object()) {
        text_value.clear();
        for (const auto& [executor, limit] : value.items()) {
          text_value += (text_value.empty() ? "" : ",") + executor + "=" + limit.dump();
        }
      }
      TY_RETURN_IF_ERROR(setters.Set(key, text_value, where));
    }
  }
  static const std::pair<const char*, const char*> kVariables[] = {
      {"TRAINYARD_DATA_DIR", "data_dir"},
      {"TRAINYARD_LISTEN", "listen"},
      {"TRAINYARD_OBJECTS", "objects"},
      {"TRAINYARD_METADATA", "metadata"},
      {"TRAINYARD_MAX_RUNNING", "max_running"},
      {"TRAINYARD_REPLICA_ID", "replica_id"},
      {"TRAINYARD_LEASE_SECONDS", "lease_seconds"},
      {"TRAINYARD_EXECUTOR_LIMITS", "executor_limits"},
      {"TRAINYARD_PUBLIC_URL", "public_url"},
      {"TRAINYARD_TOKEN", "token"},
      {"TRAINYARD_CONTAINER_RUNTIME", "container_runtime"},
      {"TRAINYARD_CONTAINER_IMAGE", "container_image"},
      {"TRAINYARD_CONTAINER_PULL", "container_pull"},
      {"TRAINYARD_CONTAINER_AUTH_FILE", "container_auth_file"},
      {"TRAINYARD_CONTAINER_ECR_REGISTRY", "container_ecr_registry"},
      {"TRAINYARD_CONTAINER_STAGING", "container_staging"},
      {"TRAINYARD_S3_LISTEN", "s3_listen"},
      {"TRAINYARD_S3_ACCESS_KEY_ID", "s3_access_key_id"},
      {"TRAINYARD_S3_SECRET_ACCESS_KEY", "s3_secret_access_key"},
      {"TRAINYARD_WEB_DIR", "web_dir"},
      {"TRAINYARD_LOG_LEVEL", "log_level"},
      {"TRAINYARD_LOG_FORMAT", "log_format"},
      {"TRAINYARD_JOB_ENV_PASSTHROUGH", "job_env_passthrough"}};
  for (const auto& [variable, key] : kVariables) {
    auto it = environment.find(variable);
    if (it != environment.end() && !it->second.empty()) {
      TY_RETURN_IF_ERROR(setters.Set(key, it->second, std::string("$") + variable));
    }
  }
  for (const auto* keys :
       {&SageMakerSettingKeys(), &SlurmSettingKeys(), &HttpSettingKeys(), &WebhookSettingKeys()}) {
    for (const auto& [key, help] : *keys) {
      std::string variable = "TRAINYARD_" + key;
      for (char& c : variable) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto it = environment.find(variable);
      if (it == environment.end() || it->second.empty()) continue;
      if (key == "slurm_sbatch_arg") {
        // Several options, separated by whitespace.
        std::istringstream arguments(it->second);
        for (std::string argument; arguments >> argument;) {
          TY_RETURN_IF_ERROR(setters.Set(key, argument, "$" + variable));
        }
        continue;
      }
      TY_RETURN_IF_ERROR(setters.Set(key, it->second, "$" + variable));
    }
  }
  auto set_flag = [&](const std::optional<std::string>& value, const char* key,
                      const char* flag) -> Status {
    return value ? setters.Set(key, *value, flag) : Status::Ok();
  };
  TY_RETURN_IF_ERROR(set_flag(flags.data_dir, "data_dir", "--data-dir"));
  TY_RETURN_IF_ERROR(set_flag(flags.listen, "listen", "--listen"));
  TY_RETURN_IF_ERROR(set_flag(flags.objects, "objects", "--objects"));
  TY_RETURN_IF_ERROR(set_flag(flags.metadata, "metadata", "--metadata"));
  TY_RETURN_IF_ERROR(set_flag(flags.public_url, "public_url", "--public-url"));
  TY_RETURN_IF_ERROR(set_flag(flags.replica_id, "replica_id", "--replica-id"));
  if (flags.lease_seconds) {
    TY_RETURN_IF_ERROR(
        setters.Set("lease_seconds", std::to_string(*flags.lease_seconds), "--lease-seconds"));
  }
  TY_RETURN_IF_ERROR(set_flag(flags.token, "token", "--token"));
  TY_RETURN_IF_ERROR(set_flag(flags.wrapper, "wrapper", "--wrapper"));
  TY_RETURN_IF_ERROR(set_flag(flags.web_dir, "web_dir", "--web-dir"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_runtime, "container_runtime", "--container-runtime"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_image, "container_image", "--container-image"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_cpus, "container_cpus", "--container-cpus"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_memory, "container_memory", "--container-memory"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_pull, "container_pull", "--container-pull"));
  TY_RETURN_IF_ERROR(
      set_flag(flags.container_auth_file, "container_auth_file", "--container-auth-file"));
  TY_RETURN_IF_ERROR(
      set_flag(flags.container_ecr_registry, "container_ecr_registry", "--container-ecr-registry"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_staging, "container_staging", "--container-staging"));
  TY_RETURN_IF_ERROR(set_flag(flags.container_ecr_endpoint_url, "container_ecr_endpoint_url",
                              "--container-ecr-endpoint-url"));
  TY_RETURN_IF_ERROR(set_flag(flags.s3_listen, "s3_listen", "--s3-listen"));
  TY_RETURN_IF_ERROR(set_flag(flags.log_level, "log_level", "--log-level"));
  TY_RETURN_IF_ERROR(set_flag(flags.log_format, "log_format", "--log-format"));
  for (const auto& [key, value] : flags.sagemaker) {
    TY_RETURN_IF_ERROR(setters.Set(key, value, FlagOfSetting(key)));
  }
  for (const auto& [key, value] : flags.slurm) {
    TY_RETURN_IF_ERROR(setters.Set(key, value, FlagOfSetting(key)));
  }
  for (const auto& [key, value] : flags.http) {
    TY_RETURN_IF_ERROR(setters.Set(key, value, FlagOfSetting(key)));
  }
  for (const auto& [key, value] : flags.webhook) {
    TY_RETURN_IF_ERROR(setters.Set(key, value, FlagOfSetting(key)));
  }
  if (options.webhook.max_retry_seconds < options.webhook.first_retry_seconds) {
    return InvalidArgument("webhook_max_retry (" +
                           std::to_string(options.webhook.max_retry_seconds) +
                           " s) must not be below webhook_first_retry (" +
                           std::to_string(options.webhook.first_retry_seconds) + " s)");
  }
  if (flags.container_gpus) options.container_gpus = true;
  if (flags.max_running) {
    TY_RETURN_IF_ERROR(
        setters.Set("max_running", std::to_string(*flags.max_running), "--max-running"));
  }
  for (const std::string& names : flags.job_env_passthrough) {
    TY_RETURN_IF_ERROR(setters.Set("job_env_passthrough", names, "--job-env-passthrough"));
  }
  for (const std::string& limit : flags.executor_limits) {
    TY_RETURN_IF_ERROR(setters.Set("executor_limits", limit, "--executor-limit"));
  }
  if (flags.progress_interval_seconds) {
    TY_RETURN_IF_ERROR(setters.Set("progress_interval_seconds",
                                   std::to_string(*flags.progress_interval_seconds),
                                   "--progress-interval"));
  }
  options.no_auth = flags.no_auth;
  if (options.no_auth && !IsLoopbackHost(options.host)) {
    return InvalidArgument("--no-auth is refused on '" + options.host +
                           "': without authentication the server listens only on a loopback "
                           "address (127.0.0.1, ::1)");
  }
  if (options.no_auth && !options.token.empty()) {
    return InvalidArgument("--no-auth and a token cannot be combined");
  }
  // --no-auth is about the REST API only: the S3 endpoint always checks signatures.
  if (options.s3_access_key_id.empty() != options.s3_secret_access_key.empty()) {
    return InvalidArgument(
        std::string("s3_access_key_id and s3_secret_access_key (TRAINYARD_S3_ACCESS_KEY_ID, ") +
        "TRAINYARD_S3_SECRET_ACCESS_KEY) must be set together; only " +
        (options.s3_access_key_id.empty() ? "the secret" : "the access key id") + " is set");
  }
  return options;
}

}  // namespace trainyard::app
