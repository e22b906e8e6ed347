// `trainyard run`: a whole sweep on this machine, no server.
#pragma once

#include "app/run_options.h"

namespace trainyard::app {

// Checks the options, expands the sweep, runs it on the local executor and prints the results.
// Returns the exit code: 0 when every job completed, 1 when any did not, 130 after Ctrl-C,
// and the code of the Status (2 for bad input) when the sweep could not start.
int RunCommand(RunOptions options);

}  // namespace trainyard::app
