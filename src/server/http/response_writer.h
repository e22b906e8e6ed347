// The ResponseWriter of one request on a connection (internal to HttpServer), and the error
// responses the server produces itself. No Beast here: the response is framed by hand.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::internal {

// A complete response that closes the connection, with the body `format` makes of the error
// (when empty: JSON, {"error":{"code":...,"message":...}}).
std::string ErrorResponse(int status, const Status& error,
                          const ErrorDocumentFormatter& format = {});

// Writes one response on a non-blocking socket. Finish completes it after the handler returned.
class ConnectionResponseWriter : public ResponseWriter {
 public:
  struct Request {
    bool head = false;    // HEAD: headers only
    bool http10 = false;  // HTTP/1.0: no chunked encoding
    bool close = false;   // the connection closes after this response
  };
  // `on_detach` gets the stream made by DetachEventStream; the socket is then no longer ours.
  // `error_document` formats the 500 of FailInternal.
  ConnectionResponseWriter(int fd, Request request, std::chrono::milliseconds write_timeout,
                           std::function<void(const EventStreamPtr&)> on_detach,
                           ErrorDocumentFormatter error_document = {});

  void SetStatus(int status) override;
  void SetHeader(const std::string& name, const std::string& value) override;
  void SetContentLength(uint64_t length) override;
  Status Write(std::string_view bytes) override;
  EventStreamPtr DetachEventStream() override;
  WebSocketPtr AcceptWebSocket(const HttpRequest& request, const std::string& subprotocol,
                               WebSocketHandlerPtr handler) override;
  bool headers_sent() const override { return headers_sent_; }

  // Where AcceptWebSocket hands the connection: `reserve` holds a place for one more (false: no
  // room), `release` gives it back when the 101 could not be sent, `adopt` takes the socket once
  // the 101 went out. Without them, AcceptWebSocket accepts none.
  struct WebSocketAcceptor {
    std::function<bool()> reserve;
    std::function<void()> release;
    std::function<WebSocketPtr(WebSocketHandlerPtr)> adopt;
  };
  void set_websocket_acceptor(WebSocketAcceptor acceptor) { acceptor_ = std::move(acceptor); }

  // Sends what the handler left unsent (the header, the last chunk). True when the connection
  // may carry another request.
  bool Finish();
  bool detached() const { return detached_; }
  // The status sent (or to be sent), and the request id among the headers, for the request log.
  int status() const { return status_; }
  std::string request_id() const;
  // Replaces an unsent response with a 500 (the handler threw).
  void FailInternal(const std::string& message);

 private:
  enum class Framing { kLength, kChunked, kUntilClose, kNone };
  Status SendHeader();
  std::string HeaderLines() const;

  int fd_;
  Request request_;
  std::chrono::milliseconds write_timeout_;
  std::function<void(const EventStreamPtr&)> on_detach_;
  ErrorDocumentFormatter error_document_;
  WebSocketAcceptor acceptor_;
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<uint64_t> content_length_;
  bool headers_sent_ = false;
  bool failed_ = false;  // the socket broke or the body was framed wrongly: close
  bool detached_ = false;
  Framing framing_ = Framing::kNone;
  uint64_t written_ = 0;
};

}  // namespace trainyard::server::internal
