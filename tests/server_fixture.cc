#include "server_fixture.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "archive/archive.h"
#include "common/files.h"
#include "support/curl_callbacks.h"
#include "support/free_port.h"

namespace trainyard::testing {
namespace fs = std::filesystem;
using nlohmann::json;

json HttpAnswer::Json() const {
  try {
    return json::parse(body);
  } catch (const json::parse_error&) {
    ADD_FAILURE() << "not JSON (status " << status << "): " << body.substr(0, 500);
    return json();
  }
}

HttpAnswer Call(const HttpCall& call) {
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : call.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  if (!call.bearer.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + call.bearer).c_str());
  }
  FILE* upload = nullptr;
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!call.upload_file.empty()) {
    upload = std::fopen(call.upload_file.c_str(), "rb");
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READDATA, upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(fs::file_size(call.upload_file)));
  } else if (!call.body.empty() || call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlAppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, call.timeout_ms);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  }
  if (upload) std::fclose(upload);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

namespace {

// Whether the process has ended (a zombie not yet collected by Process::Wait).
bool HasExited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren == std::string::npos || line.size() < paren + 3 || line[paren + 2] == 'Z';
}

}  // namespace

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

S3Keys WaitForS3Endpoint(const fs::path& data_dir, const std::string& endpoint) {
  S3Keys keys;
  fs::path keys_file = data_dir / "s3-credentials.json";
  WaitFor(
      [&] {
        std::ifstream in(keys_file);
        nlohmann::json written = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
        if (!written.is_object()) return false;
        keys.access_key_id = written.value("access_key_id", "");
        keys.secret_access_key = written.value("secret_access_key", "");
        return !keys.secret_access_key.empty() && Call({"GET", endpoint + "/"}).status == 403;
      },
      std::chrono::seconds(20));
  return keys;
}

void ExpectResumedFromCheckpoint(const std::string& log, int64_t step_before, int iterations) {
  const std::string resuming = "resuming from iteration ";
  size_t resumed = log.find(resuming);
  ASSERT_NE(resumed, std::string::npos) << log;
  int iteration = std::stoi(log.substr(resumed + resuming.size()));
  EXPECT_GE(iteration, step_before) << "the count continues from the last checkpoint";
  EXPECT_LT(iteration, iterations);
  EXPECT_EQ(log.find("step=0/" + std::to_string(iterations)), std::string::npos)
      << "it started over: " << log;
  EXPECT_EQ(log.find("X-Amz-Signature"), std::string::npos) << "no signature in the log";
}

std::vector<std::string> JobProcesses(const fs::path& directory) {
  std::vector<std::string> found;
  const std::string marker = "TRAINYARD_ML_ROOT=" + directory.string();
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", error)) {
    std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto environment = ReadFile(entry.path() / "environ");
    if (environment.ok() && environment->find(marker) != std::string::npos) found.push_back(pid);
  }
  return found;
}

ServerProcess::ServerProcess(fs::path data_dir, std::vector<std::string> extra_flags,
                             std::map<std::string, std::string> extra_environment)
    : data_dir_(std::move(data_dir)),
      extra_flags_(std::move(extra_flags)),
      extra_environment_(std::move(extra_environment)) {
  std::random_device random;
  token_ = "test-token-" + std::to_string(random()) + std::to_string(random());
}

ServerProcess::~ServerProcess() {
  if (process_) Stop();
}

void ServerProcess::Start() {
  Start(1);
}

void ServerProcess::Start(int attempt) {
  // A restart listens where the first start did: re-adopted jobs call back to that URL.
  bool first_start = port_ == 0;
  if (first_start) port_ = FreeLoopbackPort();
  url_ = "http://127.0.0.1:" + std::to_string(port_);
  std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard").string(),
                                   "server",
                                   "--data-dir",
                                   data_dir_.string(),
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_),
                                   "--token",
                                   token_,
                                   "--progress-interval",
                                   "1"};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  // The example trainer is found on PATH, as a registered command would be.
  std::string path = (BuildDir() / "examples" / "trainer").string() + ":" +
                     (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  std::map<std::string, std::string> environment = extra_environment_;
  environment["PATH"] = path;
  process_ = std::make_unique<Process>(argv, environment);
  // Up when an authenticated call succeeds: another server on this port would answer 401.
  bool exited = false;
  bool up = WaitFor(
      [&] {
        exited = HasExited(process_->pid());
        return exited || Get("/api/v1/datasets").status == 200;
      },
      std::chrono::seconds(20));
  if (!up || exited) {
    int exit_code = 0;
    if (exited) {
      ProcessResult result = process_->Wait(std::chrono::seconds(10));
      exit_code = result.exit_code;
      output_ = result.output;
      process_.reset();
    }
    Kill9();
    // A first start whose free port was taken before the server bound it tries another one.
    if (exited && first_start && attempt < 3 && output_.find("in use") != std::string::npos) {
      port_ = 0;
      return Start(attempt + 1);
    }
    FAIL() << "trainyard server did not start"
           << (exited ? " (it exited with " + std::to_string(exit_code) + ")" : " in 20 s") << ":\n"
           << output_;
  }
}

