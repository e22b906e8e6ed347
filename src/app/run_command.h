// `trainyard run`: a whole sweep on this machine, no server. Its store is the output directory:
// run.json (what to run), the executor's records under .work, and each job's results.
#pragma once

#include <filesystem>

#include "app/run_options.h"

namespace trainyard::app {

// Checks the options, expands the sweep, records it in <out>/run.json, runs it on the local
// executor and prints the results. Returns the exit code: 0 when every job completed, 1 when
// any did not, 130 after Ctrl-C, and the code of the Status (2 for bad input) when the sweep
// could not start.
int RunCommand(RunOptions options);

// `trainyard run --resume DIR`: finishes the run recorded in DIR/run.json whose process was
// killed. Jobs still running (or ended meanwhile) are adopted and followed to their end, jobs
// that never started are started, jobs whose end was recorded are kept; then the table and the
// exit code as RunCommand. Refused: a DIR without run.json (3), a DIR that another process is
// running (5).
int ResumeCommand(const std::filesystem::path& out_dir);

}  // namespace trainyard::app
