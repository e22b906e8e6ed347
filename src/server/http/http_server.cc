// The only translation unit that includes Beast (its parser); everything else is plain sockets.
// Asio 1.74 under GCC 12 needs <utility> before any Boost header: http_server.h includes it
// (through common/status.h), and it comes first.
#include "server/http/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
#include "server/http/connection_reactor.h"
#include "server/http/request_log.h"
#include "server/http/request_parsing.h"
#include "server/http/response_writer.h"
#include "server/http/socket_io.h"
#include "server/http/websocket_reactor.h"

namespace trainyard::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using beast::error_code;
using std::chrono::milliseconds;

constexpr size_t kDrainLimit = 64 * 1024;

// A non-blocking socket as Beast's SyncReadStream, with a timeout per read. Asio's own sync reads
// would retry forever on the EAGAIN that SO_RCVTIMEO produces, so they cannot time out.
class SocketReadStream {
 public:
  explicit SocketReadStream(int fd) : fd_(fd) {}
  void set_timeout(milliseconds timeout) { timeout_ = timeout; }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
    iovec iov[16];
    int count = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && count < 16; ++it) {
      net::mutable_buffer buffer(*it);
      if (buffer.size() > 0) iov[count++] = {buffer.data(), buffer.size()};
    }
    ec = {};
    if (count == 0) return 0;
    for (;;) {
      ssize_t n = readv(fd_, iov, count);
      if (n > 0) return static_cast<size_t>(n);
      if (n == 0) {
        ec = net::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
      internal::WaitResult waited = internal::WaitFor(fd_, POLLIN, timeout_);
      if (waited == internal::WaitResult::kTimeout) {
        ec = net::error::timed_out;
        return 0;
      }
      if (waited == internal::WaitResult::kError) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
    }
  }

 private:
  int fd_;
  milliseconds timeout_{60000};
};

using RequestParser = http::request_parser<http::buffer_body>;

// Pulls the body into the handler's buffer: a chunked body through the parser, a sized body
// straight from the socket (Beast would copy it through its own buffer, which halves the
// throughput of large uploads).
class ParserBodyReader : public BodyReader {
 public:
  ParserBodyReader(int fd, SocketReadStream& stream, beast::flat_buffer& buffer,
                   RequestParser& parser, const HttpServerOptions& options, bool expect_continue)
      : fd_(fd),
        stream_(stream),
        buffer_(buffer),
        parser_(parser),
        options_(options),
        continue_pending_(expect_continue) {
    if (!parser_.chunked() && parser_.content_length()) sized_left_ = *parser_.content_length();
  }

  Result<size_t> Read(char* out, size_t capacity) override {
    if (!error_.ok()) return error_;
    if (done()) return size_t{0};
    if (capacity == 0) return InvalidArgument("BodyReader::Read with no room");
    if (continue_pending_) {
      // Sent only when the body is wanted, so that a refused upload is never transferred.
      continue_pending_ = false;
      Status sent = internal::SendAll(fd_, "HTTP/1.1 100 Continue\r\n\r\n", Timeout());
      if (!sent.ok()) return error_ = sent;
    }
    if (!started_) {
      started_ = true;
      started_at_ = std::chrono::steady_clock::now();
    }
    milliseconds timeout = Timeout();
    const bool rate_bound = options_.body_min_rate > 0;
    if (rate_bound) {
      // As Apache's mod_reqtimeout: body_read_timeout for the body, plus a second for each
      // body_min_rate bytes received, so a trickle cannot hold this thread for hours.
      milliseconds left = std::chrono::duration_cast<milliseconds>(
          started_at_ + options_.body_read_timeout +
          milliseconds(received_ * 1000 / options_.body_min_rate) -
          std::chrono::steady_clock::now());
      if (left <= milliseconds(0)) return error_ = TooSlow();
      timeout = std::min(timeout, left);
    }
    stream_.set_timeout(timeout);
    error_code ec;
    size_t n = sized_left_ ? ReadSized(out, capacity, ec) : ReadParsed(out, capacity, ec);
    received_ += n;
    if (received_ > options_.max_body_bytes) {
      return error_ = ResourceExhausted("request body larger than " +
                                        std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      // A chunk announced larger than what is left of the limit: refused before it comes.
      return error_ = ResourceExhausted("request body larger than " +
                                        std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_chunk).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return error_ = InvalidArgument("malformed chunked request body: " + ec.message());
    }
    if (ec) {
      if (ec == net::error::timed_out && timeout < Timeout()) {
        error_ = TooSlow();
      } else {
        error_ = ec == net::error::timed_out
                     ? Unavailable("request body stalled (no data for " +
                                   std::to_string(options_.body_read_timeout.count()) + " s)")
                     : Unavailable("request body not received: " + ec.message());
      }
      if (n == 0) return error_;
    }
    return n;
  }

  bool done() const { return sized_left_ ? *sized_left_ == 0 : parser_.is_done(); }
  bool continue_pending() const { return continue_pending_; }
  bool failed() const { return !error_.ok(); }
  uint64_t received() const { return received_; }

 private:
  milliseconds Timeout() const { return options_.body_read_timeout; }

  Status TooSlow() const {
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started_at_);
    return Status(StatusCode::kDeadlineExceeded,
                  "request body too slow: " + std::to_string(received_) + " bytes in " +
                      std::to_string(elapsed.count()) + " s, below the minimum of " +
                      std::to_string(options_.body_min_rate) + " bytes/s after the first " +
                      std::to_string(options_.body_read_timeout.count()) + " s");
  }

