// ApiClient's streaming calls: dataset upload and file download.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "client/api_client.h"
#include "client/curl_call.h"

namespace trainyard::client {

namespace fs = std::filesystem;

namespace {

struct UploadState {
  std::FILE* file = nullptr;
  int64_t size = 0;
  int64_t done = 0;
  const ProgressCallback* progress = nullptr;
  std::string error;
};

size_t ReadForUpload(char* buffer, size_t size, size_t count, void* opaque) {
  auto* state = static_cast<UploadState*>(opaque);
  size_t n = std::fread(buffer, 1, size * count, state->file);
  if (n == 0 && state->done < state->size) {
    // Stopping short of the announced Content-Length would leave the server waiting.
    state->error =
        std::ferror(state->file) ? std::strerror(errno) : "the file shrank while it was read";
    return CURL_READFUNC_ABORT;
  }
  state->done += static_cast<int64_t>(n);
  if (*state->progress) (*state->progress)(state->done, state->size);
  return n;
}

struct DownloadState {
  CurlCall* call = nullptr;
  std::FILE* file = nullptr;
  int64_t done = 0;
  const ProgressCallback* progress = nullptr;
  std::string error_body;
  std::string write_error;
};

size_t WriteForDownload(char* data, size_t size, size_t count, void* opaque) {
  auto* state = static_cast<DownloadState*>(opaque);
  size_t bytes = size * count;
  if (state->call->status() >= 400) {
    // The error JSON goes to memory, never into the user's file.
    if (state->error_body.size() < kMaxErrorBody) state->error_body.append(data, bytes);
    return bytes;
  }
  if (std::fwrite(data, 1, bytes, state->file) != bytes) {
    state->write_error = std::strerror(errno);
    return 0;
  }
  state->done += static_cast<int64_t>(bytes);
  if (*state->progress) {
    int64_t total = -1;
    auto length = state->call->headers().find("content-length");
    if (length != state->call->headers().end())
      total = std::strtoll(length->second.c_str(), nullptr, 10);
    (*state->progress)(state->done, total);
  }
  return bytes;
}

// The decoded value of `filename*=UTF-8''<percent-encoded>` (RFC 6266, 8187), or "" when there
// is none or it decodes to a NUL.
std::string ExtendedFilename(const std::string& header) {
  const std::string parameter = "filename*=UTF-8''";
  size_t at = header.find(parameter);
  if (at == std::string::npos) return "";
  std::string encoded = header.substr(at + parameter.size());
  encoded = encoded.substr(0, encoded.find(';'));
  std::string value;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() &&
        std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(encoded[i + 2]))) {
      value += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (encoded[i] != ' ' && encoded[i] != '\t') {
      value += encoded[i];
    }
  }
  return value.find('\0') == std::string::npos ? value : "";
}

// The file name of `attachment; filename="x.csv"` (or of its exact form, `filename*`, which
// wins), reduced to a plain name (no directories), so a server cannot make the client write
// outside the current directory; empty if none.
std::string FilenameFromContentDisposition(const std::string& header) {
  std::string value = ExtendedFilename(header);
  size_t at = header.find("filename=");
  if (value.empty() && at == std::string::npos) return "";
  if (!value.empty()) {
    // Already decoded: only the plain-name rules below apply.
  } else if (value = header.substr(at + 9); !value.empty() && value.front() == '"') {
    size_t end = value.find('"', 1);
    value = value.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  } else {
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  }
  if (size_t slash = value.find_last_of("/\\"); slash != std::string::npos) {
    value = value.substr(slash + 1);
  }
  if (value == "." || value == "..") return "";
  return value;
}

}  // namespace

