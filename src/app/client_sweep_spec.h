// How `trainyard sweep create` turns its flags (and --file) into the POST /api/v1/sweeps body.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/client_commands.h"
#include "common/status.h"

namespace trainyard::app {

// A flag's value as JSON: a number when it reads as one ("0.01", "32", "1e-3"), true/false as
// booleans, anything else as the string itself.
nlohmann::json TypedFlagValue(const std::string& text);

// The body: `--file`'s JSON (when given) with every given flag put over its field; maps
// (channels, hyperparameters, grid, environment) are merged key by key.
Result<nlohmann::json> BuildSweepBody(const ClientSweepFlags& flags);

}  // namespace trainyard::app
