// trainyard-wrap: the in-job entrypoint. Thin: parse, then hand over to the wrapper module.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/environment.h"
#include "wrapper/options.h"
#include "wrapper/wrapper.h"

int main(int argc, char** argv) {
  trainyard::EnvironmentMap environment = trainyard::ParseEnvironment(environ);
  auto options = trainyard::wrapper::ParseWrapperOptions(
      std::vector<std::string>(argv + 1, argv + argc), environment);
  if (!options.ok()) {
    std::fprintf(stderr, "trainyard-wrap: %s\n", options.status().message().c_str());
    return trainyard::wrapper::kExitSetupFailed;
  }
  if (options->show_help) {
    std::fputs(trainyard::wrapper::kWrapperUsage, stdout);
    return 0;
  }
  return trainyard::wrapper::RunWrapper(*options, environment);
}
