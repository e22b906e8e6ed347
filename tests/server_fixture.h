// A real `trainyard server` for end-to-end tests: started as a process on a free loopback port
// with its own data dir and token, stopped (or killed) and restarted by the test; plus a small
// libcurl client that shows status, headers and body as they came.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/free_port.h"
#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::testing {

struct HttpAnswer {
  long status = 0;  // 0: no answer (connection failed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  nlohmann::json Json() const;
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string upload_file;  // streamed as the body instead of `body`
  std::map<std::string, std::string> headers;
  std::string bearer;  // Authorization: Bearer <bearer> when not empty
  long timeout_ms = 60'000;
};

HttpAnswer Call(const HttpCall& call);

// The environment of an AWS client (awscli, boto3) with these keys and nothing from this
// machine's user: no config or credentials file, no instance metadata, no pager.
std::map<std::string, std::string> AwsClientEnvironment(const std::filesystem::path& home,
                                                        const std::string& key_id,
                                                        const std::string& secret);

class ServerProcess {
 public:
  // `data_dir` survives the process, so a restart finds its state. `extra_environment` is
  // added to this process's own.
  ServerProcess(std::filesystem::path data_dir, std::vector<std::string> extra_flags = {},
                std::map<std::string, std::string> extra_environment = {});
  ~ServerProcess();

  // Starts and waits until /healthz answers (or fails the test after 20 s).
  void Start();
  void Stop();   // SIGTERM and wait
  void Kill9();  // SIGKILL and wait
  // Waits for a server that ends by itself (TRAINYARD_TEST_KILL_AT); what it printed.
  std::string WaitForExit(std::chrono::milliseconds timeout);
  // For the next Start.
  void set_extra_environment(std::map<std::string, std::string> environment) {
    extra_environment_ = std::move(environment);
  }
  std::string Output();       // what the last run printed, once it has ended
  std::string OutputSoFar();  // what the running server has printed so far (its request log)

  const std::string& url() const { return url_; }
  const std::string& token() const { return token_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }  // -1 when not running

  // Authenticated calls to the API.
  HttpAnswer Get(const std::string& path);
  HttpAnswer Post(const std::string& path, const nlohmann::json& body);
  HttpAnswer Delete(const std::string& path);

  // Runs `trainyard ARGS...` as a client of this server.
  ProcessResult Cli(std::vector<std::string> arguments);

  // Uploads examples/data/digits/<name> as a dataset of `kind`; its id ("" on failure, which
  // the test sees as a failed expectation).
  std::string UploadExample(const std::string& name, const std::string& kind);
  // The body of a sweep of the example trainer on `executor`: examples' train.csv and eval.csv
  // uploaded as its training and evaluation channels, 100 iterations, `grid`, eval_accuracy to
  // maximise, at most 2 jobs at once.
  nlohmann::json ExampleTrainerSweep(const std::string& name, const std::string& executor,
                                     const nlohmann::json& grid);
  // Expects `job`'s model (an archive holding model.json, unpacked under `scratch`), predictions
  // and log to be downloadable; the log.
  std::string ExpectModelPredictionsAndLog(const std::string& job,
                                           const std::filesystem::path& scratch);
  // Polls the sweep until its `jobs` jobs have all ended (or `timeout` passes); its last state.
  nlohmann::json WaitForSweepEnd(const std::string& sweep_id, int64_t jobs,
                                 std::chrono::milliseconds timeout);
  // Creates a sweep of one job of `image` (the example trainer's, on the digits data) on
  // `executor` and waits until it ends (or `timeout` passes); the sweep's last state, or the
  // refusal's answer as {"refused": BODY}.
  nlohmann::json RunImageJob(const std::string& executor, const std::string& image,
                             std::chrono::milliseconds timeout);

 private:
  void Start(int attempt);
  std::filesystem::path data_dir_;
  std::vector<std::string> extra_flags_;
  std::map<std::string, std::string> extra_environment_;
  // Unique to this server, so that Start knows it reached its own server and not another
  // test's that took the port meanwhile (ports are picked free, then bound by the server).
  std::string token_;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<Process> process_;
  std::string output_;
};

// One server-sent event of an event stream, with its id.
struct SseEvent {
  int64_t id = 0;
  std::string type;
  nlohmann::json data;
};

// Reads the server-sent events of `url` (the API token; Last-Event-ID when not empty) until
// `enough` says so or `timeout` passes; the events so far.
std::vector<SseEvent> ReadEvents(const std::string& url, const std::string& token,
                                 const std::string& last_event_id,
                                 const std::function<bool(const std::vector<SseEvent>&)>& enough,
                                 std::chrono::milliseconds timeout);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

struct S3Keys {
  std::string access_key_id;
  std::string secret_access_key;
};
// Waits (up to 20 s) until a server started with `--s3-listen` has written its S3 keys into
// `data_dir` and its S3 endpoint at `endpoint` ("http://127.0.0.1:PORT") answers; the keys.
// /healthz answers before the S3 endpoint is up.
S3Keys WaitForS3Endpoint(const std::filesystem::path& data_dir, const std::string& endpoint);

// Builds `image` from this build's trainyard-wrap and example trainer
// (examples/container/build-image.sh; nothing pulled) and runs it once with podman, after
// pointing CONTAINERS_CONF at src/executor/container/containers.conf for this process and the
// servers it starts. Empty when podman can run the image here; otherwise why not.
std::string BuildPodmanTestImage(const std::string& image);

// Expects `log` (a job's training.log) to be that of an example trainer's run of `iterations`
// that resumed from a checkpoint at or after `step_before`, where an earlier run of the job
// stopped: it never started over, and no presigned URL's signature shows.
void ExpectResumedFromCheckpoint(const std::string& log, int64_t step_before, int iterations);

// The pids of the processes whose environment names a job root under `directory`
// (TRAINYARD_ML_ROOT=...): the wrappers of its jobs and their commands.
std::vector<std::string> JobProcesses(const std::filesystem::path& directory);

}  // namespace trainyard::testing
