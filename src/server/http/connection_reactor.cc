#include "server/http/connection_reactor.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "server/http/request_log.h"
#include "server/http/response_writer.h"
#include "server/http/socket_io.h"

namespace trainyard::server::internal {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint64_t kListenTag = 0;
constexpr uint64_t kWakeTag = 1;
// How long a connection answered with an error, or closed by a handler thread, is drained before
// it closes, and how many refused connections may drain at once (beyond, they close at once).
constexpr milliseconds kClosingDrain{1000};
constexpr size_t kMaxRefusedClosing = 1024;
// Out of file descriptors: accepting pauses this long rather than spin on a readable listener.
constexpr milliseconds kAcceptPause{50};

// "127.0.0.1:51234" -> "127.0.0.1"; "[::1]:51234" -> "::1".
std::string ClientOf(const std::string& remote) {
  std::string host = remote.substr(0, remote.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// RFC 9112 2.2: empty lines before a request line are ignored.
void StripLeadingEmptyLines(std::string& pending) {
  size_t skip = 0;
  while (pending.compare(skip, 2, "\r\n") == 0) skip += 2;
  if (skip > 0) pending.erase(0, skip);
}

}  // namespace

Result<std::unique_ptr<ConnectionReactor>> ConnectionReactor::Create(
    const HttpServerOptions& options, int listen_fd, Dispatch dispatch) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event listen_event{.events = EPOLLIN, .data = {.u64 = kListenTag}};
  epoll_event wake_event{.events = EPOLLIN, .data = {.u64 = kWakeTag}};
  if (epoll_fd < 0 || wake_fd < 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &listen_event) != 0 ||
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake_event) != 0) {
    Status failed = Internal(std::string("http server: epoll: ") + std::strerror(errno));
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
    close(listen_fd);
    return failed;
  }
  return std::unique_ptr<ConnectionReactor>(
      new ConnectionReactor(options, listen_fd, epoll_fd, wake_fd, std::move(dispatch)));
}

Status ConnectionReactor::Run() {
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (const std::system_error& error) {
    return Internal(std::string("http server: no reactor thread: ") + error.what());
  }
  return Status::Ok();
}

ConnectionReactor::ConnectionReactor(const HttpServerOptions& options, int listen_fd, int epoll_fd,
                                     int wake_fd, Dispatch dispatch)
    : options_(options),
      listen_fd_(listen_fd),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      dispatch_(std::move(dispatch)) {}

ConnectionReactor::~ConnectionReactor() {
  Stop();
  close(epoll_fd_);
  close(wake_fd_);
}

void ConnectionReactor::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    close(listen_fd_);
  });
}

void ConnectionReactor::Wake() {
  uint64_t one = 1;
  // An eventfd write fails only when its counter would overflow: it is then readable anyway.
  (void)!write(wake_fd_, &one, sizeof(one));
}

void ConnectionReactor::Return(ConnectionPtr connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      returned_.push_back(std::move(connection));
      Wake();
      return;
    }
  }
  Close(std::move(connection));
}

void ConnectionReactor::CloseGracefully(ConnectionPtr connection) {
  shutdown(connection->fd, SHUT_WR);
  connection->linger = true;
  Return(std::move(connection));
}

void ConnectionReactor::Close(ConnectionPtr connection) {
  if (connection->fd >= 0) close(connection->fd);
  connection->fd = -1;
  Release(*connection);
}

void ConnectionReactor::Release(Connection& connection) {
  if (!connection.counted) return;
  connection.counted = false;
  std::lock_guard<std::mutex> lock(mutex_);
  open_--;
  auto it = open_by_client_.find(connection.client);
  if (it != open_by_client_.end() && --it->second == 0) open_by_client_.erase(it);
}

int ConnectionReactor::WaitMilliseconds(Clock::time_point now) const {
  std::optional<Clock::time_point> next;
  if (!deadlines_.empty()) next = deadlines_.begin()->first;
  if (accept_paused_ && (!next || accept_resume_ < *next)) next = accept_resume_;
  if (!next) return -1;
  if (*next <= now) return 0;
  // Rounded up, so that the wait never ends just before the deadline.
  return static_cast<int>(std::chrono::ceil<milliseconds>(*next - now).count());
}

