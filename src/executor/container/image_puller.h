// ImagePuller: makes a training image present in the container runtime's store before a job
// runs it, pulling it at most once at a time per image reference however many jobs ask: the
// first asker starts the pull (on a thread of the puller's own), every other asker for the same
// reference waits for that one pull and gets its result. The executors of one server (the REST
// API's and the SageMaker endpoint's) share one puller, so that a host pulls an image once.
//
// A pull's failure is turned into a message a person can act on, naming the image
// (ClassifyPullFailure): not found, unauthorized, registry unreachable, no space; never the
// runtime's whole output.
//
// Credentials: an auth file in the runtime's format (podman's auth.json, docker's config.json),
// handed to the runtime through its environment (REGISTRY_AUTH_FILE, DOCKER_CONFIG), never on a
// command line and never logged; for an ECR-form image, the one RegistryCredentials writes with
// a token for its registry (registry_credentials.h), asked for just before the pull.
//
// Thread-safe. The destructor kills the pulls still running and joins their threads.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace trainyard::executor {

class RegistryCredentials;

// When a job's image is pulled: "always" before every job, "missing" when it is not in the
// store (the default), "never" (a missing image fails the job, and is refused at submit).
enum class PullPolicy { kAlways, kMissing, kNever };

// "always" / "missing" / "never"; InvalidArgument naming `field` otherwise.
Result<PullPolicy> ParsePullPolicy(const std::string& text, const std::string& field);
const char* PullPolicyName(PullPolicy policy);

// How to run the runtime for a pull or an inspection.
struct ImageRuntime {
  std::string runtime = "podman";                  // "podman" or "docker": its flags and formats
  std::filesystem::path runtime_path;              // the binary
  std::map<std::string, std::string> environment;  // the runtime's own environment
  // The registry credentials (see above); empty: the runtime's default.
  std::filesystem::path auth_file;
  // When set, the auth file of each pull is the one it answers for the reference (the user's,
  // or one with an ECR token), instead of `auth_file`.
  std::shared_ptr<RegistryCredentials> credentials;
  std::chrono::milliseconds inspect_timeout{30'000};
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
};

// An image in the store.
struct PresentImage {
  std::string id;  // the runtime's image id (sha256 of its config): exactly what runs
  // The repository and the manifest digest it is known by ("127.0.0.1:5000/team/trainer@sha256:
  // ..."); empty for an image that came from no registry and has no digest.
  std::string digest_reference;
  bool pulled = false;  // pulled now (false: it was in the store already)
};

// The registry host of a reference ("127.0.0.1:5000" of "127.0.0.1:5000/team/trainer:v1",
// "localhost" of "localhost/trainer"), or "" for a short name ("trainer:v1", "team/trainer").
std::string RegistryHostOf(const std::string& reference);

// The repository part of a reference: "host/team/trainer" for "host/team/trainer:v1" and
// "host/team/trainer@sha256:...". A colon in a host's port is not a tag.
std::string RepositoryOf(const std::string& reference);

// Whether `reference` has the form of an Amazon ECR image
// (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG|@DIGEST]).
bool IsEcrReference(const std::string& reference);

// An ECR-form reference with its registry replaced by `registry` ("registry.internal:5000/
// REPOSITORY:TAG"), so that a request written for AWS (a SageMaker TrainingImage) names the
// same image in a registry of this site; any other reference, or an empty `registry`, as given.
std::string MapEcrReference(const std::string& reference, const std::string& registry);

// What a failed pull's output says, for a person: "training image not found: IMAGE (...)",
// "unauthorized to pull the training image IMAGE (...)", "registry unreachable for the training
// image IMAGE (...)", "no space left ... IMAGE", else "could not pull the training image IMAGE:
// <the runtime's last line>". The code: NotFound, PermissionDenied, Unavailable,
// ResourceExhausted, Internal. `credentials`: where a person checks the registry's credentials.
Status ClassifyPullFailure(const std::string& reference, const std::string& output,
                           const std::string& credentials = "--container-auth-file");

class ImagePuller {
 public:
  ImagePuller() = default;
  ~ImagePuller();
  ImagePuller(const ImagePuller&) = delete;
  ImagePuller& operator=(const ImagePuller&) = delete;

  // The image `reference` in the store, pulled first as `policy` says; waits for a pull of the
  // same reference another job started. Under "missing" and "never", a reference this puller
  // has found or pulled before is answered from memory (pulled false), without asking the
  // runtime again: a job's start costs no `image inspect` (a runtime process) once its image is
  // known, until Forget. `stopped` is asked every 100 ms while it waits: true
  // gives up waiting (Cancelled; the pull goes on for the others). Errors: the pull's
  // (ClassifyPullFailure); FailedPrecondition for a missing image under kNever; Internal or
  // DeadlineExceeded when the runtime could not be run.
  Result<PresentImage> Ensure(const ImageRuntime& runtime, const std::string& reference,
                              PullPolicy policy, const std::function<bool()>& stopped);

  // Forgets what Ensure found for `reference`, so that the next Ensure looks at the store again
  // (and pulls, as the policy says): for a `run` that failed, maybe because the image was
  // removed from the store since.
  void Forget(const ImageRuntime& runtime, const std::string& reference);

  // The image in the store, without pulling; NotFound when it is not there.
  static Result<PresentImage> Inspect(const ImageRuntime& runtime, const std::string& reference);

  // How many pulls this puller has run (each reference pulled once however many jobs asked).
  int pulls_started() const;

 private:
  struct Resolution {
    bool done = false;
    Result<PresentImage> result = Internal("not resolved");
    pid_t pull_pid = -1;  // the running `pull`, for the destructor
  };
  void Resolve(ImageRuntime runtime, std::string reference, PullPolicy policy,
               std::shared_ptr<Resolution> resolution);
  Result<PresentImage> Pull(const ImageRuntime& runtime, const std::string& reference,
                            Resolution& resolution);

  mutable std::mutex mutex_;
  std::condition_variable resolved_;
  std::map<std::string, std::shared_ptr<Resolution>> in_flight_;  // by runtime + reference
  std::map<std::string, PresentImage> known_;                     // by runtime + reference
  std::vector<std::pair<std::shared_ptr<Resolution>, std::thread>> threads_;
  bool shutting_down_ = false;
  int pulls_started_ = 0;
};

}  // namespace trainyard::executor
