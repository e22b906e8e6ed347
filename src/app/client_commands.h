// The client side of `trainyard`: the `dataset`, `sweep`, `job` and `webhook` commands, which talk
// to a `trainyard server` over its REST API (docs/api.md) through client::ApiClient.
//
// cli.cc adds them to its CLI11 app (AddClientCommands) before parsing and, after parsing, asks
// RunClientCommands to run whichever of them was chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::app {

// Options every client command takes. Empty server/token: $TRAINYARD_URL / $TRAINYARD_TOKEN,
// then the default URL.
struct ClientConnectionFlags {
  std::string server;
  std::string token;
  std::string output = "table";  // table | json
};

struct ClientDatasetFlags {
  std::string file, kind, name, sha256;
  std::string id;
  std::string output_file;  // -o of `dataset download`
};

// `sweep create` and the other sweep commands. 0 means "not given" for the numbers.
struct ClientSweepFlags {
  std::string file;  // --file sweep.json: the body, which the other flags override
  std::string name, executor, command, image, objective, idempotency_key;
  std::string slurm_user;  // --slurm-user: the sweep's own Slurm user (slurm executor)
  std::string train, eval, pretrained, config;
  std::vector<std::string> channels, hyperparameters, params, environment;
  int64_t max_parallel = 0;
  int64_t max_runtime_seconds = 0;
  // A search (docs/search.md): --strategy, --max-jobs, --random-seed, hyperband's
  // --resource NAME=MIN..MAX and --eta, and --early-stopping (any strategy); 0 / -1 / "": not
  // given.
  std::string strategy, resource, early_stopping;
  int64_t max_jobs = 0;
  int64_t random_seed = -1;
  int64_t eta = 0;
  std::string id;
  bool wait = false;           // `sweep create --wait`
  double timeout_seconds = 0;  // --timeout of `sweep wait` and `sweep create --wait`; 0: none
};

struct ClientJobFlags {
  std::string name;
  std::string sweep, status;
  int64_t limit = 0;  // 0: every page
  bool follow = false;
  std::string artifact;
  std::string output_file;
};

struct ClientWebhookFlags {
  std::string id, url, secret, format;
  std::vector<std::string> events;
  std::string delivery_id;
  int64_t limit = 0;  // `webhook deliveries`: 0 is the server's default
};

// Everything the client commands parse into, and which of them was chosen.
struct ClientCommands {
  ClientConnectionFlags connection;
  ClientDatasetFlags dataset;
  ClientSweepFlags sweep;
  ClientJobFlags job;
  ClientWebhookFlags webhook;
  // Each runnable subcommand with its full name ("dataset upload").
  std::vector<std::pair<std::string, CLI::App*>> commands;
  // Where results and errors go (tests capture them); the progress bar shows only when `err` is
  // a terminal.
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  // How often `sweep wait` asks the server about the sweep (tests make it short).
  std::chrono::milliseconds sweep_poll_interval{1000};
};

void AddClientCommands(CLI::App& cli, ClientCommands& state);

// The exit code of the client command that was parsed, or nullopt when none was.
std::optional<int> RunClientCommands(const ClientCommands& state);

}  // namespace trainyard::app
