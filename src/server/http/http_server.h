// HttpServer: trainyard's HTTP/1.1 server, on Boost.Beast. It knows nothing of trainyard's API:
// it parses requests, hands each one to a Handler with a streaming body reader and a streaming
// response writer, and keeps connections alive between requests.
//
// Connections (docs/architecture.md, "server/http"): one reactor thread (epoll) holds every
// connection that is not inside a handler: a new connection, one waiting for its next keep-alive
// request, one still sending its header. It reads a header into a small buffer of the connection's
// own (at most `max_header_bytes`), within `header_timeout` for the whole header, and closes
// connections idle for `idle_timeout`. Only a connection with a complete header goes to a handler
// thread (a pool of at most `max_handler_threads`, grown on demand; at most
// `max_requests_per_client` of one client address at once), which parses it with Beast, reads the
// body synchronously and writes the response; a keep-alive connection then goes back to the
// reactor, a closed one is drained there for a second. So idle and slow connections cost a file
// descriptor and their buffered bytes, never a thread. A server-sent-events response is *detached*
// from its thread (ResponseWriter::DetachEventStream): the connection is then written by whoever
// holds the EventStream, so thousands of idle event streams hold no thread each.
//
// Everything here is thread-safe unless said otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace trainyard::server {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: "/api/v1/jobs?sweep=sw-1&limit=10"
  std::string path;                            // percent-decoded path: "/api/v1/jobs"
  std::map<std::string, std::string> query;    // percent-decoded (and '+' as space); last wins
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined ", "
  std::optional<uint64_t> content_length;      // nullopt: chunked, or no body
  std::string remote_address;                  // "127.0.0.1:51234"

  // The header's value, or "" when absent. `name` in lower case.
  const std::string& Header(const std::string& name) const;
};

// Reads the request body, in pieces, as it arrives. Not thread-safe: used by the handler's thread.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Up to `capacity` bytes into `buffer`; 0 at the end of the body. Unavailable when the client
  // went away or stopped sending (body read timeout); ResourceExhausted past `max_body_bytes`
  // of the server's options.
  virtual Result<size_t> Read(char* buffer, size_t capacity) = 0;
  // The whole (rest of the) body, refused with ResourceExhausted above `limit` bytes.
  Result<std::string> ReadAll(size_t limit);
};

// A detached server-sent-events connection. Neither Send nor SendSome blocks: with Send, an
// event that does not fit in the socket's buffer closes the stream (the client reconnects with
// Last-Event-ID and loses nothing); SendSome writes what fits and leaves the rest to the caller.
// Thread-safe.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Writes raw bytes (one or more complete "id:/event:/data:" blocks, or a ": comment\n\n").
  // false once the stream is closed (by the client, a failed write, or Close).
  virtual bool Send(std::string_view bytes) = 0;
  // Writes as much of `bytes` as the socket's buffer takes now, never blocking: the count
  // written (0 when the buffer is full; the stream stays open), or nullopt once the stream is
  // closed. For a writer that keeps what did not fit and sends it later instead of losing the
  // stream; the bytes not written are the caller's to send next, before anything else.
  virtual std::optional<size_t> SendSome(std::string_view bytes) = 0;
  virtual bool closed() const = 0;
  virtual void Close() = 0;
};
using EventStreamPtr = std::shared_ptr<EventStream>;

// An accepted WebSocket connection (RFC 6455; ResponseWriter::AcceptWebSocket), text messages
// only. Its socket is held by the server's WebSocket thread (one epoll set for all of them), never
// by a thread of its own. Thread-safe; nothing here blocks.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a text message and writes what the socket takes now; the rest goes out as the client
  // reads. false when the connection is closing or closed (the message is dropped), and when the
  // queue would pass `max_websocket_buffered_bytes`: the connection is then closed with 1008.
  virtual bool SendText(std::string_view message) = 0;
  // Bytes queued that the socket has not taken yet: a sender that can wait (a subscription)
  // holds its next message back while this is high.
  virtual size_t buffered_bytes() const = 0;
  // Sends a close frame (`reason` cut to 123 bytes) after what is queued, and closes the
  // connection when the client answers it, or a second later. Idempotent.
  virtual void Close(uint16_t code, std::string_view reason) = 0;
  // Closing or closed: nothing more is sent.
  virtual bool closed() const = 0;
  virtual const std::string& remote_address() const = 0;
};
using WebSocketPtr = std::shared_ptr<WebSocket>;

// The application's side of a WebSocket. Called on the server's WebSocket thread, which serves
// every WebSocket: must not block (a slow call holds up the others).
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // Each text message, whole (the fragments assembled, at most max_websocket_message_bytes).
  virtual void OnText(const WebSocketPtr& socket, std::string message) = 0;
  // About once a second while the connection is open, for the handler's own timeouts.
  virtual void OnTick(const WebSocketPtr& socket, std::chrono::steady_clock::time_point now) {}
  // Once, when the connection is gone: `code` is the client's close code, the server's own when
  // it closed first, 1006 when the connection broke without one, 1001 when the server stops.
  virtual void OnClosed(const WebSocketPtr& socket, uint16_t code) = 0;
};
using WebSocketHandlerPtr = std::shared_ptr<WebSocketHandler>;

