#include "executor/container/image_puller.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/environment.h"
#include "common/files.h"
#include "common/log.h"
#include "executor/container/registry_credentials.h"
#include "executor/container/runtime_process.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr milliseconds kWaitStep{100};
constexpr size_t kDetailLimit = 300;

std::string Lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

// The last line the runtime printed, without its "Error: ", cut short: the one line of detail
// a message may quote.
std::string LastLine(const std::string& output) {
  std::string text = Trim(output);
  size_t newline = text.find_last_of('\n');
  if (newline != std::string::npos) text = text.substr(newline + 1);
  if (text.rfind("Error: ", 0) == 0) text = text.substr(7);
  if (text.size() > kDetailLimit) text = text.substr(0, kDetailLimit) + "...";
  return text;
}

bool Contains(const std::string& text, std::initializer_list<const char*> needles) {
  for (const char* needle : needles) {
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The runtime's environment with the auth file, which podman reads from REGISTRY_AUTH_FILE and
// docker from DOCKER_CONFIG (the directory holding its config.json).
std::vector<std::string> PullEnvironment(const ImageRuntime& runtime) {
  EnvironmentMap environment = runtime.environment;
  if (!runtime.auth_file.empty()) {
    if (runtime.runtime == "docker") {
      environment["DOCKER_CONFIG"] = runtime.auth_file.parent_path().string();
    } else {
      environment["REGISTRY_AUTH_FILE"] = runtime.auth_file.string();
    }
  }
  return FormatEnvironment(environment);
}

// A registry token that could not be had, as a pull's failure naming the image.
Status TokenFailure(const std::string& reference, const Status& failed) {
  switch (failed.code()) {
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return Status(StatusCode::kPermissionDenied, "unauthorized to pull the training image " +
                                                       reference + " (" + failed.message() + ")");
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return Unavailable("registry unreachable for the training image " + reference + " (" +
                         failed.message() + ")");
    default:
      return Internal("could not pull the training image " + reference + " (" + failed.message() +
                      ")");
  }
}

}  // namespace

Result<PullPolicy> ParsePullPolicy(const std::string& text, const std::string& field) {
  if (text == "always") return PullPolicy::kAlways;
  if (text == "missing") return PullPolicy::kMissing;
  if (text == "never") return PullPolicy::kNever;
  return InvalidArgument("field '" + field + "': '" + text +
                         "' is no pull policy (always, missing or never)");
}

const char* PullPolicyName(PullPolicy policy) {
  switch (policy) {
    case PullPolicy::kAlways: return "always";
    case PullPolicy::kMissing: return "missing";
    case PullPolicy::kNever: return "never";
  }
  return "missing";
}

std::string RegistryHostOf(const std::string& reference) {
  size_t slash = reference.find('/');
  if (slash == std::string::npos) return "";
  std::string first = reference.substr(0, slash);
  if (first.find_first_of(".:") == std::string::npos && first != "localhost") return "";
  return first;
}

std::string RepositoryOf(const std::string& reference) {
  std::string repository = reference.substr(0, reference.find('@'));
  size_t slash = repository.rfind('/');
  size_t colon = repository.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repository.resize(colon);
  }
  return repository;
}

bool IsEcrReference(const std::string& reference) {
  size_t slash = reference.find('/');
  if (slash == std::string::npos) return false;
  const std::string host = reference.substr(0, slash);
  // ACCOUNT (12 digits) . dkr.ecr . REGION . amazonaws.com
  size_t first_dot = host.find('.');
  if (first_dot != 12 || host.substr(0, 12).find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const std::string rest = host.substr(first_dot + 1);
  const std::string head = "dkr.ecr.", tail = ".amazonaws.com";
  return rest.size() > head.size() + tail.size() && rest.rfind(head, 0) == 0 &&
         rest.compare(rest.size() - tail.size(), tail.size(), tail) == 0 &&
         rest.substr(head.size(), rest.size() - head.size() - tail.size()).find('.') ==
             std::string::npos;
}

std::string MapEcrReference(const std::string& reference, const std::string& registry) {
  if (registry.empty() || !IsEcrReference(reference)) return reference;
  return registry + reference.substr(reference.find('/'));
}

Status ClassifyPullFailure(const std::string& reference, const std::string& output,
                           const std::string& credentials) {
  const std::string text = Lowered(output);
  const std::string host = RegistryHostOf(reference);
  if (Contains(text, {"no space left on device"})) {
    return ResourceExhausted("no space left on this host for the layers of the training image " +
                             reference + " (free space in the container runtime's store)");
  }
  if (Contains(text, {"unauthorized", "authentication required",
                      "denied:", "invalid username/password"})) {
    return Status(StatusCode::kPermissionDenied,
                  "unauthorized to pull the training image " + reference + " (the registry " +
                      (host.empty() ? std::string("") : host + " ") +
                      "refused the credentials: check its entry in " + credentials + ")");
  }
  if (Contains(text, {"did not resolve to an alias", "short-name"})) {
    return NotFound("training image not found: " + reference +
                    " (a short name: give its registry, e.g. HOST/REPOSITORY:TAG)");
  }
  if (Contains(text, {"manifest unknown", "name unknown", "not found", "no such image",
                      "repository name not known"})) {
    return NotFound("training image not found: " + reference +
                    " (its registry has no such repository or tag)");
  }
  for (const char* reason :
       {"connection refused", "no such host", "i/o timeout", "network is unreachable",
        "connection reset", "tls handshake", "x509", "no route to host", "timeout"}) {
    if (text.find(reason) != std::string::npos) {
      return Unavailable("registry unreachable for the training image " + reference + " (" +
                         (host.empty() ? std::string("") : host + ": ") + reason + ")");
    }
  }
  return Internal("could not pull the training image " + reference + ": " + LastLine(output));
}

ImagePuller::~ImagePuller() {
  std::vector<std::pair<std::shared_ptr<Resolution>, std::thread>> threads;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    for (auto& [key, resolution] : in_flight_) {
      if (resolution->pull_pid > 0) ::kill(-resolution->pull_pid, SIGKILL);
    }
    threads.swap(threads_);
  }
  for (auto& [resolution, thread] : threads) thread.join();
}

