// /graphql (docs/graphql.md): GraphQL over HTTP. POST with an application/json body {query,
// variables, operationName}, or GET with them as query parameters (queries only); the server's
// token as for the REST API. /graphql/schema.graphql prints the schema. A WebSocket upgrade of
// /graphql speaks graphql-transport-ws (graphql_ws.h).
#include "common/log.h"
#include "control/sweep_request.h"
#include "graphql/executor.h"
#include "server/api/api_server.h"
#include "server/api/graphql_ws.h"
#include "server/api/http_helpers.h"

namespace trainyard::server {

using nlohmann::json;

namespace {

// A request the endpoint cannot run at all, in GraphQL's shape: {"errors": [...]}.
void WriteGraphqlError(ResponseWriter& response, int http_status, const Status& status) {
  json error = {{"message", status.message()},
                {"extensions", {{"code", StatusCodeName(status.code())}}}};
  if (std::string field = control::FieldOfError(status); !field.empty()) {
    error["extensions"]["field"] = field;
  }
  WriteJson(response, http_status, {{"errors", json::array({error})}});
}

// {query, variables, operationName} from a POST body or GET's parameters, each checked.
Result<graphql::Request> ReadRequest(const json& document) {
  if (!document.is_object()) {
    return InvalidArgument("the request must be a JSON object {query, variables, operationName}");
  }
  graphql::Request request;
  if (!document.contains("query") || !document["query"].is_string()) {
    return control::FieldError("query", "must be a string holding a GraphQL document");
  }
  request.query = document["query"].get<std::string>();
  if (document.contains("operationName") && !document["operationName"].is_null()) {
    if (!document["operationName"].is_string()) {
      return control::FieldError("operationName", "must be a string or null");
    }
    request.operation_name = document["operationName"].get<std::string>();
  }
  if (document.contains("variables") && !document["variables"].is_null()) {
    if (!document["variables"].is_object()) {
      return control::FieldError("variables", "must be an object or null");
    }
    request.variables = document["variables"];
  }
  return request;
}

}  // namespace

void ApiServer::GraphqlWebSocket(const HttpRequest& request, ResponseWriter& response) {
  if (Status upgrade = CheckWebSocketUpgrade(request, kGraphqlWsSubprotocol); !upgrade.ok()) {
    return WriteGraphqlError(response, 400, upgrade);
  }
  if (!graphql_schema_.ok()) return WriteGraphqlError(response, 500, graphql_schema_.status());
  GraphqlWsOptions options;
  options.schema = *graphql_schema_;
  options.execution.max_fields = options_.graphql_max_fields;
  options.execution.error_extensions = [](const Status& status) {
    json extensions = {{"code", StatusCodeName(status.code())}};
    if (std::string field = control::FieldOfError(status); !field.empty()) {
      extensions["field"] = field;
    }
    return extensions;
  };
  if (!options_.token_sha256s.empty()) {
    options.token_allowed = [this](const std::string& token) { return TokenAllowed(token); };
  }
  options.init_timeout = options_.graphql_ws_init_timeout;
  options.payloads = graphql_payloads_;
  // Null when the client left or the server holds too many WebSockets (answered 503 then).
  (void)response.AcceptWebSocket(request, kGraphqlWsSubprotocol,
                                 MakeGraphqlWsSession(std::move(options), events_, metadata_));
}

void ApiServer::Graphql(const HttpRequest& request, const Segments& path, BodyReader& body,
                        ResponseWriter& response) {
  if (path.size() == 1 && IsWebSocketUpgrade(request)) return GraphqlWebSocket(request, response);
  if (!Authorized(request)) {
    response.SetHeader("WWW-Authenticate", "Bearer realm=\"trainyard\"");
    return WriteGraphqlError(
        response, 401,
        Status(StatusCode::kUnauthenticated, BearerToken(request).empty()
                                                 ? "this call needs 'Authorization: Bearer <token>'"
                                                 : "the token is not valid"));
  }
  if (!graphql_schema_.ok()) return WriteGraphqlError(response, 500, graphql_schema_.status());
  const graphql::Schema& schema = **graphql_schema_;
  if (path.size() == 2 && path[1] == "schema.graphql") {
    if (request.method != "GET" && request.method != "HEAD") {
      response.SetHeader("Allow", "GET");
      return WriteGraphqlError(response, 405, InvalidArgument(request.method + " is not allowed"));
    }
    response.SetStatus(200);
    response.SetHeader("Content-Type", "text/plain; charset=utf-8");
    response.WriteBody(schema.PrintDefinitionLanguage());
    return;
  }
  if (path.size() != 1) {
    return WriteGraphqlError(response, 404, NotFound("no such path: '" + request.path + "'"));
  }
  Result<graphql::Request> graphql_request = InvalidArgument("");
  if (request.method == "POST") {
    std::string content_type = request.Header("content-type");
    if (content_type.rfind("application/json", 0) != 0) {
      return WriteGraphqlError(
          response, 415,
          InvalidArgument("a GraphQL POST is application/json, not '" + content_type + "'"));
    }
    auto document = ReadJsonBody(body, options_.max_json_bytes, options_.max_json_depth);
    if (!document.ok()) {
      int http_status = document.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
      return WriteGraphqlError(response, http_status, document.status());
    }
    graphql_request = ReadRequest(*document);
  } else if (request.method == "GET" || request.method == "HEAD") {
    json document = json::object();
    for (const char* key : {"query", "operationName"}) {
      if (auto it = request.query.find(key); it != request.query.end()) document[key] = it->second;
    }
    if (auto it = request.query.find("variables"); it != request.query.end()) {
      document["variables"] = json::parse(it->second, nullptr, /*allow_exceptions=*/false);
      if (document["variables"].is_discarded()) {
        return WriteGraphqlError(response, 400,
                                 control::FieldError("variables", "must be a JSON object"));
      }
    }
    graphql_request = ReadRequest(document);
    if (graphql_request.ok()) graphql_request->queries_only = true;
  } else {
    response.SetHeader("Allow", "GET, POST");
    return WriteGraphqlError(response, 405,
                             InvalidArgument(request.method + " is not allowed on /graphql"));
  }
  if (!graphql_request.ok()) return WriteGraphqlError(response, 400, graphql_request.status());

  graphql::ExecutionOptions options;
  options.max_fields = options_.graphql_max_fields;
  options.error_extensions = [](const Status& status) {
    json extensions = {{"code", StatusCodeName(status.code())}};
    if (std::string field = control::FieldOfError(status); !field.empty()) {
      extensions["field"] = field;
    }
    return extensions;
  };
  graphql::Response answer = graphql::Execute(schema, *graphql_request, options);
  for (const graphql::Error& error : answer.errors) {
    // Returned to the client; a server-side fault is also the operator's business.
    if (error.extensions.is_object() && error.extensions.value("code", "") == "Internal") {
      Logger("api").error("graphql operation={} path={} failed: {}",
                          graphql_request->operation_name, error.path.dump(), error.message);
    }
  }
  if (answer.mutation_refused) {
    response.SetHeader("Allow", "POST");
    return WriteJson(response, 405, graphql::ToJson(answer));
  }
  WriteJson(response, 200, graphql::ToJson(answer));
}

}  // namespace trainyard::server
