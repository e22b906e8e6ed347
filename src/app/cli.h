// The `trainyard` command line: parses argv into options and runs the chosen command.
// The one place (with the mains) that reads the process environment and signals.
#pragma once

namespace trainyard::app {

// Returns the process exit code.
int Main(int argc, char** argv);

}  // namespace trainyard::app
