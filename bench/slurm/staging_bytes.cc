// bench_staging_bytes: the bytes the server reads and writes to stage one job in object-store
// staging (docs/slurm.md) whose channel is a dataset of SIZE_MB (default 100), through the
// default file:// store and the S3 endpoint, measured from /proc/self/io (rchar, wchar: every
// read and write of this process, page cache included) around the executor's two steps: the
// job root laid out (executor::PrepareJobRoot) and its input published
// (executor::StagedJob::PublishInput). Two ways, in the same run, each REPS times:
//   copy:     the dataset as a file channel (what every job got before, and still gets where the
//             dataset's record has no SHA-256): copied into the root, then into the staging
//             bucket, hashed on the way;
//   in place: the dataset as JobSpec::channel_objects: a URL of its own object.
// Usage: bench_staging_bytes [SIZE_MB [REPS]]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "app/object_store_staging.h"
#include "executor/job_root.h"
#include "server/http/http_server.h"
#include "server/s3/s3_api.h"
#include "storage/local/local_object_store.h"

namespace fs = std::filesystem;
using namespace trainyard;

namespace {

struct Io {
  uint64_t read = 0;
  uint64_t written = 0;
};

Io ProcessIo() {
  std::ifstream file("/proc/self/io");
  Io io;
  std::string name;
  uint64_t value = 0;
  while (file >> name >> value) {
    if (name == "rchar:") io.read = value;
    if (name == "wchar:") io.written = value;
  }
  return io;
}

double Mb(uint64_t bytes) {
  return static_cast<double>(bytes) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t size_mb = argc > 1 ? std::stoull(argv[1]) : 100;
  const int reps = argc > 2 ? std::stoi(argv[2]) : 3;
  char pattern[] = "/tmp/bench-staging-XXXXXX";
  const fs::path temp = mkdtemp(pattern);

  auto store = storage::LocalObjectStore::Open({.root = temp / "objects"});
  if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
  // The dataset, as an upload stores it (its record's size and SHA-256 from the Put).
  std::string block(1 << 20, '\0');
  std::mt19937_64 random(1);
  for (char& c : block) c = static_cast<char>(random());
  {
    std::ofstream source(temp / "dataset.bin", std::ios::binary);
    for (uint64_t i = 0; i < size_mb; ++i) source.write(block.data(), block.size());
  }
  std::ifstream source(temp / "dataset.bin", std::ios::binary);
  auto stored = (*store)->Put("datasets/ds-bench/train.bin", source, size_mb << 20);
  if (!stored.ok()) return std::fprintf(stderr, "%s\n", stored.status().ToString().c_str()), 1;
  fs::remove(temp / "dataset.bin");
  const executor::StoredObject dataset{"datasets/ds-bench/train.bin", "train.bin", stored->size,
                                       stored->sha256_hex};
  auto local_file = (*store)->LocalFile(dataset.key);
  if (!local_file.ok() || !*local_file) return std::fprintf(stderr, "no local file\n"), 1;

  const server::S3ReadOnlyView view{
      .access_key_id = "TYBENCHVIEW000000000",
      .secret_access_key = "bench-view-secret-0000000000000000000000"};
  server::S3Api api({.objects = store->get(),
                     .secret_by_access_key_id = {{"TYBENCHCLIENT0000000", "client-secret"}},
                     .read_only_view = view});
  auto http = server::HttpServer::Start(
      {.port = 0},
      [&api](const server::HttpRequest& request, server::BodyReader& body,
             server::ResponseWriter& response) { api.Handle(request, body, response); });
  if (!http.ok()) return std::fprintf(stderr, "%s\n", http.status().ToString().c_str()), 1;
  app::ObjectStoreStaging staging(
      {.objects = store->get(),
       .endpoint_url = "http://127.0.0.1:" + std::to_string((*http)->port()),
       .credentials = {"TYBENCHCLIENT0000000", "client-secret", ""},
       .datasets_view = view});

  std::printf("dataset %llu MB (%.1f MB), file:// store + S3 endpoint, %d reps\n",
              static_cast<unsigned long long>(size_mb), Mb(stored->size), reps);
  std::printf("%-9s %4s %12s %12s %10s\n", "way", "rep", "read MB", "written MB", "ms");
  int failures = 0;
  for (int rep = 1; rep <= reps; ++rep) {
    for (const bool in_place : {false, true}) {
      const std::string job = std::string(in_place ? "in-place-" : "copy-") + std::to_string(rep);
      contract::MlRoot root(temp / "work" / job / "root");
      executor::JobSpec spec;
      spec.definition.job_name = job;
      spec.definition.channels = {{"training"}};
      spec.definition.hyperparameters = {{"learning_rate", "0.1"}};
      spec.definition.max_runtime_seconds = 3600;
      if (in_place) {
        spec.channel_objects["training"] = dataset;
      } else {
        spec.channel_sources["training"] = **local_file;
      }
      ::sync();
      const Io before = ProcessIo();
      const auto started = std::chrono::steady_clock::now();
      Status prepared = executor::PrepareJobRoot(root, spec);
      auto manifest =
          prepared.ok()
              ? executor::StagedJob(staging, job, root).PublishInput(spec, std::chrono::seconds(60))
              : Result<std::string>(prepared);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      const Io after = ProcessIo();
      if (!manifest.ok()) {
        std::fprintf(stderr, "%s: %s\n", job.c_str(), manifest.status().ToString().c_str());
        ++failures;
      }
      std::printf("%-9s %4d %12.3f %12.3f %10.0f\n", in_place ? "in place" : "copy", rep,
                  Mb(after.read - before.read), Mb(after.written - before.written), ms);
      Status removed = staging.Remove(job);
      if (!removed.ok()) std::fprintf(stderr, "%s\n", removed.ToString().c_str());
      fs::remove_all(temp / "work" / job);
    }
  }
  (*http)->Stop();
  fs::remove_all(temp);
  return failures == 0 ? 0 : 1;
}