Result<nlohmann::json> ApiClient::UploadDataset(const UploadRequest& request) {
  std::error_code error;
  if (!fs::is_regular_file(request.file, error)) {
    return NotFound("'" + request.file.string() + "' is not a readable file");
  }
  int64_t size = static_cast<int64_t>(fs::file_size(request.file, error));
  if (error) return NotFound("cannot read '" + request.file.string() + "': " + error.message());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(request.file.c_str(), "rb"),
                                                       std::fclose);
  if (!file) {
    return Status(errno == EACCES ? StatusCode::kPermissionDenied : StatusCode::kNotFound,
                  "cannot open '" + request.file.string() + "': " + std::strerror(errno));
  }
  std::string path =
      "/api/v1/datasets?name=" + Escape(request.name) + "&kind=" + Escape(request.kind);
  if (!request.filename.empty()) path += "&filename=" + Escape(request.filename);

  UploadState state{file.get(), size, 0, &request.progress, ""};
  CurlCall call(options_, "POST", Url(path));
  call.UseStallTimeout();
  curl_easy_setopt(call.handle(), CURLOPT_READFUNCTION, ReadForUpload);
  curl_easy_setopt(call.handle(), CURLOPT_READDATA, &state);
  curl_easy_setopt(call.handle(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  call.AddHeader("Content-Type", "application/octet-stream");
  call.AddHeader("Accept", "application/json");
  if (!request.sha256.empty()) call.AddHeader("X-Content-SHA256", request.sha256);
  Status sent = call.Perform();
  if (!state.error.empty()) {
    return Internal("cannot read '" + request.file.string() + "': " + state.error);
  }
  // A server that refuses early (413, 401) may close before taking the whole body: its answer,
  // when it arrived, says more than the send error.
  if (call.status() >= 400) return StatusFromErrorResponse(call.status(), call.body());
  TY_RETURN_IF_ERROR(sent);
  nlohmann::json json = nlohmann::json::parse(call.body(), nullptr, false);
  if (json.is_discarded()) return Internal("the server's answer to the upload is not JSON");
  return json;
}

Result<fs::path> ApiClient::Download(const DownloadRequest& request) {
  // An existing directory as the output means "in there, under the server's name".
  std::error_code error;
  bool into_directory = !request.output.empty() && fs::is_directory(request.output, error);
  fs::path directory = request.output.empty() ? fs::path(".")
                       : into_directory       ? request.output
                                              : request.output.parent_path();
  if (directory.empty()) directory = ".";
  std::string base = request.output.empty() || into_directory ? request.fallback_name
                                                              : request.output.filename().string();
  std::string temp = (directory / ("." + base + ".part-XXXXXX")).string();
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return Status(errno == EACCES ? StatusCode::kPermissionDenied : StatusCode::kNotFound,
                  "cannot create a file in '" + directory.string() + "': " + std::strerror(errno));
  }
  // mkstemp makes the file 0600; a downloaded file gets the usual mode.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  std::FILE* file = ::fdopen(fd, "wb");
  if (file == nullptr) {
    ::close(fd);
    std::remove(temp.c_str());
    return Internal("cannot open '" + temp + "': " + std::strerror(errno));
  }
  auto discard = [&](Status status) -> Status {
    if (file) std::fclose(file);
    file = nullptr;
    std::remove(temp.c_str());
    return status;
  };

  CurlCall call(options_, "GET", Url(request.path));
  call.UseStallTimeout();
  DownloadState state{&call, file, 0, &request.progress, "", ""};
  curl_easy_setopt(call.handle(), CURLOPT_WRITEFUNCTION, WriteForDownload);
  curl_easy_setopt(call.handle(), CURLOPT_WRITEDATA, &state);
  Status done = call.Perform();
  if (!state.write_error.empty()) {
    return discard(Internal("cannot write '" + temp + "': " + state.write_error));
  }
  if (call.status() >= 400)
    return discard(StatusFromErrorResponse(call.status(), state.error_body));
  if (!done.ok()) return discard(done);
  if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0) {
    return discard(Internal("cannot write '" + temp + "': " + std::strerror(errno)));
  }
  std::fclose(file);
  file = nullptr;

  fs::path target = request.output;
  if (target.empty() || into_directory) {
    auto header = call.headers().find("content-disposition");
    std::string name =
        header == call.headers().end() ? "" : FilenameFromContentDisposition(header->second);
    target = directory / (name.empty() ? request.fallback_name : name);
    if (!into_directory) target = target.filename();
  }
  if (std::rename(temp.c_str(), target.c_str()) != 0) {
    return discard(Internal("cannot rename '" + temp + "' to '" + target.string() +
                            "': " + std::strerror(errno)));
  }
  return target;
}

}  // namespace trainyard::client
