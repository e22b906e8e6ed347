// StepHook: called at each named step of a job's way through the server ("scheduler.claimed",
// "executor.launched", ...), with the job's name. Production wires nothing; the fault-injection
// tests wire a hook that kills the process at one chosen step (app/: TRAINYARD_TEST_KILL_AT), to
// prove that a restart finds every job where it stood and runs its code exactly once.
#pragma once

#include <functional>
#include <string_view>

namespace trainyard {

using StepHook = std::function<void(std::string_view step, std::string_view job_name)>;

inline void ReachStep(const StepHook& hook, std::string_view step, std::string_view job_name) {
  if (hook) hook(step, job_name);
}

}  // namespace trainyard