void ImagePuller::Forget(const ImageRuntime& runtime, const std::string& reference) {
  std::lock_guard lock(mutex_);
  known_.erase(runtime.runtime_path.string() + "\n" + reference);
}

int ImagePuller::pulls_started() const {
  std::lock_guard lock(mutex_);
  return pulls_started_;
}

Result<PresentImage> ImagePuller::Inspect(const ImageRuntime& runtime,
                                          const std::string& reference) {
  // podman records the manifest digest it pulled (.Digest); docker lists every repository digest.
  std::string format =
      runtime.runtime == "docker" ? "{{.Id}} {{join .RepoDigests \" \"}}" : "{{.Id}} {{.Digest}}";
  auto output =
      RunCommand({runtime.runtime_path.string(), "image", "inspect", "--format", format, reference},
                 FormatEnvironment(runtime.environment), runtime.inspect_timeout);
  if (!output.ok()) return output.status().WithContext("inspecting image " + reference);
  if (output->exit_code != 0) {
    std::string text = Lowered(output->output);
    if (Contains(text, {"image not known", "no such image", "no such object", "not found"})) {
      return NotFound("image " + reference + " is not in the " + runtime.runtime + " store");
    }
    return Internal("'" + runtime.runtime + " image inspect " + reference + "' exited with " +
                    std::to_string(output->exit_code) + ": " + LastLine(output->output));
  }
  std::istringstream fields(output->output);
  PresentImage image;
  fields >> image.id;
  const std::string repository = RepositoryOf(reference);
  for (std::string field; fields >> field;) {
    if (field.rfind("sha256:", 0) == 0) {
      // podman's own digest: of this repository.
      if (image.digest_reference.empty()) image.digest_reference = repository + "@" + field;
    } else if (RepositoryOf(field) == repository) {
      image.digest_reference = field;  // docker: this repository's entry
      break;
    } else if (image.digest_reference.empty() && field.find('@') != std::string::npos) {
      image.digest_reference = field;
    }
  }
  if (image.id.empty()) return Internal("'image inspect " + reference + "' printed no id");
  return image;
}

