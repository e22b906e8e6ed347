// Holds a one-node Slurm cluster (tests/support/slurm_cluster.h) for a benchmark script: starts
// it with the given tuning, prints what its clients need, and stops it (every daemon waited
// for) when its standard input closes.
//
// Usage: bench_slurm_cluster [--cpus N] [SLURM.CONF LINE...]   (needs root and slurm-wlm)
// Prints, once the node is idle: "SLURM_CONF=<path>", "partition=<name>", "cpus=<n>", "ready".
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "support/slurm_cluster.h"

int main(int argc, char** argv) {
  trainyard::testing::SlurmCluster::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--cpus" && i + 1 < argc) {
      options.cpus = std::atoi(argv[++i]);
    } else {
      options.extra_config.push_back(argument);
    }
  }
  std::string why_not;
  auto cluster = trainyard::testing::SlurmCluster::Start(&why_not, options);
  if (!cluster) {
    std::fprintf(stderr, "no Slurm cluster: %s\n", why_not.c_str());
    return 2;
  }
  std::printf("SLURM_CONF=%s\npartition=%s\ncpus=%d\nready\n", cluster->conf_file().c_str(),
              cluster->partition().c_str(), cluster->cpus());
  std::fflush(stdout);
  std::string ignored;
  while (std::getline(std::cin, ignored)) {
  }
  return 0;
}
