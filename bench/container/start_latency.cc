// start -> user code running, for the container executor and for a bare `podman run` of the same
// image, in interleaved pairs in one process so that machine drift hits both alike. "Running" is
// when the user code's first action, creating /opt/ml/started, becomes visible on the host
// (polled every 0.5 ms). The executor's time includes everything it does before the runtime
// starts: checking the spec, laying out the job root, copying a small channel.
//
// Usage: start_latency IMAGE CONTAINERS_CONF PAIRS [cold]
//   (bench/container/start_latency.sh runs it; pull_latency.sh with `cold`: before each run the
//   image is removed from the store, so that the executor pulls it (policy missing, credentials
//   from $REGISTRY_AUTH_FILE) and the peer is `podman pull` then the same bare `podman run`)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/environment.h"
#include "common/files.h"
#include "executor/container/container_executor.h"
#include "executor/container/runtime_process.h"

namespace fs = std::filesystem;
using namespace trainyard;
using namespace trainyard::executor;
using Clock = std::chrono::steady_clock;

namespace {

// The user code: mark that it runs, then stay a moment (as a trainer would).
const char kUserCode[] = ": > /opt/ml/started; sleep 0.3";

double WaitForFile(const fs::path& file, Clock::time_point start) {
  while (!fs::exists(file)) {
    if (Clock::now() - start > std::chrono::seconds(60)) return -1;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "cold")) {
    std::fprintf(stderr, "usage: start_latency IMAGE CONTAINERS_CONF PAIRS [cold]\n");
    return 2;
  }
  const bool cold = argc == 5;
  std::string image = argv[1];
  int pairs = std::stoi(argv[3]);
  fs::path work = fs::temp_directory_path() / ("bench-container-" + std::to_string(::getpid()));
  fs::create_directories(work / "data");
  std::ofstream(work / "data" / "train.csv") << "1,2,3\n";

  ContainerExecutorOptions options;
  options.runtime = "podman";
  options.runtime_environment = ParseEnvironment(environ);
  options.runtime_environment["CONTAINERS_CONF"] = argv[2];
  options.work_dir = work / "jobs";
  options.default_image = image;
  options.pull = cold ? PullPolicy::kMissing : PullPolicy::kNever;
  auto puller = std::make_shared<ImagePuller>();
  options.image_puller = puller;
  if (const char* auth = std::getenv("REGISTRY_AUTH_FILE"); cold && auth != nullptr) {
    options.auth_file = auth;
  }
  options.container_name_prefix = "trainyard-bench-" + std::to_string(::getpid()) + "-";
  auto created = ContainerExecutor::Create(options);
  if (!created.ok()) {
    std::fprintf(stderr, "container executor: %s\n", created.status().ToString().c_str());
    return 1;
  }
  ContainerExecutor& executor = **created;
  std::vector<std::string> environment = FormatEnvironment(options.runtime_environment);
  std::string podman = FindExecutable("podman", options.runtime_environment["PATH"])->string();
  // Cold: the image leaves the store (and the puller's memory) before each run.
  auto make_cold = [&] {
    if (!cold) return;
    // Dropped: an image that is not there is what this wants.
    (void)RunCommand({podman, "rmi", "--force", image}, environment, std::chrono::seconds(60));
    puller->Forget(ImageRuntime{.runtime = "podman", .runtime_path = podman}, image);
  };

  auto run_executor = [&](int i) {
    JobSpec spec;
    spec.definition.job_name = "bench-start-" + std::to_string(i);
    spec.definition.channels = {{"training"}};
    spec.channel_sources = {{"training", work / "data" / "train.csv"}};
    spec.command = {"sh", "-c", kUserCode};
    spec.artifact_dir = work / "out" / spec.definition.job_name;
    fs::path marker = work / "jobs" / spec.definition.job_name / "ml" / "started";
    make_cold();
    auto start = Clock::now();
    if (!executor.Submit(spec).ok()) return -1.0;
    double elapsed = WaitForFile(marker, start);
    while (!core::IsTerminal(executor.Describe(spec.definition.job_name)->status.status())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The executor's last acts, after the end is reported: `podman rm` of the container, then
    // the job root. Waited for, so that they do not overlap the next pair's starts.
    while (fs::exists(marker.parent_path())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return elapsed;
  };
  auto run_bare = [&](int i) {
    fs::path root = work / "bare" / std::to_string(i);
    fs::create_directories(root);
    std::vector<std::string> command = {podman,         "run",      "--rm",
                                        "--pull",       "never",    "--network",
                                        "none",         "--volume", root.string() + ":/opt/ml",
                                        "--entrypoint", "/bin/sh",  image,
                                        "-c",           kUserCode};
    make_cold();
    auto start = Clock::now();
    if (cold) {
      auto pulled =
          RunCommand({podman, "pull", "--quiet", image}, environment, std::chrono::seconds(600));
      if (!pulled.ok() || pulled->exit_code != 0) return -1.0;
    }
    auto pid = SpawnRuntime(command, environment, work / "bare.log");
    if (!pid.ok()) return -1.0;
    double elapsed = WaitForFile(root / "started", start);
    (void)WaitForChild(*pid, std::chrono::seconds(60));
    return elapsed;
  };

  run_executor(-1);  // warm-up of each: page cache, image layers, podman's own caches
  run_bare(-1);
  std::vector<double> container, bare, extra;
  for (int i = 0; i < pairs; ++i) {
    double c = 0, b = 0;
    if (i % 2) {
      b = run_bare(i);
      c = run_executor(i);
    } else {
      c = run_executor(i);
      b = run_bare(i);
    }
    if (c < 0 || b < 0) {
      std::fprintf(stderr, "run %d failed (see %s)\n", i, work.c_str());
      return 1;
    }
    container.push_back(c);
    bare.push_back(b);
    extra.push_back(c - b);
  }
  std::printf(cold ? "bare pull + run     median %8.1f ms"
                     "   (min %.1f, max %.1f)\n"
                   : "bare podman run     median %8.1f ms   (min %.1f, max %.1f)\n",
              Median(bare), *std::min_element(bare.begin(), bare.end()),
              *std::max_element(bare.begin(), bare.end()));
  std::printf("container executor  median %8.1f ms   (min %.1f, max %.1f)\n", Median(container),
              *std::min_element(container.begin(), container.end()),
              *std::max_element(container.begin(), container.end()));
  double median_extra = Median(extra);
  if (cold) {
    // The first start of an image: the pull dominates, and there is no target.
    std::printf("extra               median %8.1f ms   per pair (executor - bare)\n", median_extra);
  } else {
    std::printf(
        "extra               median %8.1f ms   per pair (executor - bare); target <= 50 ms: "
        "%s\n",
        median_extra, median_extra <= 50 ? "MET" : "MISSED");
  }
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return 0;
}