void ServerProcess::Stop() {
  if (!process_) return;
  process_->Signal(SIGTERM);
  output_ = process_->Wait(std::chrono::seconds(30)).output;
  process_.reset();
}

void ServerProcess::Kill9() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  output_ = process_->Wait(std::chrono::seconds(10)).output;
  process_.reset();
}

std::string ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (!process_) return output_;
  ProcessResult result = process_->Wait(timeout);
  output_ = result.output;
  process_.reset();
  return output_;
}

std::string ServerProcess::Output() {
  return output_;
}

std::string ServerProcess::OutputSoFar() {
  return process_ ? process_->OutputSoFar() : output_;
}

HttpAnswer ServerProcess::Get(const std::string& path) {
  return Call({"GET", url_ + path, "", "", {}, token_});
}

HttpAnswer ServerProcess::Post(const std::string& path, const json& body) {
  return Call(
      {"POST", url_ + path, body.dump(), "", {{"Content-Type", "application/json"}}, token_});
}

HttpAnswer ServerProcess::Delete(const std::string& path) {
  return Call({"DELETE", url_ + path, "", "", {}, token_});
}

ProcessResult ServerProcess::Cli(std::vector<std::string> arguments) {
  std::vector<std::string> argv = {(BuildDir() / "apps" / "trainyard").string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunProcess(argv, {{"TRAINYARD_URL", url_}, {"TRAINYARD_TOKEN", token_}},
                    std::chrono::seconds(120));
}

std::string ServerProcess::UploadExample(const std::string& name, const std::string& kind) {
  fs::path path = SourceDir() / "examples" / "data" / "digits" / name;
  auto result = Cli({"dataset", "upload", path.string(), "--kind", kind, "--output", "json"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  size_t brace = result.output.find('{');
  json dataset =
      json::parse(brace == std::string::npos ? "" : result.output.substr(brace), nullptr, false);
  return dataset.is_object() ? dataset.value("id", "") : "";
}

json ServerProcess::ExampleTrainerSweep(const std::string& name, const std::string& executor,
                                        const json& grid) {
  return {{"name", name},
          {"executor", executor},
          {"trainer", {{"command", {"trainyard-example-trainer"}}}},
          {"channels",
           {{"training", UploadExample("train.csv", "training")},
            {"evaluation", UploadExample("eval.csv", "evaluation")}}},
          {"hyperparameters", {{"iterations", 100}}},
          {"grid", grid},
          {"max_parallel", 2},
          {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
}

std::string ServerProcess::ExpectModelPredictionsAndLog(const std::string& job,
                                                        const fs::path& scratch) {
  HttpAnswer model = Get("/api/v1/jobs/" + job + "/artifacts/model");
  EXPECT_EQ(model.status, 200) << job;
  const fs::path archive = scratch / (job + "-model.tar.gz");
  const fs::path unpacked = scratch / (job + "-model");
  fs::create_directories(unpacked);
  std::ofstream(archive, std::ios::binary) << model.body;
  auto files = archive::Unpack(archive, unpacked);
  EXPECT_TRUE(files.ok()) << job << ": " << files.status().ToString();
  EXPECT_TRUE(fs::exists(unpacked / "model.json")) << job;
  HttpAnswer predictions = Get("/api/v1/jobs/" + job + "/artifacts/predictions");
  EXPECT_EQ(predictions.status, 200) << job;
  EXPECT_FALSE(predictions.body.empty()) << job;
  HttpAnswer log = Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_EQ(log.status, 200) << job;
  return log.body;
}

json ServerProcess::WaitForSweepEnd(const std::string& sweep_id, int64_t jobs,
                                    std::chrono::milliseconds timeout) {
  json sweep;
  WaitFor(
      [&] {
        sweep = Get("/api/v1/sweeps/" + sweep_id).Json();
        int64_t ended = 0;
        for (const char* status : {"Completed", "Failed", "Stopped"})
          ended += sweep["counts"].value(status, 0);
        return ended == jobs;
      },
      timeout);
  return sweep;
}

json ServerProcess::RunImageJob(const std::string& executor, const std::string& image,
                                std::chrono::milliseconds timeout) {
  json body = {{"name", "imaged"},
               {"executor", executor},
               {"trainer", {{"image", image}}},
               {"channels",
                {{"training", UploadExample("train.csv", "training")},
                 {"evaluation", UploadExample("eval.csv", "evaluation")}}},
               {"hyperparameters", {{"iterations", 50}, {"learning_rate", 0.1}}},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  HttpAnswer created = Post("/api/v1/sweeps", body);
  if (created.status != 201) return {{"refused", created.body}};
  return WaitForSweepEnd(created.Json()["id"].get<std::string>(), 1, timeout);
}

std::map<std::string, std::string> AwsClientEnvironment(const fs::path& home,
                                                        const std::string& key_id,
                                                        const std::string& secret) {
  fs::create_directories(home);
  return {{"AWS_ACCESS_KEY_ID", key_id},
          {"AWS_SECRET_ACCESS_KEY", secret},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          {"AWS_CONFIG_FILE", (home / "no-config").string()},
          {"AWS_SHARED_CREDENTIALS_FILE", (home / "no-credentials").string()},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_PAGER", ""},
          {"HOME", home.string()}};
}

std::string BuildPodmanTestImage(const std::string& image) {
  fs::path conf = SourceDir() / "src" / "executor" / "container" / "containers.conf";
  ::setenv("CONTAINERS_CONF", conf.c_str(), 1);
  auto built = RunProcess(
      {"/bin/sh", (SourceDir() / "examples" / "container" / "build-image.sh").string(),
       (BuildDir() / "apps" / "trainyard-wrap").string(),
       (BuildDir() / "examples" / "trainer" / "trainyard-example-trainer").string(), image},
      {}, std::chrono::seconds(120));
  if (built.exit_code != 0) return "build-image.sh failed: " + built.output;
  auto smoke = RunProcess({"podman", "run", "--rm", "--pull", "never", "--network", "none",
                           "--entrypoint", "/bin/true", image},
                          {}, std::chrono::seconds(60));
  if (smoke.exit_code != 0) return "podman cannot run a container here: " + smoke.output;
  return "";
}

std::vector<SseEvent> ReadEvents(const std::string& url, const std::string& token,
                                 const std::string& last_event_id,
                                 const std::function<bool(const std::vector<SseEvent>&)>& enough,
                                 std::chrono::milliseconds timeout) {
  struct State {
    std::string buffer;
    std::vector<SseEvent> events;
    const std::function<bool(const std::vector<SseEvent>&)>* enough;
  } state{"", {}, &enough};
  auto on_data = +[](char* data, size_t size, size_t count, void* target) -> size_t {
    auto* s = static_cast<State*>(target);
    s->buffer.append(data, size * count);
    size_t end;
    while ((end = s->buffer.find("\n\n")) != std::string::npos) {
      std::string block = s->buffer.substr(0, end);
      s->buffer.erase(0, end + 2);
      SseEvent event;
      bool has_data = false;
      size_t start = 0;
      while (start < block.size()) {
        size_t line_end = block.find('\n', start);
        if (line_end == std::string::npos) line_end = block.size();
        std::string line = block.substr(start, line_end - start);
        start = line_end + 1;
        if (line.rfind("id: ", 0) == 0) event.id = std::stoll(line.substr(4));
        if (line.rfind("event: ", 0) == 0) event.type = line.substr(7);
        if (line.rfind("data: ", 0) == 0) {
          event.data = nlohmann::json::parse(line.substr(6));
          has_data = true;
        }
      }
      if (has_data) s->events.push_back(event);
    }
    return (*s->enough)(s->events) ? 0 : size * count;  // 0 ends the transfer
  };
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
  if (!last_event_id.empty()) {
    headers = curl_slist_append(headers, ("Last-Event-ID: " + last_event_id).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return state.events;
}

}  // namespace trainyard::testing