// Whether the request asks to become a WebSocket ("Upgrade: websocket").
bool IsWebSocketUpgrade(const HttpRequest& request);
// Checks a WebSocket opening handshake (RFC 6455 4.2.1): GET, "Connection: Upgrade",
// "Sec-WebSocket-Version: 13", a Sec-WebSocket-Key of 16 bytes in base64, and `subprotocol`
// among those the client offers in Sec-WebSocket-Protocol. InvalidArgument naming the header
// and what is wrong with it.
Status CheckWebSocketUpgrade(const HttpRequest& request, std::string_view subprotocol);

// Writes the response. Status and headers may be set until the first Write; then they are sent
// with Content-Length when SetContentLength was called, chunked otherwise. A handler that returns
// without writing anything sends its status with an empty body. Not thread-safe.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void SetStatus(int status) = 0;
  virtual void SetHeader(const std::string& name, const std::string& value) = 0;
  virtual void SetContentLength(uint64_t length) = 0;
  // Unavailable when the client went away.
  virtual Status Write(std::string_view bytes) = 0;
  // The whole body at once, with its Content-Length. A client that went away is not reported:
  // nothing is left to tell it, and the request log has the answer it was sent.
  void WriteBody(std::string_view body);
  // Sends status 200, "Content-Type: text/event-stream", "Cache-Control: no-cache" and the
  // headers set so far, then hands the connection over: the returned stream may be kept and
  // written from any thread after the handler returns. Nullptr when the client went away.
  virtual EventStreamPtr DetachEventStream() = 0;
  // Answers "101 Switching Protocols" with `subprotocol` (the request passed
  // CheckWebSocketUpgrade) and the headers set so far, then hands the connection to the server's
  // WebSocket thread, which calls `handler` with its messages. Nullptr when the client went away,
  // the server is stopping, or it holds max_websockets already (then answered 503 instead).
  // A writer that is not on a connection (a test's) accepts none.
  virtual WebSocketPtr AcceptWebSocket(const HttpRequest& request, const std::string& subprotocol,
                                       WebSocketHandlerPtr handler) {
    return nullptr;
  }
  virtual bool headers_sent() const = 0;
};

using Handler = std::function<void(const HttpRequest&, BodyReader&, ResponseWriter&)>;

// The body of an error answer that the server writes by itself (400, 408, 413, 431, 500, 501,
// 503: before or around a handler), in the listener's protocol.
struct ErrorDocument {
  std::string content_type;
  std::string body;
  // Further headers of the protocol's (an AWS error type, a request id). Names and values must
  // not hold CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
};
// Called from any of the server's threads; must not block.
using ErrorDocumentFormatter = std::function<ErrorDocument(int status, const Status& error)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                   // 0: any free port (see HttpServer::port)
  size_t max_header_bytes = 16 * 1024;    // larger: 431
  uint64_t max_body_bytes = 64ull << 30;  // larger (declared, or a chunk's size, or read): 413
  // Open connections in all (detached event streams excluded); beyond: 503 and close.
  size_t max_connections = 10000;
  // Open connections of one client (remote IP address); beyond: 503 and close, for that
  // client only.
  size_t max_connections_per_client = 512;
  // Requests in handlers at once (each holds a thread while its body is read and its answer
  // written); beyond: 503 and close. Per client (remote IP address), so that bodies that never
  // complete from one client cannot take every thread; and in all.
  size_t max_requests_per_client = 128;
  size_t max_handler_threads = 1024;
  std::chrono::seconds idle_timeout{20};       // a connection without a request is closed
  std::chrono::seconds header_timeout{20};     // the whole header; past it: 408 and close
  std::chrono::seconds body_read_timeout{60};  // a stalled upload fails after this long
  // Bytes per second a body must average: it may take body_read_timeout plus one second per
  // body_min_rate bytes received, no longer (DeadlineExceeded). 0: no minimum.
  uint64_t body_min_rate = 1024;
  // WebSocket connections (AcceptWebSocket): open at once (beyond: 503), the size
  // of one message a client may send (larger: closed with 1009), and the bytes queued for one
  // client that has not read them (beyond: closed with 1008).
  size_t max_websockets = 10000;
  size_t max_websocket_message_bytes = 1 << 20;
  size_t max_websocket_buffered_bytes = 16 << 20;
  // A WebSocket is pinged this often; one from which nothing (not even a pong) came for two
  // intervals is closed with 1001, so that a peer gone without a word frees what it held.
  std::chrono::milliseconds websocket_ping_interval{30000};
  // The logger of the request log (server/http/request_log.h): one line per request.
  std::string logger_name = "http";
  // Empty: the API's JSON, {"error":{"code":...,"message":...}}.
  ErrorDocumentFormatter error_document;
};

class HttpServer {
 public:
  // Binds and starts accepting. InvalidArgument for a bad host; Unavailable when the address
  // is in use (the message names it).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler handler);
  virtual ~HttpServer() = default;  // Stop()s
  virtual uint16_t port() const = 0;
  // Stops accepting, closes idle connections and detached streams, waits for running handlers
  // to return (they see their connections close). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace trainyard::server
