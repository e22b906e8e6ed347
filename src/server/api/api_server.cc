#include "server/api/api_server.h"

#include <chrono>

#include "common/log.h"
#include "control/job_tokens.h"
#include "server/api/graphql_schema.h"
#include "server/api/graphql_ws.h"
#include "server/api/http_helpers.h"

namespace trainyard::server {
namespace {

// Counts what passes through, for /metrics, and remembers the status sent.
class CountingResponse : public ResponseWriter {
 public:
  explicit CountingResponse(ResponseWriter& inner) : inner_(inner) {}
  void SetStatus(int status) override {
    status_ = status;
    inner_.SetStatus(status);
  }
  void SetHeader(const std::string& name, const std::string& value) override {
    inner_.SetHeader(name, value);
  }
  void SetContentLength(uint64_t length) override { inner_.SetContentLength(length); }
  Status Write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return inner_.Write(bytes);
  }
  EventStreamPtr DetachEventStream() override {
    status_ = 200;
    return inner_.DetachEventStream();
  }
  WebSocketPtr AcceptWebSocket(const HttpRequest& request, const std::string& subprotocol,
                               WebSocketHandlerPtr handler) override {
    status_ = 101;
    return inner_.AcceptWebSocket(request, subprotocol, std::move(handler));
  }
  bool headers_sent() const override { return inner_.headers_sent(); }
  int status() const { return status_; }
  uint64_t bytes() const { return bytes_; }

