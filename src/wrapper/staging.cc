#include "wrapper/staging.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/archive.h"
#include "common/files.h"
#include "wrapper/curl_library.h"
#include "wrapper/sha256.h"

namespace trainyard::wrapper {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kErrorBodyLimit = 4096;

bool KnownOutput(const std::string& name) {
  return name == kStagedModel || name == kStagedOutput || name == kStagedLog ||
         name == kStagedExitRecord;
}

// A path inside the root: relative, not empty, no "." or ".." part, no empty part.
bool InsideRoot(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// The URL without its query: a presigned URL's query is its signature, a secret.
std::string WithoutQuery(const std::string& url) {
  return url.substr(0, url.find('?'));
}

// S3's <Code> in an error answer, when there is one.
std::string S3ErrorCode(const std::string& body) {
  size_t start = body.find("<Code>");
  size_t end = body.find("</Code>");
  if (start == std::string::npos || end == std::string::npos || end < start) return "";
  return body.substr(start + 6, end - start - 6);
}

// One try's outcome.
struct Attempt {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string error_body;  // the start of a non-2xx answer's body
  std::string problem;     // set when the try failed after a 2xx (size, file): retried
  // Set when the whole object came but is not the one the manifest names: not retried.
  std::string wrong_object;
};

bool Retryable(const Attempt& attempt) {
  if (!attempt.wrong_object.empty()) return false;
  if (attempt.curl != CURLE_OK) return true;
  if (!attempt.problem.empty()) return true;
  return attempt.status >= 500 || attempt.status == 408 || attempt.status == 429;
}

Status FailureOf(const Attempt& attempt, const CurlLibrary& curl, const std::string& what) {
  if (attempt.curl != CURLE_OK) {
    return Unavailable(what + " failed: " + curl.easy_strerror(attempt.curl));
  }
  if (!attempt.problem.empty()) return Unavailable(what + " failed: " + attempt.problem);
  if (!attempt.wrong_object.empty()) {
    return FailedPrecondition(what + " failed: " + attempt.wrong_object);
  }
  std::string code = S3ErrorCode(attempt.error_body);
  std::string message =
      what + " failed: HTTP " + std::to_string(attempt.status) + (code.empty() ? "" : " " + code);
  if (attempt.status == 403) {
    return Status(StatusCode::kPermissionDenied,
                  message + " (the presigned URL expired or is not this object's)");
  }
  if (Retryable(attempt)) return Unavailable(message);
  return FailedPrecondition(message);
}

void SetCommonOptions(const CurlLibrary& curl, CURL* handle, const std::string& url,
                      const TransferOptions& options) {
  curl.easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl.easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(handle, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options.stall_timeout.count()));
}

// Runs `attempt_once` up to options.attempts times while it fails in a retryable way.
template <typename AttemptOnce>
Status WithRetries(const CurlLibrary& curl, const std::string& what, const TransferOptions& options,
                   AttemptOnce attempt_once) {
  auto backoff = options.first_backoff;
  Attempt attempt;
  for (int number = 1; number <= options.attempts; ++number) {
    attempt = attempt_once();
    if (attempt.curl == CURLE_OK && attempt.problem.empty() && attempt.wrong_object.empty() &&
        attempt.status >= 200 && attempt.status < 300) {
      return Status::Ok();
    }
    if (!Retryable(attempt) || number == options.attempts) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
  return FailureOf(attempt, curl, what);
}

struct DownloadSink {
  const CurlLibrary* curl;
  CURL* handle;
  FILE* file;
  Sha256 hash;
  uint64_t written = 0;
  std::string error_body;
  bool write_failed = false;
};

size_t WriteDownload(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<DownloadSink*>(user);
  size_t bytes = size * count;
  long status = 0;
  sink->curl->easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    size_t room = kErrorBodyLimit - std::min(kErrorBodyLimit, sink->error_body.size());
    sink->error_body.append(data, std::min(room, bytes));
    return bytes;
  }
  if (std::fwrite(data, 1, bytes, sink->file) != bytes) {
    sink->write_failed = true;
    return 0;  // aborts the transfer
  }
  sink->hash.Update(data, bytes);
  sink->written += bytes;
  return bytes;
}

size_t KeepErrorBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  size_t bytes = size * count;
  size_t room = kErrorBodyLimit - std::min(kErrorBodyLimit, body->size());
  body->append(data, std::min(room, bytes));
  return bytes;
}

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  return std::fread(buffer, 1, size * count, static_cast<FILE*>(user));
}

