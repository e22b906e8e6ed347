#include "storage/s3/s3_peer.h"

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "aws/environment_provider.h"
#include "support/free_port.h"
#include "support/http_test_server.h"
#include "support/test_paths.h"

namespace trainyard::storage {

std::vector<std::string> S3rverPeer::RequestsFor(const std::string& method,
                                                 const std::string& path) const {
  const std::string plain = std::regex_replace(RequestLog(), std::regex("\x1b\\[[0-9;]*m"), "");
  std::vector<std::string> found;
  std::istringstream lines(plain);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" " + method + " " + path + "?") != std::string::npos) found.push_back(line);
  }
  return found;
}

Result<ObjectStorePtr> S3rverPeer::Store(const std::string& prefix) const {
  return MakeS3ObjectStore(
      TestS3Options(endpoint(), kBucket, prefix, kAccessKeyId, kSecretAccessKey));
}

size_t S3rverPeer::ObjectsLeftUnder(ObjectStore& store, const std::string& key_prefix,
                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto listed = store.List(key_prefix);
    const size_t left = listed.ok() ? listed->objects.size() : 1000;
    if (left == 0 || std::chrono::steady_clock::now() >= deadline) return left;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::unique_ptr<S3rverPeer> S3rverPeer::Start(std::string* why_not, bool log_requests) {
  std::filesystem::path script =
      testing::SourceDir() / "tests/npm/node_modules/s3rver/bin/s3rver.js";
  if (!std::filesystem::exists(script)) {
    *why_not = "s3rver is not installed at " + script.string() + " (scripts/install-deps.sh)";
    return nullptr;
  }
  if (!std::filesystem::exists("/usr/bin/node")) {
    *why_not = "node is not installed at /usr/bin/node";
    return nullptr;
  }
  auto started = std::make_unique<S3rverPeer>();
  started->port_ = testing::UnusedLoopbackPort();
  started->data_ = std::make_unique<testing::TempDir>();
  // s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
  std::vector<std::string> argv = {"/usr/bin/node",
                                   "--openssl-legacy-provider",
                                   script.string(),
                                   "--directory",
                                   started->data_->path().string(),
                                   "--address",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(started->port_),
                                   "--configure-bucket",
                                   kBucket};
  if (!log_requests) argv.push_back("--silent");
  // s3rver's request lines lose their first 16 characters, the colour codes it expects there:
  // with the colours forced, the method and path stay whole.
  started->process_ = std::make_unique<testing::Process>(
      argv, std::map<std::string, std::string>{{"FORCE_COLOR", "1"}});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!testing::AcceptsLoopbackConnections(started->port_) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!testing::AcceptsLoopbackConnections(started->port_)) {
    *why_not = "s3rver did not listen on port " + std::to_string(started->port_) +
               " within 20 s: " + started->process_->Wait(std::chrono::seconds(1)).output;
    return nullptr;
  }
  return started;
}

S3rverPeer* S3rverPeer::Shared(std::string* why_not) {
  static std::unique_ptr<S3rverPeer> peer;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    peer = Start(&failure, /*log_requests=*/false);
  }
  if (!peer && why_not) *why_not = failure;
  return peer.get();
}

S3ObjectStoreOptions TestS3Options(const std::string& endpoint, const std::string& bucket,
                                   const std::string& prefix, const std::string& access_key_id,
                                   const std::string& secret_access_key) {
  S3ObjectStoreOptions options;
  options.bucket = bucket;
  options.prefix = prefix;
  options.endpoint = endpoint;
  options.path_style = true;
  options.credentials = std::make_shared<aws::EnvironmentProvider>(EnvironmentMap{
      {"AWS_ACCESS_KEY_ID", access_key_id}, {"AWS_SECRET_ACCESS_KEY", secret_access_key}});
  options.multipart_threshold = 8ull << 20;
  options.part_size = 5ull << 20;
  options.parallel_parts = 2;
  options.retry_base_delay = std::chrono::milliseconds(10);
  return options;
}

}  // namespace trainyard::storage
