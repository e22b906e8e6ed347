// What each client command does once parsed; RunClientCommands picks the runner by the
// command's full name ("dataset upload"). Internal to the client commands.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "app/client_commands.h"
#include "client/api_client.h"
#include "common/status.h"

namespace trainyard::app {

struct ClientContext {
  client::ApiClient& api;
  const ClientCommands& state;
  bool json_output;
  std::FILE* out;
  std::FILE* err;

  // The server's JSON, pretty, on `out`.
  void PrintJson(const nlohmann::json& json) const;
  void Print(const std::string& text) const;
  // A progress callback drawing a bar on `err` when it is a terminal; empty otherwise.
  client::ProgressCallback ProgressBar(const std::string& label) const;
};

Status RunDatasetCommand(const std::string& command, const ClientContext& context);
// The exit code of a sweep command that ran: 0, or what `sweep wait` says of how the sweep
// ended (client_sweep_wait.h).
Result<int> RunSweepCommand(const std::string& command, const ClientContext& context);
Status RunJobCommand(const std::string& command, const ClientContext& context);
Status RunWebhookCommand(const std::string& command, const ClientContext& context);

// Every job that `query` ("sweep=...&status=...") matches, following next_page_token.
Result<nlohmann::json> ListAllJobs(client::ApiClient& api, const std::string& query);

}  // namespace trainyard::app