const CurlLibrary* Curl(Status* failure) {
  std::string error;
  const CurlLibrary* curl = LoadCurlLibrary(&error);
  if (!curl) *failure = Unavailable("object-store staging needs libcurl: " + error);
  return curl;
}

}  // namespace

namespace {

Result<StagedCheckpoint> StagedCheckpointOf(const json& checkpoint, const std::string& where) {
  auto url = [&](const char* member) {
    return checkpoint.is_object() && checkpoint.value(member, json()).is_string()
               ? checkpoint[member].get<std::string>()
               : std::string();
  };
  StagedCheckpoint staged{url("get"), url("put"), url("restore_from")};
  if (staged.get_url.empty() || staged.put_url.empty() ||
      (checkpoint.contains("restore_from") && staged.restore_from_url.empty())) {
    return InvalidArgument(where +
                           ": needs get and put (presigned URLs, strings) and restore_from only "
                           "as a string");
  }
  return staged;
}

}  // namespace

Result<StagedCheckpoint> ParseCheckpointUrls(const std::string& text, const std::string& where) {
  json document = json::parse(text, nullptr, false);
  if (!document.is_object()) return InvalidArgument(where + ": not a JSON object");
  return StagedCheckpointOf(document, where);
}

Result<StagingManifest> ParseStagingManifest(const std::string& text) {
  json document = json::parse(text, nullptr, false);
  const std::string where = "TRAINYARD_STAGING";
  if (!document.is_object()) return InvalidArgument(where + ": not a JSON object");
  StagingManifest manifest;
  const json& inputs = document.contains("inputs") ? document["inputs"] : json::array();
  if (!inputs.is_array()) return InvalidArgument(where + ".inputs: not an array");
  for (size_t index = 0; index < inputs.size(); ++index) {
    const json& item = inputs[index];
    const std::string field = where + ".inputs[" + std::to_string(index) + "]";
    if (!item.is_object() || !item.value("path", json()).is_string() ||
        !item.value("url", json()).is_string() ||
        !item.value("size", json()).is_number_unsigned() ||
        !item.value("sha256", json()).is_string()) {
      return InvalidArgument(field +
                             ": needs path, url and sha256 (strings) and size (a whole number)");
    }
    StagedInput input{item["path"], item["url"], item["size"], item["sha256"]};
    if (!InsideRoot(input.path)) {
      return InvalidArgument(field + ".path '" + input.path +
                             "': must be a relative path inside the job's root (no '.', '..' or "
                             "empty parts)");
    }
    if (input.sha256.size() != 64 ||
        input.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return InvalidArgument(field + ".sha256: not 64 lowercase hex digits");
    }
    manifest.inputs.push_back(std::move(input));
  }
  if (!document.contains("outputs") || !document["outputs"].is_object()) {
    return InvalidArgument(where + ".outputs: missing or not an object");
  }
  for (const auto& [name, url] : document["outputs"].items()) {
    if (!KnownOutput(name)) {
      return InvalidArgument(where + ".outputs: '" + name +
                             "' is not an output trainyard-wrap sends (model.tar.gz, "
                             "output.tar.gz, training.log, trainyard-exit.json)");
    }
    if (!url.is_string()) return InvalidArgument(where + ".outputs." + name + ": not a string");
    manifest.outputs[name] = url.get<std::string>();
  }
  for (const char* name : {kStagedModel, kStagedOutput, kStagedLog, kStagedExitRecord}) {
    if (!manifest.outputs.contains(name)) {
      return InvalidArgument(where + ".outputs." + name + ": missing");
    }
  }
  if (document.contains("checkpoint")) {
    TY_ASSIGN_OR_RETURN(manifest.checkpoint,
                        StagedCheckpointOf(document["checkpoint"], where + ".checkpoint"));
  }
  return manifest;
}