Result<PresentImage> ImagePuller::Pull(const ImageRuntime& runtime, const std::string& reference,
                                       Resolution& resolution) {
  ImageRuntime pull_runtime = runtime;
  if (runtime.credentials) {
    // Asked only now that a pull is due: an image already here needs no token.
    auto auth_file = runtime.credentials->AuthFileFor(reference);
    if (!auth_file.ok()) {
      Status failed = TokenFailure(reference, auth_file.status());
      Logger("executor").warn("image={} not pulled: {}", reference, failed.message());
      return failed;
    }
    pull_runtime.auth_file = *auth_file;
  }
  // The runtime's output goes to a file of its own (read once it ends, for the failure).
  std::string pattern = (fs::temp_directory_path() / "trainyard-pull-XXXXXX").string();
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) return Internal("cannot make a file for the pull's output");
  ::close(fd);
  fs::path output_file = pattern;
  auto started = SpawnRuntime({runtime.runtime_path.string(), "pull", reference},
                              PullEnvironment(pull_runtime), output_file);
  if (!started.ok()) {
    std::error_code ignored;
    fs::remove(output_file, ignored);
    return started.status();
  }
  {
    std::lock_guard lock(mutex_);
    resolution.pull_pid = *started;
    ++pulls_started_;
  }
  Logger("executor").info("image={} pulling", reference);
  auto began = steady_clock::now();
  std::optional<int> exit_code;
  while (!exit_code) {
    exit_code = WaitForChild(*started, kWaitStep);
    if (!exit_code && steady_clock::now() - began > runtime.pull_timeout) {
      ::kill(-*started, SIGKILL);
      // Only reaps it: the deadline is what is returned.
      (void)WaitForChild(*started, std::chrono::seconds(5));
      exit_code = -1;
    }
  }
  {
    std::lock_guard lock(mutex_);
    resolution.pull_pid = -1;
  }
  auto output = ReadFile(output_file);
  std::error_code ignored;
  fs::remove(output_file, ignored);
  auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - began);
  if (*exit_code == -1) {
    return Status(StatusCode::kDeadlineExceeded,
                  "pulling the training image " + reference + " took longer than " +
                      std::to_string(runtime.pull_timeout.count() / 1000) + " s");
  }
  if (*exit_code != 0) {
    Status failed = ClassifyPullFailure(reference, output.ok() ? *output : "");
    if (failed.code() == StatusCode::kPermissionDenied && runtime.credentials &&
        runtime.credentials->UsesToken(reference)) {
      // Pulled with ECR's token, not with an entry of the user's auth file.
      failed = Status(StatusCode::kPermissionDenied,
                      "unauthorized to pull the training image " + reference + " (ECR " +
                          RegistryHostOf(reference) +
                          " refused the token: the server's AWS identity needs "
                          "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository)");
    }
    Logger("executor")
        .warn("image={} pull failed after {} ms: {}", reference, took.count(), failed.message());
    return failed;
  }
  TY_ASSIGN_OR_RETURN(PresentImage image, Inspect(runtime, reference));
  image.pulled = true;
  Logger("executor")
      .info("image={} pulled in {} ms id={} digest={}", reference, took.count(), image.id,
            image.digest_reference);
  return image;
}

void ImagePuller::Resolve(ImageRuntime runtime, std::string reference, PullPolicy policy,
                          std::shared_ptr<Resolution> resolution) {
  Result<PresentImage> result = Internal("not resolved");
  if (policy == PullPolicy::kAlways) {
    result = Pull(runtime, reference, *resolution);
  } else {
    result = Inspect(runtime, reference);
    if (!result.ok() && result.status().code() == StatusCode::kNotFound) {
      if (policy == PullPolicy::kNever) {
        result = FailedPrecondition("training image " + reference +
                                    " is not on this host and the pull policy is never "
                                    "(--container-pull never)");
      } else {
        result = Pull(runtime, reference, *resolution);
      }
    }
  }
  std::lock_guard lock(mutex_);
  if (result.ok()) {
    PresentImage known = *result;
    known.pulled = false;
    known_[runtime.runtime_path.string() + "\n" + reference] = known;
  }
  resolution->result = std::move(result);
  resolution->done = true;
  // Later askers start afresh: with "always" they pull again; with "missing" they find it.
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (it->second == resolution) {
      in_flight_.erase(it);
      break;
    }
  }
  resolved_.notify_all();
}

Result<PresentImage> ImagePuller::Ensure(const ImageRuntime& runtime, const std::string& reference,
                                         PullPolicy policy, const std::function<bool()>& stopped) {
  std::unique_lock lock(mutex_);
  if (shutting_down_) return Unavailable("the image puller is shutting down");
  const std::string key = runtime.runtime_path.string() + "\n" + reference;
  if (policy != PullPolicy::kAlways) {
    if (auto known = known_.find(key); known != known_.end()) return known->second;
  }
  // Threads of resolutions that are done only return: joined here, so that a long-running
  // server does not keep one per job.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->first->done) {
      it->second.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  std::shared_ptr<Resolution>& entry = in_flight_[key];
  if (!entry) {
    entry = std::make_shared<Resolution>();
    threads_.emplace_back(
        entry, std::thread(&ImagePuller::Resolve, this, runtime, reference, policy, entry));
  }
  std::shared_ptr<Resolution> resolution = entry;
  while (!resolution->done) {
    resolved_.wait_for(lock, kWaitStep);
    if (resolution->done) break;
    if (shutting_down_) return Unavailable("the image puller is shutting down");
    if (stopped) {
      // Asked without this lock: `stopped` takes the executor's.
      lock.unlock();
      bool stop = stopped();
      lock.lock();
      if (stop) return Cancelled("stopped while the training image was pulled");
    }
  }
  return resolution->result;
}

}  // namespace trainyard::executor
