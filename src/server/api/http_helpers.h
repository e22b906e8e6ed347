// Small pieces every API handler uses: JSON answers, errors in the API's shape, JSON bodies read
// with limits, and std::streams over the HTTP body and response (for the object store).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/http/body_streams.h"  // ParseRange, BodyStreamBuffer, ResponseStreamBuffer
#include "server/http/http_server.h"

namespace trainyard::server {

// What a client is told when the server's disk (or quota) is full.
inline constexpr char kDiskFullMessage[] =
    "insufficient storage: the server's disk is full (No space left on device); free space on "
    "the server and try again";

void WriteJson(ResponseWriter& response, int status, const nlohmann::json& body);
// {"error": {"code", "message", "field"?}} with ToHttpStatus's status, or `http_status` if set.
// A disk-full status (Status::disk_full) is always 507 with kDiskFullMessage; its own message,
// which names the server's paths, is logged instead.
void WriteError(ResponseWriter& response, const Status& status, int http_status = 0);

// Reads and parses a JSON body: ResourceExhausted above `max_bytes`; InvalidArgument for bad
// JSON (with the byte offset) or nesting deeper than `max_depth`.
Result<nlohmann::json> ReadJsonBody(BodyReader& body, size_t max_bytes, int max_depth);

// The value of "Authorization: Bearer <token>", or "".
std::string BearerToken(const HttpRequest& request);

// Content-Disposition for a download named `filename` (RFC 6266): `attachment;
// filename="<fallback>"; filename*=UTF-8''<percent-encoded name>`. The fallback, for clients
// without RFC 8187, is the name with every byte outside printable ASCII, '"' and '\\' replaced
// by '_' (one '_' per UTF-8 character), so that no name can end the quoted string or add
// parameters.
std::string AttachmentDisposition(const std::string& filename);

// Splits "/api/v1/jobs/x/logs" into {"api", "v1", "jobs", "x", "logs"}.
std::vector<std::string> PathSegments(const std::string& path);

}  // namespace trainyard::server