  // Bytes after the header may already sit in `buffer_`; the rest comes from the socket, never
  // past the body's end, so that a pipelined next request stays for the next parser.
  size_t ReadSized(char* out, size_t capacity, error_code& ec) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(capacity, *sized_left_));
    size_t n;
    if (buffer_.size() > 0) {
      n = net::buffer_copy(net::mutable_buffer(out, want), buffer_.data());
      buffer_.consume(n);
    } else {
      n = stream_.read_some(net::mutable_buffer(out, want), ec);
    }
    *sized_left_ -= n;
    return n;
  }

  size_t ReadParsed(char* out, size_t capacity, error_code& ec) {
    for (;;) {
      auto& body = parser_.get().body();
      body.data = out;
      body.size = capacity;
      http::read_some(stream_, buffer_, parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      size_t n = capacity - parser_.get().body().size;
      parser_.get().body().data = nullptr;
      if (ec || n > 0 || parser_.is_done()) return n;
    }
  }

  int fd_;
  SocketReadStream& stream_;
  beast::flat_buffer& buffer_;
  RequestParser& parser_;
  const HttpServerOptions& options_;
  bool continue_pending_;
  std::optional<uint64_t> sized_left_;  // a Content-Length body: what is still to come
  bool started_ = false;                // the first Read came
  std::chrono::steady_clock::time_point started_at_;
  uint64_t received_ = 0;
  Status error_;
};

bool IsExpectContinue(const std::string& value) {
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return lower == "100-continue";
}

using internal::Connection;
using internal::ConnectionPtr;
using internal::ConnectionReactor;

// Handler threads beyond this many stay only while busy: an idle one ends after kWorkerIdle, so
// that a burst of requests (300 event streams opened at once) leaves no threads behind.
constexpr size_t kKeptWorkers = 4;
constexpr std::chrono::seconds kWorkerIdle{2};

class HttpServerImpl : public HttpServer {
 public:
  HttpServerImpl(const HttpServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}
  ~HttpServerImpl() override { Stop(); }

  Status Start(int listen_fd) {
    port_ = internal::LocalPort(listen_fd);
    // reactor_ is set before the reactor runs: handler threads give connections back to it.
    TY_ASSIGN_OR_RETURN(
        reactor_, ConnectionReactor::Create(options_, listen_fd, [this](ConnectionPtr& connection) {
          return Dispatch(connection);
        }));
    return reactor_->Run();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    std::call_once(stop_once_, [this] { StopOnce(); });
  }

 private:
  enum class Outcome { kKeepAlive, kClose, kDetached };

