// /api/v1/sweeps.
#include "server/api/api_operations.h"
#include "server/api/api_server.h"
#include "server/api/http_helpers.h"
#include "server/api/representations.h"

namespace trainyard::server {
using nlohmann::json;

void ApiServer::CreateSweep(const HttpRequest& request, BodyReader& body,
                            ResponseWriter& response) {
  auto document = ReadJsonBody(body, options_.max_json_bytes, options_.max_json_depth);
  if (!document.ok()) return WriteError(response, document.status());
  if (std::string key = request.Header("idempotency-key");
      !key.empty() && document->is_object() && !document->contains("idempotency_key")) {
    (*document)["idempotency_key"] = key;
  }
  auto created = server::CreateSweep(metadata_, scheduler_, *document);
  if (!created.ok()) {
    // A missing dataset is the request's fault: 400 naming the field, not 404 for the URL.
    int http_status = created.status().code() == StatusCode::kNotFound ? 400 : 0;
    return WriteError(response, created.status(), http_status);
  }
  response.SetHeader("Location", "/api/v1/sweeps/" + created->id);
  WriteJson(response, created->created ? 201 : 200, created->sweep);
}

void ApiServer::ListSweeps(ResponseWriter& response) {
  auto sweeps = ListSweepSummaries(metadata_);
  if (!sweeps.ok()) return WriteError(response, sweeps.status());
  WriteJson(response, 200, {{"sweeps", *sweeps}});
}

void ApiServer::GetSweep(const std::string& id, ResponseWriter& response) {
  auto sweep = GetSweepDocument(metadata_, id);
  if (!sweep.ok()) return WriteError(response, sweep.status());
  WriteJson(response, 200, *sweep);
}

void ApiServer::StopSweep(const std::string& id, ResponseWriter& response) {
  auto sweep = server::StopSweep(metadata_, scheduler_, id);
  if (!sweep.ok()) return WriteError(response, sweep.status());
  WriteJson(response, 200, *sweep);
}

void ApiServer::RetrySweep(const std::string& id, ResponseWriter& response) {
  auto retried = server::RetrySweep(metadata_, scheduler_, id);
  if (!retried.ok()) return WriteError(response, retried.status());
  WriteJson(response, 200, {{"retried", *retried}});
}

}  // namespace trainyard::server
