#include "server/http/response_writer.h"

#include <strings.h>

#include <nlohmann/json.hpp>

#include "server/http/request_log.h"
#include "server/http/socket_io.h"
#include "server/http/websocket_frame.h"

namespace trainyard::server::internal {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool HasNoBody(int status) {
  return status < 200 || status == 204 || status == 304;
}

// Framing is the server's business: a handler's own value would contradict it.
bool IsFramingHeader(const std::string& name) {
  return strcasecmp(name.c_str(), "content-length") == 0 ||
         strcasecmp(name.c_str(), "transfer-encoding") == 0 ||
         strcasecmp(name.c_str(), "connection") == 0;
}

}  // namespace

std::string ErrorResponse(int status, const Status& error, const ErrorDocumentFormatter& format) {
  ErrorDocument document;
  if (format) {
    document = format(status, error);
  } else {
    nlohmann::json body = {
        {"error", {{"code", StatusCodeName(error.code())}, {"message", error.message()}}}};
    document = {"application/json", body.dump()};
  }
  std::string response = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                         "\r\nContent-Type: " + document.content_type +
                         "\r\nContent-Length: " + std::to_string(document.body.size());
  for (const auto& [name, value] : document.headers) response += "\r\n" + name + ": " + value;
  return response + "\r\nConnection: close\r\n\r\n" + document.body;
}

ConnectionResponseWriter::ConnectionResponseWriter(
    int fd, Request request, std::chrono::milliseconds write_timeout,
    std::function<void(const EventStreamPtr&)> on_detach, ErrorDocumentFormatter error_document)
    : fd_(fd),
      request_(request),
      write_timeout_(write_timeout),
      on_detach_(std::move(on_detach)),
      error_document_(std::move(error_document)) {}

void ConnectionResponseWriter::SetStatus(int status) {
  if (!headers_sent_) status_ = status;
}

void ConnectionResponseWriter::SetHeader(const std::string& name, const std::string& value) {
  if (headers_sent_) return;
  if (strcasecmp(name.c_str(), "connection") == 0) {
    if (strcasecmp(value.c_str(), "close") == 0) request_.close = true;
    return;
  }
  if (IsFramingHeader(name)) return;
  for (auto& [existing, existing_value] : headers_) {
    if (strcasecmp(existing.c_str(), name.c_str()) == 0) {
      existing_value = value;
      return;
    }
  }
  headers_.emplace_back(name, value);
}

void ConnectionResponseWriter::SetContentLength(uint64_t length) {
  if (!headers_sent_) content_length_ = length;
}

std::string ConnectionResponseWriter::HeaderLines() const {
  std::string text;
  for (const auto& [name, value] : headers_) text += name + ": " + value + "\r\n";
  return text;
}

Status ConnectionResponseWriter::SendHeader() {
  headers_sent_ = true;
  std::string text =
      "HTTP/1.1 " + std::to_string(status_) + " " + Reason(status_) + "\r\n" + HeaderLines();
  if (HasNoBody(status_)) {
    framing_ = Framing::kNone;
  } else if (content_length_) {
    text += "Content-Length: " + std::to_string(*content_length_) + "\r\n";
    framing_ = request_.head ? Framing::kNone : Framing::kLength;
  } else if (request_.head) {
    framing_ = Framing::kNone;
  } else if (request_.http10) {
    framing_ = Framing::kUntilClose;
    request_.close = true;
  } else {
    text += "Transfer-Encoding: chunked\r\n";
    framing_ = Framing::kChunked;
  }
  if (request_.close) text += "Connection: close\r\n";
  text += "\r\n";
  Status sent = SendAll(fd_, text, write_timeout_);
  if (!sent.ok()) failed_ = true;
  return sent;
}

