// bench_s3: the S3 numbers of docs/benchmarks.md, driven by bench/s3/transfer.sh.
//
//   bench_s3 put URI KEY FILE     upload FILE with S3ObjectStore (as `trainyard server --objects`
//                                 would), print seconds and MiB/s
//   bench_s3 get URI KEY FILE     download KEY into FILE, print seconds and MiB/s
//   bench_s3 sign SECONDS         SigV4 header signatures per second of one S3 PUT, one thread
//
// URI is an s3:// store URI (credentials and endpoint from the environment, as the SDKs do).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "aws/sigv4.h"
#include "common/environment.h"
#include "storage/object_store.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace storage = trainyard::storage;

int Report(const char* what, const trainyard::Status& status, uint64_t bytes,
           Clock::time_point started) {
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (!status.ok()) {
    std::fprintf(stderr, "bench_s3 %s: %s\n", what, status.ToString().c_str());
    return 1;
  }
  std::printf("%s %.3f s %.1f MiB/s\n", what, seconds, bytes / 1048576.0 / seconds);
  return 0;
}

int Transfer(const std::string& mode, const std::string& uri, const std::string& key,
             const std::string& file) {
  auto store = storage::OpenObjectStore(uri, trainyard::ParseEnvironment(environ));
  if (!store.ok()) return Report(mode.c_str(), store.status(), 0, Clock::now());
  auto started = Clock::now();
  if (mode == "put") {
    std::ifstream source(file, std::ios::binary | std::ios::ate);
    uint64_t size = static_cast<uint64_t>(source.tellg());
    source.seekg(0);
    auto put = (*store)->Put(key, source, size);
    return Report("put", put.status(), size, started);
  }
  std::ofstream sink(file, std::ios::binary | std::ios::trunc);
  trainyard::Status got = (*store)->Get(key, sink);
  sink.close();
  uint64_t size = got.ok() ? (*store)->Head(key)->size : 0;
  return Report("get", got, size, started);
}

int Sign(double seconds) {
  trainyard::aws::HttpRequestToSign request{
      .method = "PUT",
      .path = "/bucket/datasets/ds-1/train.csv",
      .query = {},
      .headers = {{"Host", "127.0.0.1:9000"}, {"Content-Type", "text/csv"}},
      .payload_sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
  trainyard::aws::SigningParams params{.credentials = {"AKIDEXAMPLE", "secret", ""},
                                       .region = "us-east-1",
                                       .service = "s3",
                                       .time = std::chrono::system_clock::now(),
                                       .s3_rules = true};
  auto started = Clock::now();
  auto deadline = started + std::chrono::duration<double>(seconds);
  uint64_t count = 0;
  while (Clock::now() < deadline) {
    for (int i = 0; i < 100; ++i) {
      if (!trainyard::aws::SignWithHeaders(request, params).ok()) return 1;
    }
    count += 100;
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("sign %.0f signatures/s (%llu in %.2f s)\n", count / elapsed,
              static_cast<unsigned long long>(count), elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if ((mode == "put" || mode == "get") && argc == 5)
    return Transfer(mode, argv[2], argv[3], argv[4]);
  if (mode == "sign" && argc == 3) return Sign(std::stod(argv[2]));
  std::fprintf(stderr, "usage: bench_s3 put|get URI KEY FILE | bench_s3 sign SECONDS\n");
  return 2;
}
