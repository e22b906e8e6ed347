// How `trainyard sweep create` turns its flags (and --file) into the POST /api/v1/sweeps body.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/client_commands.h"
#include "common/status.h"

namespace trainyard::app {

// The body: `--file`'s JSON (when given) with every given flag put over its field; maps
// (channels, hyperparameters, grid, environment) are merged key by key. --hp and --param are
// read as `trainyard run` reads them (core::ParseSweepFlags), and each value is sent as the
// JSON the job will see (core::DecodeHyperparameter): "0.01" -> 0.01, "true" -> true,
// "[64,32]" -> [64, 32], "\"a,b\"" -> "a,b", "adam" -> "adam". With --strategy other than grid
// (here or in the file), --param ranges (lr=log:1e-5..1e-1) and lists go to "ranges" (a list
// is a categorical range), --resource epochs=1..27 and --eta to "hyperband"; a range without
// such a strategy is refused.
Result<nlohmann::json> BuildSweepBody(const ClientSweepFlags& flags);

}  // namespace trainyard::app