namespace {

// What a download must be; nullopt in Download: whatever the object is.
struct ExpectedObject {
  uint64_t size = 0;
  std::string sha256;
};

Status Download(const std::string& url, const fs::path& target,
                const std::optional<ExpectedObject>& expected, const TransferOptions& options) {
  Status loaded = Status::Ok();
  const CurlLibrary* curl = Curl(&loaded);
  if (!curl) return loaded;
  TY_RETURN_IF_ERROR(MakeDirectories(target.parent_path()));
  const fs::path temporary = target.string() + ".download";
  long last_status = 0;
  Status done = WithRetries(*curl, "downloading " + WithoutQuery(url), options, [&] {
    Attempt attempt;
    FILE* file = std::fopen(temporary.c_str(), "wbe");
    if (!file) {
      attempt.problem = "cannot write '" + temporary.string() + "'";
      return attempt;
    }
    CURL* handle = curl->easy_init();
    DownloadSink sink{curl, handle, file};
    SetCommonOptions(*curl, handle, url, options);
    curl->easy_setopt(handle, CURLOPT_WRITEFUNCTION, WriteDownload);
    curl->easy_setopt(handle, CURLOPT_WRITEDATA, &sink);
    attempt.curl = curl->easy_perform(handle);
    curl->easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.status);
    curl->easy_cleanup(handle);
    last_status = attempt.status;
    bool closed = std::fclose(file) == 0;
    attempt.error_body = std::move(sink.error_body);
    if (sink.write_failed || !closed) {
      attempt.curl = CURLE_OK;
      attempt.problem = "cannot write '" + temporary.string() + "'";
    } else if (expected && attempt.curl == CURLE_OK && attempt.status >= 200 &&
               attempt.status < 300) {
      if (sink.written != expected->size) {
        attempt.problem = "got " + std::to_string(sink.written) + " bytes, expected " +
                          std::to_string(expected->size);
      } else if (std::string digest = sink.hash.FinishHex(); digest != expected->sha256) {
        attempt.wrong_object = "SHA-256 " + digest + ", expected " + expected->sha256;
      }
    }
    return attempt;
  });
  std::error_code error;
  if (!done.ok()) {
    fs::remove(temporary, error);
    if (last_status == 404) return NotFound(done.message());
    return done;
  }
  fs::rename(temporary, target, error);
  if (error)
    return Internal("cannot move '" + temporary.string() + "' into place: " + error.message());
  return Status::Ok();
}

}  // namespace

Status DownloadFile(const std::string& url, const fs::path& target, uint64_t size,
                    const std::string& sha256, const TransferOptions& options) {
  return Download(url, target, ExpectedObject{size, sha256}, options);
}

Status DownloadObject(const std::string& url, const fs::path& target,
                      const TransferOptions& options) {
  return Download(url, target, std::nullopt, options);
}

