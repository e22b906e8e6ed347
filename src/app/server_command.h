// `trainyard server`: the control plane with the embedded defaults (SQLite, local files, the
// local executor), until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/server_options.h"

namespace trainyard::app {

struct ServerCommand {
  ServerFlags flags;
  CLI::App* command = nullptr;
};

void AddServerCommand(CLI::App& cli, ServerCommand& state);
// Declares the --slurm-* flag of each of SlurmSettingKeys() in `keys` (empty: every one) on
// `command`, each given flag appended to `given` as (key, value), in order, for
// SetSlurmSetting: `trainyard server` takes them all, `trainyard run` those that apply to it.
void AddSlurmSettingFlags(CLI::App& command, const std::set<std::string>& keys,
                          std::vector<std::pair<std::string, std::string>>& given);
// The exit code when `server` was the command given, nullopt otherwise.
std::optional<int> RunServerCommand(const ServerCommand& state);

}  // namespace trainyard::app