void ConnectionReactor::Loop() {
  epoll_event events[256];
  for (;;) {
    int count = epoll_wait(epoll_fd_, events, 256, WaitMilliseconds(Clock::now()));
    if (count < 0 && errno != EINTR) {
      Logger(options_.logger_name)
          .error("http reactor stopped: epoll_wait: {}", std::strerror(errno));
      break;
    }
    std::vector<ConnectionPtr> returned;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) break;
    }
    for (int i = 0; i < count; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        AcceptPending();
      } else if (tag == kWakeTag) {
        uint64_t counter;
        // Only resets the counter; the queue below is what counts.
        (void)!read(wake_fd_, &counter, sizeof(counter));
        std::lock_guard<std::mutex> lock(mutex_);
        returned.swap(returned_);
      } else {
        OnReadable(reinterpret_cast<Connection*>(tag));
      }
    }
    for (auto& connection : returned) {
      if (connection->linger) {
        Linger(std::move(connection));
      } else {
        Park(std::move(connection));
      }
    }
    Clock::time_point now = Clock::now();
    Expire(now);
    if (accept_paused_ && now >= accept_resume_) {
      epoll_event listen_event{.events = EPOLLIN, .data = {.u64 = kListenTag}};
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event) == 0) {
        accept_paused_ = false;
      } else {
        accept_resume_ = now + kAcceptPause;
      }
    }
  }
  // Stopped: whatever waits here closes.
  std::vector<ConnectionPtr> returned;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    returned.swap(returned_);
  }
  for (auto& connection : returned) Close(std::move(connection));
  for (auto& [raw, connection] : parked_) Close(std::move(connection));
  parked_.clear();
  deadlines_.clear();
}

void ConnectionReactor::AcceptPending() {
  for (;;) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        Logger(options_.logger_name)
            .warn("not accepting connections for {} ms: {} (open connections: {})",
                  kAcceptPause.count(), std::strerror(errno), parked_.size());
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr) == 0) {
          accept_paused_ = true;
          accept_resume_ = Clock::now() + kAcceptPause;
        }
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<Connection>();
    connection->id = next_id_++;
    connection->fd = fd;
    connection->remote = FormatAddress(reinterpret_cast<sockaddr*>(&address), length);
    connection->client = ClientOf(connection->remote);
    Status refused;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      size_t& of_client = open_by_client_[connection->client];
      if (open_ >= options_.max_connections) {
        refused = Unavailable("server busy: more than " + std::to_string(options_.max_connections) +
                              " connections");
      } else if (of_client >= options_.max_connections_per_client) {
        refused = Unavailable("too many connections from " + connection->client +
                              ": the limit per client is " +
                              std::to_string(options_.max_connections_per_client));
      } else {
        open_++;
        of_client++;
        connection->counted = true;
      }
      if (of_client == 0) open_by_client_.erase(connection->client);
    }
    if (!refused.ok() && refused_closing_ >= kMaxRefusedClosing) {
      // Too many already draining: this one is dropped unanswered (the log has the others).
      close(fd);
      continue;
    }
    Connection* raw = connection.get();
    if (!Add(std::move(connection), Clock::now() + options_.idle_timeout)) continue;
    if (!refused.ok()) {
      refused_closing_++;
      Refuse(raw, 503, refused);
    }
  }
}

void ConnectionReactor::Park(ConnectionPtr connection) {
  StripLeadingEmptyLines(connection->pending);
  Connection* raw = connection.get();
  raw->closing = false;
  Clock::duration wait = raw->pending.empty() ? Clock::duration(options_.idle_timeout)
                                              : Clock::duration(options_.header_timeout);
  if (!Add(std::move(connection), Clock::now() + wait)) return;
  // A pipelined request may be here already, whole or in part.
  if (!raw->pending.empty()) OnReadable(raw);
}

void ConnectionReactor::Linger(ConnectionPtr connection) {
  connection->closing = true;
  connection->pending.clear();
  connection->pending.shrink_to_fit();
  Add(std::move(connection), Clock::now() + kClosingDrain);
}

