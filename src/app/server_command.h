// `trainyard server`: the control plane with the embedded defaults (SQLite, local files, the
// local executor), until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

#include "app/server_options.h"

namespace trainyard::app {

struct ServerCommand {
  ServerFlags flags;
  CLI::App* command = nullptr;
};

void AddServerCommand(CLI::App& cli, ServerCommand& state);
// The exit code when `server` was the command given, nullopt otherwise.
std::optional<int> RunServerCommand(const ServerCommand& state);

}  // namespace trainyard::app
