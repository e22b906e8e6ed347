#include "server/http/socket_io.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace trainyard::server::internal {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string HostPort(const std::string& host, uint16_t port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

// Owns the socket handed over by a connection; see EventStream for the contract.
class SocketEventStream : public EventStream {
 public:
  explicit SocketEventStream(int fd) : fd_(fd) {}
  ~SocketEventStream() override { Close(); }

  bool Send(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<size_t> sent = SendSomeLocked(bytes);
    if (sent && *sent == bytes.size()) return true;
    // A full buffer included: blocking here would let one slow client hold up every sender, and
    // the client loses nothing, as it reconnects with Last-Event-ID.
    CloseLocked();
    return false;
  }

  std::optional<size_t> SendSome(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return SendSomeLocked(bytes);
  }

  bool closed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return fd_ < 0 || PeerGoneLocked();
  }

  void Close() override {
    std::lock_guard<std::mutex> lock(mutex_);
    CloseLocked();
  }

 private:
  // Without this, a client that left would be noticed only once the socket buffer filled up.
  bool PeerGoneLocked() const {
    pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
    if (poll(&pfd, 1, 0) <= 0) return false;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
    if (pfd.revents & POLLIN) {
      char scratch[4096];
      ssize_t n = recv(fd_, scratch, sizeof(scratch), MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }

  std::optional<size_t> SendSomeLocked(std::string_view bytes) {
    if (fd_ < 0) return std::nullopt;
    if (PeerGoneLocked()) {
      CloseLocked();
      return std::nullopt;
    }
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;  // full: the caller keeps the rest
      } else {
        CloseLocked();
        return std::nullopt;
      }
    }
    return sent;
  }

  void CloseLocked() {
    if (fd_ < 0) return;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    fd_ = -1;
  }

  mutable std::mutex mutex_;
  int fd_;
};

}  // namespace

Result<int> Listen(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return InvalidArgument("cannot resolve host '" + host + "': " + gai_strerror(rc));
  }
  std::string where = HostPort(host, port);
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    return Unavailable("cannot create a socket for " + where + ": " + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  rc = bind(fd, found->ai_addr, found->ai_addrlen);
  int bind_errno = errno;
  freeaddrinfo(found);
  if (rc != 0) {
    close(fd);
    if (bind_errno == EADDRINUSE) return Unavailable("address " + where + " is already in use");
    return Unavailable("cannot bind " + where + ": " + std::strerror(bind_errno));
  }
  if (listen(fd, SOMAXCONN) != 0) {
    int listen_errno = errno;
    close(fd);
    return Unavailable("cannot listen on " + where + ": " + std::strerror(listen_errno));
  }
  return fd;
}

uint16_t LocalPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

std::string FormatAddress(const sockaddr* address, socklen_t length) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  return "unknown";
}

WaitResult WaitFor(int fd, short events, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    pollfd pfd{fd, events, 0};
    int rc = poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (rc > 0) return WaitResult::kReady;  // errors and hang-ups show in the next call
    if (rc == 0) return WaitResult::kTimeout;
    if (errno != EINTR) return WaitResult::kError;
  }
}

Status SendAll(int fd, iovec* iov, int count, milliseconds timeout) {
  while (count > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --count;
      continue;
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Unavailable(std::string("client went away: ") + std::strerror(errno));
      }
      WaitResult waited = WaitFor(fd, POLLOUT, timeout);
      if (waited == WaitResult::kTimeout) return Unavailable("client stopped reading");
      if (waited == WaitResult::kError) return Unavailable("client went away");
      continue;
    }
    auto left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::Ok();
}

Status SendAll(int fd, std::string_view bytes, milliseconds timeout) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  return SendAll(fd, &iov, 1, timeout);
}

EventStreamPtr MakeSocketEventStream(int fd) {
  return std::make_shared<SocketEventStream>(fd);
}

}  // namespace trainyard::server::internal
