// ApiServer: trainyard's REST API (docs/api.md) and GraphQL (docs/graphql.md) as an HttpServer
// handler. It checks the bearer
// token, routes each request to the handler for its resource, answers errors in the API's one
// shape, and counts requests for /metrics. The work itself is the Scheduler's, the
// MetadataStore's and the ObjectStore's.
//
// Thread-safe: HttpServer calls Handle from many threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/secret_mask.h"
#include "control/download_links.h"
#include "control/scheduler.h"
#include "graphql/schema.h"
#include "metadata/metadata_store.h"
#include "server/api/event_hub.h"
#include "server/http/http_server.h"
#include "server/web/static_files.h"
#include "storage/object_store.h"

namespace trainyard::server {

class SubscriptionPayloads;  // graphql_ws.h

struct ApiServerOptions {
  // SHA-256 (hex) of each token that may call the API. Empty: no authentication (only allowed
  // on a loopback address; the app refuses otherwise).
  std::vector<std::string> token_sha256s;
  size_t max_json_bytes = 4 << 20;  // sweep bodies and progress callbacks
  int max_json_depth = 32;
  // Distinct metric names a job may report through its progress callback; points of further
  // names are dropped with a warning in the log (docs/progress-callback.md).
  size_t max_metric_names_per_job = 100;
  std::filesystem::path upload_temp_dir;  // multipart and chunked uploads are spooled here
  std::string openapi_json;               // served at /api/v1/openapi.json
  std::string version;                    // shown by /healthz
  // The built web UI (docs/web-ui.md), served for every path outside /api, /graphql, /healthz
  // and /metrics. Empty: no UI, those paths are 404.
  std::filesystem::path web_dir;
  // The server's own secrets, masked in the log lines a job reports before they are stored
  // (common/secret_mask.h).
  SecretMask secret_mask;
  // Checks the signed links of job artifacts (control/download_links.h), which need no token;
  // null: such links are refused.
  std::shared_ptr<const control::DownloadLinkSigner> link_signer;
  // The most fields one GraphQL operation may resolve (docs/graphql.md, "Limits").
  size_t graphql_max_fields = 100'000;
  // How long a GraphQL WebSocket may wait before its connection_init (graphql_ws.h).
  std::chrono::milliseconds graphql_ws_init_timeout{3000};
  // Webhooks (docs/webhooks.md): whether targets on private addresses are allowed, how long a
  // redelivered delivery is retried, and what wakes the dispatcher (a redelivery).
  bool webhook_allow_private = false;
  std::chrono::hours webhook_retry_window{24};
  std::function<void()> wake_webhooks;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, metadata::MetadataStore& metadata,
            storage::ObjectStore& objects, control::Scheduler& scheduler, EventHub& events);

  void Handle(const HttpRequest& request, BodyReader& body, ResponseWriter& response);

 private:
  using Segments = std::vector<std::string>;
  void Route(const HttpRequest& request, const Segments& path, BodyReader& body,
             ResponseWriter& response);
  bool Authorized(const HttpRequest& request) const;
  // Whether `token` is one of the server's (not empty).
  bool TokenAllowed(const std::string& token) const;

  // datasets_api.cc
  void UploadDataset(const HttpRequest& request, BodyReader& body, ResponseWriter& response);
  void ListDatasets(ResponseWriter& response);
  void GetDataset(const std::string& id, ResponseWriter& response);
  void DeleteDataset(const std::string& id, ResponseWriter& response);
  void DownloadDataset(const HttpRequest& request, const std::string& id, ResponseWriter& response);
  // sweeps_api.cc
  void CreateSweep(const HttpRequest& request, BodyReader& body, ResponseWriter& response);
  void ListSweeps(ResponseWriter& response);
  void GetSweep(const std::string& id, ResponseWriter& response);
  void StopSweep(const std::string& id, ResponseWriter& response);
  void RetrySweep(const std::string& id, ResponseWriter& response);
  // jobs_api.cc
  void ListJobs(const HttpRequest& request, ResponseWriter& response);
  void GetJob(const std::string& name, ResponseWriter& response);
  void StopJob(const std::string& name, ResponseWriter& response);
  void JobMetrics(const HttpRequest& request, const std::string& name, ResponseWriter& response);
  void JobLogs(const HttpRequest& request, const std::string& name, ResponseWriter& response);
  void JobArtifact(const HttpRequest& request, const std::string& name, const std::string& artifact,
                   ResponseWriter& response);
  void RecordProgress(const HttpRequest& request, const std::string& name, BodyReader& body,
                      ResponseWriter& response);
  void Events(const HttpRequest& request, ResponseWriter& response);
  // webhooks_api.cc
  void CreateWebhook(BodyReader& body, ResponseWriter& response);
  void ListWebhooks(ResponseWriter& response);
  void GetWebhook(const std::string& id, ResponseWriter& response);
  void DeleteWebhook(const std::string& id, ResponseWriter& response);
  void ListDeliveries(const HttpRequest& request, const std::string& id, ResponseWriter& response);
  void Redeliver(const std::string& id, const std::string& delivery_id, ResponseWriter& response);
  // Whether the request is a job artifact download with a valid signed link (no token needed);
  // answers the refusal itself when the link is present but not valid.
  bool SignedArtifactLink(const HttpRequest& request, const Segments& path,
                          ResponseWriter& response, bool* answered);
  // graphql_api.cc: /graphql and /graphql/schema.graphql.
  void Graphql(const HttpRequest& request, const Segments& path, BodyReader& body,
               ResponseWriter& response);
  // A WebSocket upgrade of /graphql (graphql-transport-ws, graphql_ws.h); its token comes in
  // connection_init, as a browser cannot set headers on a WebSocket.
  void GraphqlWebSocket(const HttpRequest& request, ResponseWriter& response);
  // metrics_api.cc
  void Metrics(ResponseWriter& response);
  void CountRequest(const std::string& route, int status, double seconds, uint64_t bytes_in,
                    uint64_t bytes_out);

  // Streams an object (or the requested range of it) as the response body.
  void SendObject(const HttpRequest& request, const std::string& key,
                  const std::string& content_type, const std::string& download_name,
                  ResponseWriter& response);

  ApiServerOptions options_;
  metadata::MetadataStore& metadata_;
  storage::ObjectStore& objects_;
  control::Scheduler& scheduler_;
  EventHub& events_;
  StaticFiles web_;
  // Built once; an error (a bug) is answered by /graphql.
  Result<std::shared_ptr<const graphql::Schema>> graphql_schema_;
  // What the GraphQL subscriptions of all WebSockets share (graphql_ws.h).
  std::shared_ptr<SubscriptionPayloads> graphql_payloads_;

  struct RouteCounters {
    int64_t requests = 0;
    double seconds = 0;
  };
  std::mutex counters_mutex_;
  std::map<std::pair<std::string, int>, RouteCounters> counters_;  // by (route, status)
  std::atomic<uint64_t> bytes_in_{0}, bytes_out_{0};
};

}  // namespace trainyard::server
