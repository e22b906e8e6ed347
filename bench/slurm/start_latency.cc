// submit -> user code running, for the slurm executor and for a bare `sbatch --wrap` of the
// same command, in interleaved pairs on one cluster so that drift hits both alike. "Running" is
// when the user code's first action, creating a file, becomes visible (polled every 0.5 ms).
// The executor's time includes everything it does before Slurm starts the job: checking the
// spec, laying out the job root, writing the batch script, sbatch; then trainyard-wrap's start
// on the node. The cluster is the tests' one-node cluster (tests/support/slurm_cluster.h).
//
// Usage: bench_slurm_start [PAIRS]     (needs root and Debian's slurm-wlm packages)
// (How fast many jobs flow: bench/slurm/flow.sh.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "executor/slurm/slurm_commands.h"
#include "executor/slurm/slurm_executor.h"
#include "support/slurm_cluster.h"

namespace fs = std::filesystem;
using namespace trainyard;
using namespace trainyard::executor;
using Clock = std::chrono::steady_clock;

namespace {

double WaitForFile(const fs::path& file, Clock::time_point start) {
  while (!fs::exists(file)) {
    if (Clock::now() - start > std::chrono::seconds(60)) return -1;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  int pairs = argc > 1 ? std::atoi(argv[1]) : 10;
  std::string why_not;
  auto cluster = trainyard::testing::SlurmCluster::Start(&why_not);
  if (!cluster) {
    std::fprintf(stderr, "no Slurm cluster: %s\n", why_not.c_str());
    return 2;
  }
  fs::path dir = cluster->dir() / "bench";
  fs::create_directories(dir);
  SlurmExecutorOptions options;
  options.work_dir = dir / "work";
  options.wrapper_path = TRAINYARD_WRAP_PATH;
  options.job_environment = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  options.poll_interval = std::chrono::milliseconds(200);
  SlurmCommandsOptions command_options;
  command_options.environment = cluster->environment();
  auto commands = SlurmCommands::Create(command_options);
  if (!commands.ok()) {
    std::fprintf(stderr, "%s\n", commands.status().ToString().c_str());
    return 2;
  }
  SlurmExecutor executor(options, std::move(commands).value());

  std::vector<double> trainyard, bare;
  auto run_trainyard = [&](int i) {
    fs::path marker = dir / ("trainyard-" + std::to_string(i));
    JobSpec spec;
    spec.definition.job_name = "bench-" + std::to_string(i);
    spec.command = {"sh", "-c", ": > '" + marker.string() + "'; sleep 0.3"};
    spec.artifact_dir = dir / "out" / spec.definition.job_name;
    auto start = Clock::now();
    if (!executor.Submit(spec).ok()) return false;
    trainyard.push_back(WaitForFile(marker, start));
    return true;
  };
  auto run_bare = [&](int i) {
    fs::path marker = dir / ("bare-" + std::to_string(i));
    auto start = Clock::now();
    auto submitted = cluster->Run({"sbatch", "--parsable", "--output=/dev/null", "--wrap",
                                   ": > '" + marker.string() + "'; sleep 0.3"});
    if (submitted.exit_code != 0) return false;
    bare.push_back(WaitForFile(marker, start));
    return true;
  };
  auto wait_for_idle_node = [&] {
    for (int tries = 0; tries < 200; ++tries) {
      auto left = cluster->Run({"squeue", "--noheader", "--format=%i"});
      if (left.exit_code == 0 && left.output.empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  };
  for (int i = 0; i < pairs; ++i) {
    // Each alone on an idle node, in alternating order.
    wait_for_idle_node();
    if (!(i % 2 ? run_bare(i) : run_trainyard(i))) return 1;
    wait_for_idle_node();
    if (!(i % 2 ? run_trainyard(i) : run_bare(i))) return 1;
  }
  std::vector<double> extra;
  for (size_t i = 0; i < trainyard.size() && i < bare.size(); ++i) {
    extra.push_back(trainyard[i] - bare[i]);
  }
  std::printf("submit -> user code running, %d pairs, one idle node (ms)\n", pairs);
  std::printf("%-22s %8s %8s %8s\n", "", "p50", "p90", "max");
  std::printf("%-22s %8.0f %8.0f %8.0f\n", "trainyard (slurm)", Percentile(trainyard, 0.5),
              Percentile(trainyard, 0.9), Percentile(trainyard, 1.0));
  std::printf("%-22s %8.0f %8.0f %8.0f\n", "bare sbatch --wrap", Percentile(bare, 0.5),
              Percentile(bare, 0.9), Percentile(bare, 1.0));
  std::printf("extra (median of per-pair differences): %.0f ms (target <= 50 ms)\n",
              Percentile(extra, 0.5));
  return 0;
}
