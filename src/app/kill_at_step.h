// For the fault-injection tests only (tests/fault_injection_test.cc, tests/run_resume_e2e_test.cc):
// a StepHook that kills this process with SIGKILL, as `kill -9` would, the first time a job
// reaches the step named by TRAINYARD_TEST_KILL_AT (common/step_hook.h names the steps).
#pragma once

#include <string>

#include "common/environment.h"
#include "common/step_hook.h"

namespace trainyard::app {

// Null (no hook) unless `environment` sets TRAINYARD_TEST_KILL_AT. Before it kills, the hook
// prints "<program>: TRAINYARD_TEST_KILL_AT: killed at STEP of job JOB" to stderr, which the
// tests look for.
StepHook KillAtStep(const EnvironmentMap& environment, std::string program);

}  // namespace trainyard::app
