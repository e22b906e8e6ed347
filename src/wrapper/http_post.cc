#include "wrapper/http_post.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace trainyard::wrapper {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kSlice{100};

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events`, the deadline passes or `abandon` turns true; the
// error text, or "" when ready.
std::string WaitReady(int fd, short events, Clock::time_point deadline,
                      const std::atomic<bool>& abandon, const char* waiting_for) {
  while (true) {
    if (abandon.load()) return "abandoned";
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::string("timed out ") + waiting_for;
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(std::min(left, kSlice).count()));
    if (ready > 0) return "";
    if (ready < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
  }
}

// A connected, non-blocking socket to one of the URL's addresses.
std::string Connect(const PostRequest& request, Clock::time_point deadline,
                    const std::atomic<bool>& abandon, int* connected) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int resolved = ::getaddrinfo(request.url.host.c_str(), request.url.port.c_str(), &hints, &found);
  if (resolved != 0) {
    return "cannot resolve '" + request.url.host + "': " + ::gai_strerror(resolved);
  }
  std::string error = "no address for '" + request.url.host + "'";
  Clock::time_point connect_deadline = std::min(deadline, Clock::now() + request.connect_timeout);
  for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
    int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      address->ai_protocol);
    if (fd < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    Socket socket(fd);
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        error = "cannot connect to " + request.url.host_header + ": " + std::strerror(errno);
        continue;
      }
      error = WaitReady(fd, POLLOUT, connect_deadline, abandon, "connecting");
      if (!error.empty()) continue;
      int failure = 0;
      socklen_t length = sizeof failure;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length);
      if (failure != 0) {
        error = "cannot connect to " + request.url.host_header + ": " + std::strerror(failure);
        continue;
      }
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *connected = socket.release();
    error.clear();
    break;
  }
  ::freeaddrinfo(found);
  return error;
}

std::string SendAll(int fd, const std::string& data, Clock::time_point deadline,
                    const std::atomic<bool>& abandon) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return std::string("cannot send: ") + std::strerror(errno);
    }
    std::string error = WaitReady(fd, POLLOUT, deadline, abandon, "sending");
    if (!error.empty()) return error;
  }
  return "";
}

// The value of header `name` (lower case) in the response head, or nullopt.
std::optional<std::string> HeaderValue(const std::string& head, const std::string& name) {
  size_t line = head.find("\r\n");
  while (line != std::string::npos && line + 2 < head.size()) {
    size_t start = line + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    size_t colon = head.find(':', start);
    if (colon != std::string::npos && colon < end) {
      std::string field = head.substr(start, colon - start);
      std::transform(field.begin(), field.end(), field.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (field == name) {
        size_t value = head.find_first_not_of(" \t", colon + 1);
        return value == std::string::npos || value > end ? "" : head.substr(value, end - value);
      }
    }
    line = end;
  }
  return std::nullopt;
}

}  // namespace

std::optional<HttpUrl> ParseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() <= kScheme.size() || url.compare(0, kScheme.size(), kScheme) != 0) {
    return std::nullopt;
  }
  size_t authority_end = url.find_first_of("/?#", kScheme.size());
  std::string authority = url.substr(kScheme.size(), authority_end - kScheme.size());
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  HttpUrl parsed;
  std::string port_text;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    parsed.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port_text = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.find(':');
    parsed.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) return std::nullopt;
  if (!port_text.empty() &&
      (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
       std::stoi(port_text) == 0 || std::stoi(port_text) > 65535)) {
    return std::nullopt;
  }
  parsed.port = port_text.empty() ? "80" : port_text;
  parsed.host_header = authority;
  std::string rest = authority_end == std::string::npos ? "" : url.substr(authority_end);
  rest = rest.substr(0, rest.find('#'));  // a fragment is never sent
  parsed.target = rest.empty() || rest.front() != '/' ? "/" + rest : rest;
  return parsed;
}

PostOutcome PostPlainHttp(const PostRequest& request, const std::atomic<bool>& abandon) {
  Clock::time_point deadline = Clock::now() + request.timeout;
  PostOutcome outcome;
  int fd = -1;
  outcome.error = Connect(request, deadline, abandon, &fd);
  if (!outcome.error.empty()) return outcome;
  Socket socket(fd);

  std::string message =
      "POST " + request.url.target + " HTTP/1.1\r\nHost: " + request.url.host_header + "\r\n";
  for (const std::string& header : request.headers) message += header + "\r\n";
  message +=
      "Content-Length: " + std::to_string(request.body.size()) + "\r\nConnection: close\r\n\r\n";
  message += request.body;
  outcome.error = SendAll(fd, message, deadline, abandon);
  if (!outcome.error.empty()) return outcome;

  std::string received;
  size_t head_end = std::string::npos;
  constexpr size_t kUntilClosed = std::string::npos;
  size_t body_length = kUntilClosed;  // from Content-Length
  char buffer[4096];
  while (true) {
    if (head_end != std::string::npos && body_length != kUntilClosed &&
        received.size() >= head_end + 4 + body_length) {
      break;
    }
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      received.append(buffer, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = received.find("\r\n\r\n");
        if (head_end == std::string::npos && received.size() > 64 * 1024) {
          outcome.error = "response header too large";
          return outcome;
        }
        if (head_end != std::string::npos) {
          std::string head = received.substr(0, head_end + 2);
          if (head.compare(0, 5, "HTTP/") != 0 || head.size() < 12 ||
              head.find_first_not_of("0123456789", 9) != 12) {
            outcome.error = "not an HTTP response";
            return outcome;
          }
          outcome.status = std::stol(head.substr(9, 3));
          if (auto length = HeaderValue(head, "content-length")) {
            try {
              body_length = std::stoul(*length);
            } catch (const std::exception&) {
              body_length = kUntilClosed;  // unreadable: the end of the connection ends it
            }
          }
        }
      }
      continue;
    }
    if (n == 0) break;  // the server closed: the answer is complete
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      if (head_end == std::string::npos) {
        outcome.error = std::string("cannot receive: ") + std::strerror(errno);
      }
      break;
    }
    std::string error = WaitReady(fd, POLLIN, deadline, abandon, "waiting for the answer");
    if (!error.empty()) {
      // The status already read stands: only the rest of an unread body is lost.
      if (head_end == std::string::npos) outcome.error = error;
      break;
    }
  }
  if (head_end == std::string::npos) {
    outcome.status = 0;
    if (outcome.error.empty()) outcome.error = "the connection closed before an answer";
  }
  return outcome;
}

}  // namespace trainyard::wrapper
