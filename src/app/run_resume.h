// `trainyard run --resume DIR`: what it refuses, and the leftovers of a killed run's writes
// (where each job stands is the scheduler's: app/run_adapter.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "app/run_record.h"

namespace trainyard::app {

// --resume takes the run as it was recorded: any other option, or a COMMAND, would change it.
// InvalidArgument naming the first of `other_options` (the options given besides --resume),
// or the command.
Status CheckResumeIsAlone(const std::vector<std::string>& other_options, bool has_command);

// Removes the temporary files of writes that a kill cut short in DIR and its jobs' folders
// (WriteFileAtomic's "NAME.tmp.PID.N", archive packing's "NAME.tmp-XXXXXX"): the writes
// themselves are done again, whole, by the resumed run. Logs what it cannot remove.
void RemoveInterruptedWrites(const RunRecord& record);

}  // namespace trainyard::app