Status ConnectionResponseWriter::Write(std::string_view bytes) {
  if (detached_) return FailedPrecondition("response was detached as an event stream");
  if (failed_) return Unavailable("client went away");
  if (!headers_sent_) TY_RETURN_IF_ERROR(SendHeader());
  if (bytes.empty()) return Status::Ok();
  Status sent;
  switch (framing_) {
    case Framing::kNone: return Status::Ok();
    case Framing::kLength:
      if (written_ + bytes.size() > *content_length_) {
        failed_ = true;
        return Internal("response body longer than its Content-Length " +
                        std::to_string(*content_length_));
      }
      sent = SendAll(fd_, bytes, write_timeout_);
      break;
    case Framing::kUntilClose: sent = SendAll(fd_, bytes, write_timeout_); break;
    case Framing::kChunked: {
      char size_line[32];
      int size_length = snprintf(size_line, sizeof(size_line), "%zx\r\n", bytes.size());
      char crlf[] = "\r\n";
      iovec iov[3] = {{size_line, static_cast<size_t>(size_length)},
                      {const_cast<char*>(bytes.data()), bytes.size()},
                      {crlf, 2}};
      sent = SendAll(fd_, iov, 3, write_timeout_);
      break;
    }
  }
  if (!sent.ok()) {
    failed_ = true;
    return sent;
  }
  written_ += bytes.size();
  return Status::Ok();
}

EventStreamPtr ConnectionResponseWriter::DetachEventStream() {
  if (headers_sent_ || failed_ || detached_) return nullptr;
  headers_sent_ = true;
  // Close-delimited body: no Content-Length, no chunking, which every SSE client accepts.
  std::string text =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n" +
      HeaderLines() + "Connection: close\r\n\r\n";
  if (!SendAll(fd_, text, write_timeout_).ok()) {
    failed_ = true;
    return nullptr;
  }
  detached_ = true;
  EventStreamPtr stream = MakeSocketEventStream(fd_);
  on_detach_(stream);
  return stream;
}

WebSocketPtr ConnectionResponseWriter::AcceptWebSocket(const HttpRequest& request,
                                                       const std::string& subprotocol,
                                                       WebSocketHandlerPtr handler) {
  if (headers_sent_ || failed_ || detached_ || !acceptor_.adopt) return nullptr;
  if (!acceptor_.reserve()) {
    // Accepted only to say why in the protocol the client speaks: 1013, try again later.
    headers_sent_ = true;
    status_ = 503;
    failed_ = true;
    (void)SendAll(
        fd_,
        ErrorResponse(503, Unavailable("too many WebSocket connections open"), error_document_),
        write_timeout_);
    return nullptr;
  }
  headers_sent_ = true;
  status_ = 101;
  std::string text =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      WebSocketAcceptKey(request.Header("sec-websocket-key")) +
      "\r\nSec-WebSocket-Protocol: " + subprotocol + "\r\n" + HeaderLines() + "\r\n";
  if (!SendAll(fd_, text, write_timeout_).ok()) {
    failed_ = true;
    acceptor_.release();
    return nullptr;
  }
  detached_ = true;
  return acceptor_.adopt(std::move(handler));
}

std::string ConnectionResponseWriter::request_id() const {
  for (const auto& [name, value] : headers_) {
    if (IsRequestIdHeader(name)) return value;
  }
  return "";
}

void ConnectionResponseWriter::FailInternal(const std::string& message) {
  if (headers_sent_) {
    failed_ = true;
    return;
  }
  headers_sent_ = true;
  status_ = 500;
  failed_ = true;  // closes the connection: ErrorResponse says Connection: close
  // Best effort: the connection closes either way, and the request log has the failure.
  (void)SendAll(fd_, ErrorResponse(500, Internal(message), error_document_), write_timeout_);
}

bool ConnectionResponseWriter::Finish() {
  if (detached_) return false;
  if (!headers_sent_) {
    if (!content_length_) content_length_ = 0;
    if (!SendHeader().ok()) return false;
  }
  if (failed_) return false;
  if (framing_ == Framing::kChunked) {
    if (!SendAll(fd_, "0\r\n\r\n", write_timeout_).ok()) return false;
  }
  if (framing_ == Framing::kLength && written_ != *content_length_) return false;
  if (framing_ == Framing::kUntilClose) return false;
  return !request_.close;
}

}  // namespace trainyard::server::internal