bool ConnectionReactor::Add(ConnectionPtr connection, Clock::time_point deadline) {
  Connection* raw = connection.get();
  epoll_event event{.events = EPOLLIN | EPOLLRDHUP,
                    .data = {.u64 = reinterpret_cast<uint64_t>(raw)}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, raw->fd, &event) != 0) {
    Logger(options_.logger_name)
        .warn("remote={} connection closed: epoll: {}", raw->remote, std::strerror(errno));
    Close(std::move(connection));
    return false;
  }
  raw->deadline = deadline;
  deadlines_.emplace(deadline, raw);
  parked_.emplace(raw, std::move(connection));
  return true;
}

void ConnectionReactor::Reschedule(Connection* connection, Clock::time_point deadline) {
  deadlines_.erase({connection->deadline, connection});
  connection->deadline = deadline;
  deadlines_.emplace(deadline, connection);
}

ConnectionPtr ConnectionReactor::Unpark(Connection* connection) {
  deadlines_.erase({connection->deadline, connection});
  // Only fails for a socket that is already gone from the set: nothing left to undo.
  (void)epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection->fd, nullptr);
  auto it = parked_.find(connection);
  ConnectionPtr owned = std::move(it->second);
  parked_.erase(it);
  return owned;
}

void ConnectionReactor::CloseParked(Connection* connection) {
  if (connection->closing && !connection->counted) refused_closing_--;
  Close(Unpark(connection));
}

void ConnectionReactor::Drain(Connection* connection) {
  char scratch[16 * 1024];
  for (int reads = 0; reads < 4; ++reads) {
    ssize_t n = recv(connection->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    CloseParked(connection);  // the client closed: the answer was read or will not be
    return;
  }
}

void ConnectionReactor::OnReadable(Connection* connection) {
  if (connection->closing) return Drain(connection);
  size_t scanned = connection->pending.size();
  if (scanned == 0 || connection->pending.find("\r\n\r\n") == std::string::npos) {
    char buffer[16 * 1024];
    ssize_t n = recv(connection->fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      // The client went away (or reset): nothing to answer.
      CloseParked(connection);
      return;
    }
    bool was_empty = connection->pending.empty();
    connection->pending.append(buffer, static_cast<size_t>(n));
    if (was_empty) {
      StripLeadingEmptyLines(connection->pending);
      scanned = 0;
      // The header deadline counts from the request's first byte.
      if (!connection->pending.empty()) {
        Reschedule(connection, Clock::now() + options_.header_timeout);
      }
    }
  } else {
    scanned = 0;
  }
  size_t end = connection->pending.find("\r\n\r\n", scanned < 3 ? 0 : scanned - 3);
  size_t header_size = end == std::string::npos ? connection->pending.size() : end + 4;
  if (header_size > options_.max_header_bytes) {
    return Refuse(connection, 431,
                  ResourceExhausted("request header larger than " +
                                    std::to_string(options_.max_header_bytes) + " bytes"));
  }
  if (end == std::string::npos) return;
  ConnectionPtr owned = Unpark(connection);
  Status refused = dispatch_(owned);
  if (!owned) return;
  // No handler thread for it: back in the set only to be answered and drained.
  if (!Add(std::move(owned), Clock::now())) return;
  Refuse(connection, 503, refused);
}

void ConnectionReactor::Refuse(Connection* connection, int status, const Status& error) {
  LogRefusedConnection(options_.logger_name, connection->remote, status, error.message());
  std::string response = ErrorResponse(status, error, options_.error_document);
  // Small enough for an empty socket buffer; whether it arrives does not matter, the connection
  // closes after it.
  (void)!send(connection->fd, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  shutdown(connection->fd, SHUT_WR);
  connection->closing = true;
  connection->pending.clear();
  connection->pending.shrink_to_fit();
  Reschedule(connection, Clock::now() + kClosingDrain);
}

void ConnectionReactor::Expire(Clock::time_point now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Connection* connection = deadlines_.begin()->second;
    if (connection->closing) {
      CloseParked(connection);  // drained long enough after its error answer
    } else if (connection->pending.empty()) {
      // Idle: closing it is no error (clients reconnect), so only at debug.
      Logger(options_.logger_name)
          .debug("remote={} idle connection closed after {} s", connection->remote,
                 options_.idle_timeout.count());
      CloseParked(connection);
    } else {
      Refuse(connection, 408,
             Status(StatusCode::kDeadlineExceeded,
                    "request header not received within " +
                        std::to_string(options_.header_timeout.count()) + " s"));
    }
  }
}

}  // namespace trainyard::server::internal
