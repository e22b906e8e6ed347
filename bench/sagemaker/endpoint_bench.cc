// The SageMaker-compatible endpoint's latencies, in one process over loopback HTTP, with the
// local executor behind it (bench/sagemaker/endpoint.sh runs it):
//  1. CreateTrainingJob answered (the job is InProgress from then on): signing, validation
//     against botocore's model, persistence, the answer;
//  2. CreateTrainingJob sent → the user's code running (it creates a marker file, polled every
//     0.5 ms), against the same command started bare with posix_spawn in the same run,
//     interleaved, so that the difference is what trainyard adds (staging a 1 KiB channel,
//     laying out /opt/ml, starting trainyard-wrap);
//  3. DescribeTrainingJob under 100 concurrent pollers (keep-alive connections, as SDK clients
//     have), against the same pollers on a handler that answers "{}" at once on the same HTTP
//     server (the floor the server itself sets).
//
// Usage: endpoint_bench TRAINYARD_WRAP JOBS POLL_SECONDS
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "aws/environment_provider.h"
#include "aws/json_client.h"
#include "executor/local/local_executor.h"
#include "metadata/metadata_store.h"
#include "server/http/http_server.h"
#include "server/sagemaker/sagemaker_api.h"
#include "storage/local/local_object_store.h"

namespace fs = std::filesystem;
using namespace trainyard;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kKeyId[] = "AKIDBENCH";
constexpr char kSecret[] = "bench-secret";

