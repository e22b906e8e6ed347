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
#include "common/status.h"

namespace trainyard::app {

struct ServerOptions {
  std::filesystem::path data_dir = "trainyard-data";
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string objects;   // storage URI; empty: file://<data_dir>/objects
  std::string metadata;  // metadata URL; empty: sqlite://<data_dir>/trainyard.db
  int max_running = 2;   // jobs at once, every executor together
  std::map<std::string, int> executor_limits;  // jobs at once on one executor ("local": 1)
  std::string public_url;  // how jobs reach the server; empty: http://<host>:<port>
  std::string token;       // the API token; empty: generated at first start
  bool no_auth = false;    // only on a loopback address
  std::chrono::seconds progress_interval{5};
  std::filesystem::path wrapper_path;  // empty: beside the trainyard binary
  // The container executor ("container"): off while container_runtime is empty.
  std::string container_runtime;  // "podman" or "docker", found on PATH, checked at start
  std::string container_image;    // the image of a sweep that names none
  bool container_gpus = false;    // give every container all GPUs
  std::string container_cpus, container_memory;  // --cpus / --memory; empty: no limit
  // The S3-compatible endpoint (docs/s3.md): off while s3_host is empty. It always checks
  // SigV4 signatures: with no key pair configured, one is generated at the first start and kept
  // in <data_dir>/s3-credentials.json, so it is never open, on any address.
  std::string s3_host;
  uint16_t s3_port = 0;
  std::string s3_access_key_id, s3_secret_access_key;  // both or neither
};

// What the command line gave; unset fields leave the file's and environment's values.
struct ServerFlags {
  std::string config_file;
  std::optional<std::string> data_dir, listen, objects, metadata, public_url, token;
  std::optional<int> max_running, progress_interval_seconds;
  std::vector<std::string> executor_limits;  // NAME=N, repeatable
  std::optional<std::string> wrapper;
  std::optional<std::string> container_runtime, container_image, container_cpus, container_memory;
  bool container_gpus = false;
  bool no_auth = false;
  std::optional<std::string> s3_listen;
};

// InvalidArgument naming the flag, variable or config key and what is wrong with it (unknown
// config keys included). Reads TRAINYARD_DATA_DIR, TRAINYARD_LISTEN, TRAINYARD_OBJECTS,
// TRAINYARD_METADATA, TRAINYARD_MAX_RUNNING, TRAINYARD_EXECUTOR_LIMITS ("local=2,container=1"),
// TRAINYARD_PUBLIC_URL, TRAINYARD_TOKEN, TRAINYARD_CONTAINER_RUNTIME, TRAINYARD_CONTAINER_IMAGE,
// TRAINYARD_S3_LISTEN, TRAINYARD_S3_ACCESS_KEY_ID, TRAINYARD_S3_SECRET_ACCESS_KEY.
Result<ServerOptions> LoadServerOptions(const ServerFlags& flags,
                                        const EnvironmentMap& environment);

// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:80" into host and port.
Status ParseListenAddress(const std::string& text, std::string& host, uint16_t& port);
bool IsLoopbackHost(const std::string& host);

}  // namespace trainyard::app
