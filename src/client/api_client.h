// ApiClient: the trainyard REST API (docs/api.md) as seen from a client, over libcurl.
//
// Every call returns a Result: a server's error JSON ({"error": {"code", "message"}}) becomes a
// Status with that code and message, so the CLI exits as the server meant (ToExitCode); a server
// that cannot be reached is Unavailable naming its URL. Uploads and downloads stream through a
// fixed buffer, so files of any size pass without being held in memory.
//
// One ApiClient makes one call at a time (it is not shared between threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "client/sse_parser.h"
#include "common/status.h"

namespace trainyard::client {

struct ApiClientOptions {
  std::string base_url = "http://127.0.0.1:8080";  // the server, without /api/v1
  std::string token;                               // sent as "Authorization: Bearer <token>"
  // The limit for connecting and for a whole JSON call; transfers and event streams have no
  // total limit, but a transfer that moves nothing for this long fails.
  std::chrono::milliseconds timeout{30000};
};

// A raw answer, for calls whose success is not JSON (GET .../logs answers text).
struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

// Called as bytes move: (bytes done, total bytes or -1 when unknown).
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

struct UploadRequest {
  std::filesystem::path file;
  std::string name;      // the dataset's name
  std::string kind;      // training | evaluation | pretrained | config | other
  std::string filename;  // the name the job sees; empty: the server's default
  std::string sha256;    // hex; sent as X-Content-SHA256 only when given
  ProgressCallback progress;
};

struct DownloadRequest {
  std::string path;  // "/api/v1/..." (with its query)
  // Where the bytes go. Empty: in the current directory, named by the answer's
  // Content-Disposition filename, else by `fallback_name`.
  std::filesystem::path output;
  std::string fallback_name = "download";
  ProgressCallback progress;
};

class ApiClient {
 public:
  explicit ApiClient(ApiClientOptions options);

  const ApiClientOptions& options() const { return options_; }

  // JSON calls. `path` starts with "/api/v1/" and carries its query, already escaped (Escape).
  // An empty success answer (204) is an empty JSON object.
  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Post(const std::string& path,
                              const nlohmann::json& body = nlohmann::json::object(),
                              const std::map<std::string, std::string>& headers = {});
  Result<nlohmann::json> Delete(const std::string& path);
  // Any method; the body is returned as text, and error answers still become a Status.
  Result<HttpResponse> Send(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {});

  // POST /api/v1/datasets?name=&kind=&filename= with the file as the raw body (Content-Length
  // set, read piece by piece). The created dataset.
  Result<nlohmann::json> UploadDataset(const UploadRequest& request);

  // GETs `request.path` into a temp file beside the target, renamed onto it only when every
  // byte arrived: a failed download leaves no file. The path written.
  Result<std::filesystem::path> Download(const DownloadRequest& request);

  // GETs `path` as text/event-stream and calls `on_event` for each event as it arrives. Returns
  // OK when the server ends the stream or `on_event` returns false.
  Status StreamEvents(const std::string& path, const SseParser::Callback& on_event);

  // The URL-escaped form of a path segment or query value ("a b/c" -> "a%20b%2Fc").
  static std::string Escape(const std::string& text);

 private:
  std::string Url(const std::string& path) const;

  ApiClientOptions options_;
};

// The Status for an error answer: the JSON error's code and message, or, for a body that is not
// such JSON, a code chosen from the HTTP status and the start of the body.
Status StatusFromErrorResponse(long http_status, const std::string& body);

}  // namespace trainyard::client