 private:
  ResponseWriter& inner_;
  int status_ = 200;
  uint64_t bytes_ = 0;
};

class CountingBody : public BodyReader {
 public:
  explicit CountingBody(BodyReader& inner) : inner_(inner) {}
  Result<size_t> Read(char* buffer, size_t capacity) override {
    auto got = inner_.Read(buffer, capacity);
    if (got.ok()) bytes_ += *got;
    return got;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  BodyReader& inner_;
  uint64_t bytes_ = 0;
};

// The route's pattern, for /metrics labels: ids and names become {id} and {name}, and every
// path of the web UI is one label.
std::string RouteLabel(const std::vector<std::string>& path) {
  if (path.empty() ||
      (path[0] != "api" && path[0] != "healthz" && path[0] != "metrics" && path[0] != "graphql")) {
    return "/{web}";
  }
  std::string label;
  for (size_t i = 0; i < path.size(); ++i) {
    bool is_identifier = i == 3 && path.size() > 3 && path[0] == "api";
    bool is_delivery = i == 5 && path.size() == 7 && path[0] == "api" && path[2] == "webhooks";
    if (is_delivery) {
      label += "/{delivery}";
      continue;
    }
    label += "/" + (is_identifier ? (path[2] == "jobs" ? "{name}" : "{id}") : path[i]);
  }
  return label.empty() ? "/" : label;
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, metadata::MetadataStore& metadata,
                     storage::ObjectStore& objects, control::Scheduler& scheduler, EventHub& events)
    : options_(std::move(options)),
      metadata_(metadata),
      objects_(objects),
      scheduler_(scheduler),
      events_(events),
      web_({options_.web_dir}),
      graphql_schema_(BuildGraphqlSchema(metadata, scheduler)),
      graphql_payloads_(std::make_shared<SubscriptionPayloads>()) {
  if (!graphql_schema_.ok()) {
    Logger("api").error("/graphql is out of service: {}", graphql_schema_.status().message());
  }
}

bool ApiServer::Authorized(const HttpRequest& request) const {
  if (options_.token_sha256s.empty()) return true;
  return TokenAllowed(BearerToken(request));
}

bool ApiServer::TokenAllowed(const std::string& token) const {
  if (token.empty()) return false;
  std::string digest = control::TokenSha256(token);
  for (const std::string& allowed : options_.token_sha256s) {
    if (control::ConstantTimeEquals(digest, allowed)) return true;
  }
  return false;
}

void ApiServer::Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response) {
  auto start = std::chrono::steady_clock::now();
  CountingResponse counted_response(response);
  CountingBody counted_body(body);
  Segments path = PathSegments(request.path);
  try {
    Route(request, path, counted_body, counted_response);
  } catch (const std::exception& error) {
    // A bug, not an expected failure: answer 500 rather than drop the connection.
    WriteError(counted_response, Internal(std::string("unexpected error: ") + error.what()));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CountRequest(request.method + " " + RouteLabel(path), counted_response.status(), seconds,
               counted_body.bytes(), counted_response.bytes());
}

void ApiServer::Route(const HttpRequest& request, const Segments& path, BodyReader& body,
                      ResponseWriter& response) {
  const std::string& method = request.method;
  // HEAD is GET without the body (SendObject and the HTTP server leave the body out).
  auto is = [&](const char* expected) {
    return method == expected || (method == "HEAD" && std::string_view(expected) == "GET");
  };
  if (path == Segments{"healthz"} && is("GET")) {
    // A draining server (SIGUSR1) still serves every call, but tells a load balancer's health
    // check to send it no more: its jobs end here while the other replicas take the new work.
    if (!scheduler_.claiming()) {
      return WriteJson(response, 503, {{"status", "draining"}, {"version", options_.version}});
    }
    return WriteJson(response, 200, {{"status", "ok"}, {"version", options_.version}});
  }
  if (path == Segments{"metrics"} && is("GET")) return Metrics(response);
  if (!path.empty() && path[0] == "graphql") return Graphql(request, path, body, response);
  if (path.size() < 2 || path[0] != "api" || path[1] != "v1") {
    // Outside /api, the web UI's files and pages (it routes in the browser).
    if (!options_.web_dir.empty() && (path.empty() || path[0] != "api")) {
      return web_.Handle(request, response);
    }
    return WriteError(response, NotFound("no such path: '" + request.path + "'"));
  }
  if (path == Segments{"api", "v1", "openapi.json"} && is("GET")) {
    response.SetHeader("Content-Type", "application/json");
    response.WriteBody(options_.openapi_json);
    return;
  }
  // The wrapper's callback authenticates with the job's own token.
  if (path.size() == 5 && path[2] == "jobs" && path[4] == "progress" && is("POST")) {
    return RecordProgress(request, path[3], body, response);
  }
  // A signed link to a job's artifact (control/download_links.h) stands in for the token.
  if (path.size() == 6 && path[2] == "jobs" && path[4] == "artifacts" && is("GET") &&
      request.query.contains("signature") && request.Header("authorization").empty()) {
    bool answered = false;
    if (SignedArtifactLink(request, path, response, &answered)) {
      return JobArtifact(request, path[3], path[5], response);
    }
    if (answered) return;
  }
  if (!Authorized(request)) {
    response.SetHeader("WWW-Authenticate", "Bearer realm=\"trainyard\"");
    return WriteError(response, Status(StatusCode::kUnauthenticated,
                                       BearerToken(request).empty()
                                           ? "this call needs 'Authorization: Bearer <token>'"
                                           : "the token is not valid"));
  }
  const std::string resource = path[2];
  const std::string id = path.size() > 3 ? path[3] : "";
  auto method_not_allowed = [&] {
    WriteError(response, InvalidArgument(method + " is not allowed on '" + request.path + "'"),
               405);
  };
  if (resource == "datasets") {
    if (path.size() == 3) {
      if (is("POST")) return UploadDataset(request, body, response);
      if (is("GET")) return ListDatasets(response);
      return method_not_allowed();
    }
    if (path.size() == 4) {
      if (is("GET")) return GetDataset(id, response);
      if (is("DELETE")) return DeleteDataset(id, response);
      return method_not_allowed();
    }
    if (path.size() == 5 && path[4] == "content") {
      return is("GET") ? DownloadDataset(request, id, response) : method_not_allowed();
    }
  } else if (resource == "sweeps") {
    if (path.size() == 3) {
      if (is("POST")) return CreateSweep(request, body, response);
      if (is("GET")) return ListSweeps(response);
      return method_not_allowed();
    }
    if (path.size() == 4) return is("GET") ? GetSweep(id, response) : method_not_allowed();
    if (path.size() == 5 && path[4] == "stop") {
      return is("POST") ? StopSweep(id, response) : method_not_allowed();
    }
    if (path.size() == 5 && path[4] == "retry") {
      return is("POST") ? RetrySweep(id, response) : method_not_allowed();
    }
  } else if (resource == "jobs") {
    if (path.size() == 3) return is("GET") ? ListJobs(request, response) : method_not_allowed();
    if (path.size() == 4) return is("GET") ? GetJob(id, response) : method_not_allowed();
    if (path.size() == 5 && path[4] == "stop") {
      return is("POST") ? StopJob(id, response) : method_not_allowed();
    }
    if (path.size() == 5 && path[4] == "metrics") {
      return is("GET") ? JobMetrics(request, id, response) : method_not_allowed();
    }
    if (path.size() == 5 && path[4] == "logs") {
      return is("GET") ? JobLogs(request, id, response) : method_not_allowed();
    }
    if (path.size() == 6 && path[4] == "artifacts") {
      return is("GET") ? JobArtifact(request, id, path[5], response) : method_not_allowed();
    }
  } else if (resource == "webhooks") {
    if (path.size() == 3) {
      if (is("POST")) return CreateWebhook(body, response);
      if (is("GET")) return ListWebhooks(response);
      return method_not_allowed();
    }
    if (path.size() == 4) {
      if (is("GET")) return GetWebhook(id, response);
      if (is("DELETE")) return DeleteWebhook(id, response);
      return method_not_allowed();
    }
    if (path.size() == 5 && path[4] == "deliveries") {
      return is("GET") ? ListDeliveries(request, id, response) : method_not_allowed();
    }
    if (path.size() == 7 && path[4] == "deliveries" && path[6] == "redeliver") {
      return is("POST") ? Redeliver(id, path[5], response) : method_not_allowed();
    }
  } else if (resource == "events" && path.size() == 3) {
    return is("GET") ? Events(request, response) : method_not_allowed();
  }
  WriteError(response, NotFound("no such path: '" + request.path + "'"));
}

void ApiServer::SendObject(const HttpRequest& request, const std::string& key,
                           const std::string& content_type, const std::string& download_name,
                           ResponseWriter& response) {
  // Opened once: the headers and the bytes sent are of one version, whatever Puts come.
  auto opened = objects_.OpenVersion(key);
  if (!opened.ok()) return WriteError(response, opened.status());
  storage::ObjectReader& reader = **opened;
  const storage::ObjectInfo* info = &reader.info();
  auto range = ParseRange(request.Header("range"), info->size);
  if (!range.ok()) {
    response.SetHeader("Content-Range", "bytes */" + std::to_string(info->size));
    return WriteError(response, range.status(), 416);
  }
  response.SetHeader("Content-Type", content_type);
  response.SetHeader("Accept-Ranges", "bytes");
  // An object whose digest the store does not know (an S3 multipart upload) has no ETag.
  if (!info->sha256_hex.empty()) response.SetHeader("ETag", "\"" + info->sha256_hex + "\"");
  if (!download_name.empty()) {
    response.SetHeader("Content-Disposition", AttachmentDisposition(download_name));
  }
  std::optional<storage::ByteRange> byte_range;
  uint64_t length = info->size;
  if (range->has_value()) {
    const RangeRequest& wanted = **range;
    response.SetStatus(206);
    response.SetHeader("Content-Range", "bytes " + std::to_string(wanted.offset) + "-" +
                                            std::to_string(wanted.offset + wanted.length - 1) +
                                            "/" + std::to_string(info->size));
    byte_range = storage::ByteRange{wanted.offset, wanted.length};
    length = wanted.length;
  } else {
    response.SetStatus(200);
  }
  response.SetContentLength(length);
  if (request.method == "HEAD") return;
  ResponseStreamBuffer buffer(response);
  std::ostream sink(&buffer);
  Status sent = reader.Read(sink, byte_range);
  sink.flush();
  // After the headers, a failure can only cut the body short; the client sees the length
  // mismatch.
  if (!sent.ok() && !response.headers_sent()) WriteError(response, sent);
}

}  // namespace trainyard::server