  void StopOnce() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    // No more dispatches; the connections waiting for a request close.
    if (reactor_) reactor_->Stop();
    {
      std::lock_guard<std::mutex> lock(websockets_mutex_);
      if (websockets_) websockets_->Stop();
    }
    std::vector<EventStreamPtr> streams;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // shutdown, not close: the fd stays owned by its handler thread, so its number cannot be
      // reused under a read that is still running; the read returns at once.
      for (auto& [id, fd] : serving_) shutdown(fd, SHUT_RDWR);
      for (auto& weak : streams_) {
        if (auto stream = weak.lock()) streams.push_back(std::move(stream));
      }
      streams_.clear();
      work_.notify_all();
    }
    for (auto& stream : streams) stream->Close();
    std::vector<std::thread> finished;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      drained_.wait(lock, [this] { return workers_.empty(); });
      finished.swap(finished_);
    }
    for (auto& thread : finished) thread.join();
  }

  // On the reactor's thread: a connection with a whole header goes to an idle handler thread,
  // or to a new one while there are fewer than max_handler_threads, unless its client has
  // max_requests_per_client in progress already; else it stays, to be answered 503 with the
  // returned error.
  Status Dispatch(ConnectionPtr& connection) {
    std::vector<std::thread> finished;
    Status refused;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished.swap(finished_);
      size_t& of_client = requests_by_client_[connection->client];
      if (stopping_) {
        refused = Unavailable("server stopping");
      } else if (of_client >= options_.max_requests_per_client) {
        refused = Unavailable("too many requests in progress from " + connection->client +
                              ": the limit per client is " +
                              std::to_string(options_.max_requests_per_client));
      } else if (idle_workers_ > queue_.size()) {
        queue_.push_back(std::move(connection));
        work_.notify_one();
      } else if (workers_.size() < options_.max_handler_threads) {
        uint64_t id = next_worker_++;
        try {
          // Under the lock, so that the thread cannot end before it is in `workers_`.
          workers_.emplace(id, std::thread([this, id] { WorkerLoop(id); }));
          queue_.push_back(std::move(connection));
        } catch (const std::system_error& error) {
          refused = Unavailable(std::string("server busy: no handler thread: ") + error.what());
        }
      } else {
        refused = Unavailable("server busy: " + std::to_string(options_.max_handler_threads) +
                              " requests in progress");
      }
      if (!connection) {
        of_client++;
      } else if (of_client == 0) {
        requests_by_client_.erase(connection->client);
      }
    }
    for (auto& thread : finished) thread.join();
    return refused;
  }

  void WorkerLoop(uint64_t id) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (queue_.empty()) {
        idle_workers_++;
        bool woken =
            work_.wait_for(lock, kWorkerIdle, [this] { return stopping_ || !queue_.empty(); });
        idle_workers_--;
        if (queue_.empty()) {
          if (stopping_ || (!woken && workers_.size() > kKeptWorkers)) break;
          continue;
        }
      }
      ConnectionPtr connection = std::move(queue_.front());
      queue_.pop_front();
      serving_[connection->id] = connection->fd;
      lock.unlock();
      try {
        Serve(std::move(connection));
      } catch (...) {
        // Client misbehaviour must never take the process down. Not reached in practice: Serve
        // and ServeOne catch what handlers throw.
      }
      lock.lock();
    }
    finished_.push_back(std::move(workers_.at(id)));
    workers_.erase(id);
    drained_.notify_all();
  }

  // Serves requests on the connection while their headers are already here (pipelining), then
  // gives it back to the reactor to wait for the next one, or closes it.
  void Serve(ConnectionPtr connection) {
    int fd = connection->fd;
    SocketReadStream stream(fd);
    beast::flat_buffer buffer;
    // Beast sizes each read by the buffer's spare capacity (at least 512 bytes): without room
    // reserved, a chunked body arrives 512 bytes per system call.
    buffer.reserve(64 * 1024);
    auto pending = buffer.prepare(connection->pending.size());
    net::buffer_copy(pending, net::buffer(connection->pending));
    buffer.commit(connection->pending.size());
    connection->pending.clear();
    Outcome outcome = Outcome::kClose;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) break;
      }
      outcome = ServeOne(fd, *connection, stream, buffer);
      if (outcome != Outcome::kKeepAlive || !HasWholeHeader(buffer)) break;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      serving_.erase(connection->id);
      auto of_client = requests_by_client_.find(connection->client);
      if (of_client != requests_by_client_.end() && --of_client->second == 0) {
        requests_by_client_.erase(of_client);
      }
      if (stopping_ && outcome == Outcome::kKeepAlive) outcome = Outcome::kClose;
    }
    if (outcome == Outcome::kKeepAlive) {
      auto left = buffer.data();
      connection->pending.assign(static_cast<const char*>(left.data()), left.size());
      reactor_->Return(std::move(connection));
      return;
    }
    if (outcome == Outcome::kClose) {
      reactor_->CloseGracefully(std::move(connection));
      return;
    }
    reactor_->Close(std::move(connection));  // detached: frees the slot, the stream has the socket
  }

  // The WebSocket thread, started with the first WebSocket; nullptr when it cannot start (logged).
  internal::WebSocketReactor* WebSockets() {
    std::lock_guard<std::mutex> lock(websockets_mutex_);
    if (!websockets_ && !websockets_failed_) {
      auto created = internal::WebSocketReactor::Create(options_);
      if (created.ok()) {
        websockets_ = std::move(*created);
      } else {
        websockets_failed_ = true;
        Logger(options_.logger_name)
            .error("no WebSocket is accepted: {}", created.status().message());
      }
    }
    return websockets_.get();
  }

  static bool HasWholeHeader(const beast::flat_buffer& buffer) {
    auto data = buffer.data();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    return bytes.find("\r\n\r\n") != std::string_view::npos;
  }

  // Answers what no handler sees. Whether the answer arrives does not matter: the connection
  // closes after it.
  void SendError(int fd, int status, const Status& error, milliseconds timeout) {
    (void)internal::SendAll(fd, internal::ErrorResponse(status, error, options_.error_document),
                            timeout);
  }

  // Before a request could be read: logged with the client's address only.
  void RefuseConnection(int fd, const std::string& remote, int status, const Status& error,
                        milliseconds timeout) {
    internal::LogRefusedConnection(options_.logger_name, remote, status, error.message());
    SendError(fd, status, error, timeout);
  }

  // A request refused before its handler: in the request log like any other, with
  // `logged_reason` (the error's message may quote the query, which the log never shows).
  void RefuseRequest(int fd, const HttpRequest& request, int status, const Status& error,
                     const std::string& logged_reason,
                     std::chrono::steady_clock::time_point started) {
    internal::LogRequest(options_.logger_name, request,
                         {.status = status,
                          .duration = std::chrono::steady_clock::now() - started,
                          .failure = logged_reason});
    SendError(fd, status, error, WriteTimeout());
  }

  milliseconds WriteTimeout() const {
    return std::max<milliseconds>(options_.body_read_timeout, milliseconds(1000));
  }

  Outcome ServeOne(int fd, Connection& connection, SocketReadStream& stream,
                   beast::flat_buffer& buffer) {
    // The whole header is in `buffer` (the reactor waited for it): checked here for what Beast
    // would accept.
    {
      auto data = buffer.data();
      std::string_view bytes(static_cast<const char*>(data.data()), data.size());
      if (internal::HasObsoleteLineFolding(bytes.substr(0, bytes.find("\r\n\r\n")))) {
        RefuseConnection(fd, connection.remote, 400,
                         InvalidArgument("malformed request: a header line starts with a space "
                                         "or tab (obsolete line folding, refused as RFC 9112 "
                                         "says)"),
                         WriteTimeout());
        return Outcome::kClose;
      }
    }
    RequestParser parser;
    parser.header_limit(
        static_cast<uint32_t>(std::min<size_t>(options_.max_header_bytes, 1u << 30)));
    // Enforced by ParserBodyReader, as a Status. Not boost::none: Beast 1.74 compares a
    // Content-Length with the empty optional as "larger" and fails every sized body.
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    stream.set_timeout(options_.header_timeout);
    error_code ec;
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      if (ec == http::error::header_limit) {
        RefuseConnection(fd, connection.remote, 431,
                         ResourceExhausted("request header larger than " +
                                           std::to_string(options_.max_header_bytes) + " bytes"),
                         WriteTimeout());
      } else if (ec.category() == http::make_error_code(http::error::header_limit).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        RefuseConnection(fd, connection.remote, 400,
                         InvalidArgument("malformed request: " + ec.message()), WriteTimeout());
      }
      return Outcome::kClose;
    }
    auto started = std::chrono::steady_clock::now();

    auto& message = parser.get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value(field.value());
      auto [it, inserted] = request.headers.emplace(name, value);
      if (!inserted) it->second += ", " + value;
    }
    if (auto length = parser.content_length()) request.content_length = *length;
    request.remote_address = connection.remote;
    auto decoded = internal::DecodeTarget(request.target);
    if (!decoded.ok()) {
      RefuseRequest(fd, request, 400, decoded.status(), "malformed request target", started);
      return Outcome::kClose;
    }
    request.path = std::move(decoded->path);
    request.query = std::move(decoded->query);
    if (request.content_length && *request.content_length > options_.max_body_bytes) {
      Status too_large = ResourceExhausted(
          "request body of " + std::to_string(*request.content_length) +
          " bytes is larger than the limit of " + std::to_string(options_.max_body_bytes));
      RefuseRequest(fd, request, 413, too_large, too_large.message(), started);
      return Outcome::kClose;
    }
    if (auto coding = request.headers.find("transfer-encoding"); coding != request.headers.end()) {
      // Beast decodes "gzip, chunked" as chunked and would hand the handler gzip.
      if (Status supported = internal::CheckTransferEncoding(coding->second); !supported.ok()) {
        RefuseRequest(fd, request, 501, supported, supported.message(), started);
        return Outcome::kClose;
      }
    }
    // A chunk's size is checked against what is left of the limit as soon as it is read, so a
    // chunk announced larger than the limit (FFFFFFFFFFFFFFFF) fails at once. A sized body's
    // limit stays with ParserBodyReader (see body_limit above).
    if (parser.chunked()) parser.body_limit(options_.max_body_bytes);

    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping = stopping_;
    }
    internal::ConnectionResponseWriter::Request shape;
    shape.head = message.method() == http::verb::head;
    shape.http10 = message.version() < 11;
    shape.close = shape.http10 || !message.keep_alive() || stopping;
    bool expect_continue =
        !shape.http10 && !parser.is_done() && IsExpectContinue(request.Header("expect"));
    ParserBodyReader reader(fd, stream, buffer, parser, options_, expect_continue);
    internal::ConnectionResponseWriter writer(
        fd, shape, WriteTimeout(),
        [this, &connection](const EventStreamPtr& detached) {
          std::lock_guard<std::mutex> lock(mutex_);
          connection.fd = -1;
          serving_.erase(connection.id);
          if (stopping_) {
            detached->Close();
            return;
          }
          std::erase_if(streams_, [](const auto& weak) { return weak.expired(); });
          streams_.push_back(detached);
        },
        options_.error_document);
    writer.set_websocket_acceptor(
        {.reserve = [this] { return WebSockets() && WebSockets()->Reserve(); },
         .release = [this] { websockets_->Release(); },
         .adopt = [this, &connection, &buffer](WebSocketHandlerPtr handler) -> WebSocketPtr {
           int socket_fd;
           {
             std::lock_guard<std::mutex> lock(mutex_);
             socket_fd = connection.fd;
             connection.fd = -1;
             serving_.erase(connection.id);
           }
           // What the client sent after its request is its first frames.
           auto left = buffer.data();
           std::string received(static_cast<const char*>(left.data()), left.size());
           buffer.consume(left.size());
           return websockets_->Adopt(socket_fd, connection.remote, std::move(received),
                                     std::move(handler));
         }});
    std::string failure;
    try {
      handler_(request, reader, writer);
    } catch (const std::exception& e) {
      failure = std::string("handler failed: ") + e.what();
    } catch (...) {
      failure = "handler failed";
    }
    if (!failure.empty()) writer.FailInternal(failure);
    // An event stream is logged when it starts: it may then last for hours.
    bool reusable = !writer.detached() && writer.Finish();
    internal::LogRequest(options_.logger_name, request,
                         {.status = writer.status(),
                          .request_id = writer.request_id(),
                          .duration = std::chrono::steady_clock::now() - started,
                          .failure = failure});
    if (writer.detached()) return Outcome::kDetached;
    if (!reusable || !DrainBody(reader, request)) return Outcome::kClose;
    return Outcome::kKeepAlive;
  }

  // Reads what the handler left of the body, so the connection can carry the next request;
  // false when that is too much to be worth it.
  bool DrainBody(ParserBodyReader& reader, const HttpRequest& request) {
    if (reader.done()) return true;
    if (reader.failed() || reader.continue_pending()) return false;
    if (request.content_length && *request.content_length - reader.received() > kDrainLimit) {
      return false;
    }
    char scratch[16 * 1024];
    size_t drained = 0;
    while (drained <= kDrainLimit) {
      auto n = reader.Read(scratch, sizeof(scratch));
      if (!n.ok()) return false;
      if (*n == 0) return true;
      drained += *n;
    }
    return false;
  }

  const HttpServerOptions options_;
  const Handler handler_;
  uint16_t port_ = 0;
  std::unique_ptr<ConnectionReactor> reactor_;
  std::once_flag stop_once_;

  std::mutex mutex_;
  std::condition_variable work_;     // a connection was queued, or stopping
  std::condition_variable drained_;  // a handler thread ended
  bool stopping_ = false;
  std::deque<ConnectionPtr> queue_;  // dispatched, waiting for a handler thread
  std::map<uint64_t, std::thread> workers_;
  uint64_t next_worker_ = 1;
  size_t idle_workers_ = 0;
  std::map<uint64_t, int> serving_;  // connection id -> socket, while in a handler thread
  std::map<std::string, size_t> requests_by_client_;  // dispatched and not yet served
  std::vector<std::thread> finished_;
  std::vector<std::weak_ptr<EventStream>> streams_;
  std::mutex websockets_mutex_;
  std::unique_ptr<internal::WebSocketReactor> websockets_;
  bool websockets_failed_ = false;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Handler handler) {
  if (!handler) return InvalidArgument("HttpServer needs a handler");
  TY_ASSIGN_OR_RETURN(int listen_fd, internal::Listen(options.host, options.port));
  auto server = std::make_unique<HttpServerImpl>(options, std::move(handler));
  TY_RETURN_IF_ERROR(server->Start(listen_fd));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace trainyard::server
