// The request log of HttpServer: one line per request, written by the server for every handler
// (the REST API, the S3 and SageMaker endpoints), so that no handler can forget it.
//
//   info api: method=GET path=/api/v1/jobs status=200 duration_ms=3 remote=127.0.0.1:51234
//
// The path is the request target without its query: a query may carry a presigned URL's
// signature or credential. No header is logged but a request id, so a token never is.
#pragma once

#include <chrono>
#include <string>

#include "server/http/http_server.h"

namespace trainyard::server::internal {

struct RequestOutcome {
  int status = 0;
  std::string request_id;  // empty when the response named none
  std::chrono::steady_clock::duration duration{};
  std::string failure;  // why the handler failed (it threw); empty when it returned
};

// "method=GET path=/api/v1/jobs status=200 duration_ms=3 remote=... [request=ID] [error=...]"
std::string RequestLogMessage(const HttpRequest& request, const RequestOutcome& outcome);

// Writes that line to `logger_name`'s logger: at warn for a 5xx, at info otherwise.
void LogRequest(const std::string& logger_name, const HttpRequest& request,
                const RequestOutcome& outcome);

// A connection answered before a request could be read (malformed or oversized header, too
// many connections), at warn: `reason` is the error sent to the client.
void LogRefusedConnection(const std::string& logger_name, const std::string& remote, int status,
                          const std::string& reason);

// True for a header that carries a request's id: S3's x-amz-request-id, AWS JSON's
// x-amzn-RequestId, or X-Request-Id (in any case).
bool IsRequestIdHeader(const std::string& name);

}  // namespace trainyard::server::internal
