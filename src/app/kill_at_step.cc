#include "app/kill_at_step.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace trainyard::app {

StepHook KillAtStep(const EnvironmentMap& environment, std::string program) {
  auto step = environment.find("TRAINYARD_TEST_KILL_AT");
  if (step == environment.end() || step->second.empty()) return nullptr;
  return [kill_at = step->second, program = std::move(program)](std::string_view reached,
                                                                std::string_view job_name) {
    if (reached != kill_at) return;
    std::fprintf(stderr, "%s: TRAINYARD_TEST_KILL_AT: killed at %s of job %.*s\n", program.c_str(),
                 kill_at.c_str(), static_cast<int>(job_name.size()), job_name.data());
    ::kill(::getpid(), SIGKILL);
  };
}

}  // namespace trainyard::app