Status UploadFile(const std::string& url, const fs::path& source, const TransferOptions& options) {
  Status loaded = Status::Ok();
  const CurlLibrary* curl = Curl(&loaded);
  if (!curl) return loaded;
  std::error_code error;
  const uint64_t size = fs::file_size(source, error);
  if (error) return Internal("cannot read '" + source.string() + "': " + error.message());
  return WithRetries(*curl, "uploading " + WithoutQuery(url), options, [&] {
    Attempt attempt;
    FILE* file = std::fopen(source.c_str(), "rbe");
    if (!file) {
      attempt.problem = "cannot read '" + source.string() + "'";
      return attempt;
    }
    CURL* handle = curl->easy_init();
    // No "Expect: 100-continue": a presigned PUT has nothing to negotiate, and some servers
    // hold the body a second for it.
    curl_slist* headers = curl->slist_append(nullptr, "Expect:");
    SetCommonOptions(*curl, handle, url, options);
    curl->easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl->easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl->easy_setopt(handle, CURLOPT_READFUNCTION, ReadUpload);
    curl->easy_setopt(handle, CURLOPT_READDATA, file);
    curl->easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    curl->easy_setopt(handle, CURLOPT_WRITEFUNCTION, KeepErrorBody);
    curl->easy_setopt(handle, CURLOPT_WRITEDATA, &attempt.error_body);
    attempt.curl = curl->easy_perform(handle);
    curl->easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &attempt.status);
    curl->easy_cleanup(handle);
    curl->slist_free_all(headers);
    std::fclose(file);
    return attempt;
  });
}

Status DownloadInputs(const contract::MlRoot& root, const StagingManifest& manifest,
                      const TransferOptions& options,
                      const std::function<void(const std::string&)>& say) {
  const std::string channel_prefix = "input/data/";
  for (const StagedInput& input : manifest.inputs) {
    auto started = std::chrono::steady_clock::now();
    Status done =
        DownloadFile(input.url, root.root() / input.path, input.size, input.sha256, options);
    if (!done.ok()) {
      if (input.path.starts_with(channel_prefix)) {
        std::string rest = input.path.substr(channel_prefix.size());
        std::string channel = rest.substr(0, rest.find('/'));
        return FailedPrecondition("channel '" + channel + "': downloading '" +
                                  rest.substr(channel.size() + 1) + "' failed: " + done.message());
      }
      return Unavailable("downloading the job's '" + input.path + "' failed: " + done.message());
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    say("downloaded " + input.path + " (" + std::to_string(input.size) + " bytes in " +
        std::to_string(elapsed.count()) + " ms)");
  }
  return Status::Ok();
}

Status UploadOutputs(const contract::MlRoot& root, const StagingManifest& manifest,
                     const TransferOptions& options,
                     const std::function<void(const std::string&)>& say) {
  // Packed outside output/data/, which output.tar.gz holds.
  const fs::path packed = root.output_dir() / "staging";
  TY_RETURN_IF_ERROR(MakeDirectories(packed));
  Status first_failure = Status::Ok();
  auto upload = [&](const std::string& name, const fs::path& file) {
    auto started = std::chrono::steady_clock::now();
    Status done = UploadFile(manifest.outputs.at(name), file, options);
    if (!done.ok()) {
      done = Status(done.code(), "uploading " + name + " failed: " + done.message());
      say(done.message());
      if (first_failure.ok()) first_failure = done;
      return;
    }
    std::error_code error;
    auto bytes = fs::file_size(file, error);
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    say("uploaded " + name + " (" + std::to_string(error ? 0 : bytes) + " bytes in " +
        std::to_string(elapsed.count()) + " ms)");
  };
  for (const auto& [name, directory] :
       {std::pair<std::string, fs::path>{kStagedModel, root.model_dir()},
        std::pair<std::string, fs::path>{kStagedOutput, root.output_data_dir()}}) {
    Status made = MakeDirectories(directory);
    if (made.ok()) made = archive::PackTarGz(directory, packed / name);
    if (!made.ok()) {
      made = Status(made.code(), "packing " + name + " failed: " + made.message());
      say(made.message());
      if (first_failure.ok()) first_failure = made;
      continue;
    }
    upload(name, packed / name);
  }
  if (fs::exists(root.log_file())) upload(kStagedLog, root.log_file());
  return first_failure;
}

}  // namespace trainyard::wrapper
