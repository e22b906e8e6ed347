// `trainyard run --resume DIR`: where each job of a killed run stands, read from what the run
// left in DIR (its status.json files) and from the executor that adopted its jobs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "app/run_record.h"
#include "app/sweep_runner.h"
#include "executor/executor.h"

namespace trainyard::app {

// --resume takes the run as it was recorded: any other option, or a COMMAND, would change it.
// InvalidArgument naming the first of `other_options` (the options given besides --resume),
// or the command.
Status CheckResumeIsAlone(const std::vector<std::string>& other_options, bool has_command);

// Each recorded job, in order, as `executor` knows it after AdoptRunningJobs() (it must
// remember jobs across restarts: one it does not know never started):
//  - running, or ended and not recorded yet: kFollow (its end is recorded when the runner sees it);
//  - ended with its status.json written: kEnded, as read back;
//  - unknown: kSubmit.
// Errors: FailedPrecondition for an executor that does not remember jobs across restarts; a
// status.json that cannot be read, naming it; the executor's errors other than NotFound.
Result<std::vector<PlannedJob>> PlanResume(const RunRecord& record, executor::Executor& executor);

// Removes the temporary files of writes that a kill cut short in DIR and its jobs' folders
// (WriteFileAtomic's "NAME.tmp.PID.N", archive packing's "NAME.tmp-XXXXXX"): the writes
// themselves are done again, whole, by the resumed run. Logs what it cannot remove.
void RemoveInterruptedWrites(const RunRecord& record);

}  // namespace trainyard::app