double Ms(Clock::duration duration) {
  return std::chrono::duration<double, std::milli>(duration).count();
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

double WaitForFile(const fs::path& file, Clock::time_point start) {
  while (!fs::exists(file)) {
    if (Clock::now() - start > std::chrono::seconds(30)) return -1;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return Ms(Clock::now() - start);
}

aws::JsonServiceOptions Client(uint16_t port) {
  aws::JsonServiceOptions options;
  options.target_prefix = "SageMaker";
  options.signing_name = "sagemaker";
  options.endpoint = "http://127.0.0.1:" + std::to_string(port);
  options.credentials = std::make_shared<aws::EnvironmentProvider>(
      EnvironmentMap{{"AWS_ACCESS_KEY_ID", kKeyId}, {"AWS_SECRET_ACCESS_KEY", kSecret}});
  options.max_attempts = 1;
  return options;
}

json CreateRequest(const std::string& name, const std::string& marker) {
  return {{"TrainingJobName", name},
          {"AlgorithmSpecification",
           {{"TrainingImage", "bench"},
            {"TrainingInputMode", "File"},
            {"ContainerEntrypoint", {"/bin/sh", "-c"}},
            {"ContainerArguments", {": > " + marker}}}},
          {"RoleArn", "arn:aws:iam::000000000000:role/bench"},
          {"InputDataConfig",
           {{{"ChannelName", "training"},
             {"DataSource",
              {{"S3DataSource",
                {{"S3DataType", "S3Prefix"},
                 {"S3Uri", "s3://bench/data/"},
                 {"S3DataDistributionType", "FullyReplicated"}}}}}}}},
          {"OutputDataConfig", {{"S3OutputPath", "s3://bench/out/"}}},
          {"ResourceConfig",
           {{"InstanceType", "ml.m5.large"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 1}}},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", 600}}}};
}

double BareStart(const fs::path& marker) {
  std::string script = ": > " + marker.string();
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  Clock::time_point start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
    return -1;
  double ms = WaitForFile(marker, start);
  waitpid(pid, nullptr, 0);
  return ms;
}

// `threads` clients calling `operation` for `seconds`; the latency of every call.
std::vector<double> Poll(uint16_t port, const std::string& operation, const json& input,
                         int threads, int seconds, int* errors) {
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<int> failed{0};
  Clock::time_point end = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> pollers;
  for (int t = 0; t < threads; ++t) {
    pollers.emplace_back([&, t] {
      aws::JsonServiceClient client(Client(port));
      while (Clock::now() < end) {
        Clock::time_point start = Clock::now();
        if (!client.Call(operation, input).ok()) ++failed;
        latencies[t].push_back(Ms(Clock::now() - start));
      }
    });
  }
  for (auto& poller : pollers) poller.join();
  *errors = failed;
  std::vector<double> all;
  for (const auto& one : latencies) all.insert(all.end(), one.begin(), one.end());
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: endpoint_bench TRAINYARD_WRAP JOBS POLL_SECONDS\n");
    return 2;
  }
  const fs::path wrapper = argv[1];
  const int jobs = std::stoi(argv[2]);
  const int poll_seconds = std::stoi(argv[3]);
  fs::path work = fs::temp_directory_path() / ("bench-sagemaker-" + std::to_string(::getpid()));
  fs::create_directories(work / "markers");

  auto store = storage::LocalObjectStore::Open({.root = work / "store"});
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  std::istringstream marker(R"({"created": "2026-11-28T00:00:00.000Z"})");
  (void)(*store)->Put("s3/buckets/bench", marker, marker.str().size());
  std::string data(1024, 'x');
  std::istringstream channel(data);
  (void)(*store)->Put("s3/objects/bench/data/train.csv", channel, data.size());

  executor::LocalExecutorOptions local;
  local.work_dir = work / "jobs";
  local.wrapper_path = wrapper;
  executor::LocalExecutor executor(local);
  auto metadata = metadata::OpenMetadataStore("sqlite:///" + (work / "sagemaker.db").string());
  if (!metadata.ok()) return std::fprintf(stderr, "%s\n", metadata.status().ToString().c_str()), 1;
  server::SageMakerApiOptions options;
  options.objects = store->get();
  options.executor = &executor;
  options.metadata = metadata->get();
  options.work_dir = work / "endpoint";
  options.executor_work_dir = local.work_dir;
  options.secret_by_access_key_id = {{kKeyId, kSecret}};
  options.max_running = jobs + 1;
  server::SageMakerApi api(options);
  if (Status started = api.Start(); !started.ok()) return 1;
  server::HttpServerOptions http;
  http.port = 0;
  auto endpoint = server::HttpServer::Start(
      http, [&api](const server::HttpRequest& request, server::BodyReader& body,
                   server::ResponseWriter& response) { api.Handle(request, body, response); });
  auto floor = server::HttpServer::Start(
      http, [](const server::HttpRequest&, server::BodyReader&, server::ResponseWriter& response) {
        response.SetStatus(200);
        response.SetHeader("Content-Type", "application/x-amz-json-1.1");
        response.SetContentLength(2);
        (void)response.Write("{}");
      });
  if (!endpoint.ok() || !floor.ok()) return std::fprintf(stderr, "cannot listen\n"), 1;

  aws::JsonServiceClient client(Client((*endpoint)->port()));
  std::vector<double> create_ms, running_ms, bare_ms;
  for (int i = 0; i < jobs; ++i) {
    std::string name = "bench-" + std::to_string(i);
    fs::path job_marker = work / "markers" / name;
    Clock::time_point start = Clock::now();
    aws::JsonCallResult created = client.Call("CreateTrainingJob", CreateRequest(name, job_marker));
    if (!created.ok()) {
      std::fprintf(stderr, "create: %s\n", created.status.ToString().c_str());
      return 1;
    }
    create_ms.push_back(Ms(Clock::now() - start));
    running_ms.push_back(WaitForFile(job_marker, start));
    bare_ms.push_back(BareStart(work / "markers" / (name + "-bare")));
  }
  std::printf("jobs: %d, each with a 1 KiB channel, interleaved with bare posix_spawn starts\n",
              jobs);
  std::printf("CreateTrainingJob answered (InProgress): p50 %.2f ms, p90 %.2f ms\n",
              Percentile(create_ms, 0.5), Percentile(create_ms, 0.9));
  std::printf("create sent -> user code running:       p50 %.2f ms, p90 %.2f ms\n",
              Percentile(running_ms, 0.5), Percentile(running_ms, 0.9));
  std::printf("bare posix_spawn -> same code running:  p50 %.2f ms, p90 %.2f ms\n",
              Percentile(bare_ms, 0.5), Percentile(bare_ms, 0.9));
  std::printf("trainyard adds (p50 difference):        %.2f ms\n",
              Percentile(running_ms, 0.5) - Percentile(bare_ms, 0.5));

  int errors = 0;
  json describe = {{"TrainingJobName", "bench-0"}};
  auto polled =
      Poll((*endpoint)->port(), "DescribeTrainingJob", describe, 100, poll_seconds, &errors);
  int floor_errors = 0;
  auto floored =
      Poll((*floor)->port(), "DescribeTrainingJob", describe, 100, poll_seconds, &floor_errors);
  std::printf(
      "DescribeTrainingJob, 100 concurrent pollers, %d s: %zu calls (%.0f/s), p50 %.2f ms, "
      "p99 %.2f ms, %d errors\n",
      poll_seconds, polled.size(), polled.size() / static_cast<double>(poll_seconds),
      Percentile(polled, 0.5), Percentile(polled, 0.99), errors);
  std::printf(
      "empty handler, same pollers:                       %zu calls (%.0f/s), p50 %.2f ms, "
      "p99 %.2f ms, %d errors\n",
      floored.size(), floored.size() / static_cast<double>(poll_seconds), Percentile(floored, 0.5),
      Percentile(floored, 0.99), floor_errors);

  (*endpoint)->Stop();
  (*floor)->Stop();
  api.Stop();
  std::error_code ignored;
  fs::remove_all(work, ignored);
  return 0;
}
