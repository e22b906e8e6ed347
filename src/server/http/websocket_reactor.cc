#include "server/http/websocket_reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "server/http/websocket_frame.h"

namespace trainyard::server::internal {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kPollInterval{250};
constexpr std::chrono::seconds kTickInterval{1};
// How long a close handshake may take before the socket is closed anyway.
constexpr std::chrono::seconds kCloseTimeout{1};
// Read per readable event, so that one fast sender cannot hold the thread.
constexpr size_t kReadBudget = 256 * 1024;

}  // namespace

class SocketWebSocket : public WebSocket, public std::enable_shared_from_this<SocketWebSocket> {
 public:
  SocketWebSocket(WebSocketReactor& reactor, int fd, std::string remote,
                  WebSocketHandlerPtr handler)
      : reactor_(reactor),
        fd_(fd),
        remote_(std::move(remote)),
        handler_(std::move(handler)),
        decoder_(reactor.options_.max_websocket_message_bytes) {}

  bool SendText(std::string_view message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0 || closing_ || broken_) return false;
    size_t queued = outbound_.size() - sent_;
    if (queued + message.size() > reactor_.options_.max_websocket_buffered_bytes) {
      Logger(reactor_.options_.logger_name)
          .warn("websocket client={} closed: {} bytes queued that it does not read", remote_,
                queued);
      QueueCloseLocked(kWebSocketPolicyViolation, "client does not read its messages");
      return false;
    }
    outbound_ += EncodeWebSocketFrame(WebSocketOpcode::kText, message);
    FlushLocked();
    return !broken_;
  }

  size_t buffered_bytes() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return outbound_.size() - sent_;
  }

  void Close(uint16_t code, std::string_view reason) override {
    std::lock_guard<std::mutex> lock(mutex_);
    QueueCloseLocked(code, reason);
  }

  bool closed() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return fd_ < 0 || closing_ || broken_;
  }

  const std::string& remote_address() const override { return remote_; }

 private:
  friend class WebSocketReactor;

  void QueueCloseLocked(uint16_t code, std::string_view reason) {
    if (fd_ < 0 || closing_) return;
    closing_ = true;
    close_code_ = code;
    close_deadline_ = Clock::now() + kCloseTimeout;
    outbound_ += EncodeWebSocketClose(code, reason);
    FlushLocked();
    reactor_.Wake();  // to finish it once the client answers, or at the deadline
  }

  void FlushLocked() {
    while (fd_ >= 0 && sent_ < outbound_.size()) {
      ssize_t n = send(fd_, outbound_.data() + sent_, outbound_.size() - sent_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        WatchWritableLocked(true);
        return;
      }
      broken_ = true;
      reactor_.Wake();
      return;
    }
    if (sent_ == outbound_.size()) {
      outbound_.clear();
      sent_ = 0;
      WatchWritableLocked(false);
    }
  }

  void WatchWritableLocked(bool writable) {
    if (fd_ < 0 || watching_writable_ == writable) return;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | (writable ? EPOLLOUT : 0);
    event.data.ptr = this;
    if (epoll_ctl(reactor_.epoll_fd_, EPOLL_CTL_MOD, fd_, &event) == 0) {
      watching_writable_ = writable;
    } else {
      broken_ = true;
      reactor_.Wake();
    }
  }

  // Closed for good: the close handshake is over, its time is up, or the socket broke.
  bool DueToFinish(Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_ || peer_gone_) return true;
    if (!closing_) return false;
    return (peer_closed_ && sent_ == outbound_.size()) || now >= close_deadline_;
  }

  WebSocketReactor& reactor_;
  const std::string remote_;
  mutable std::mutex mutex_;
  int fd_;  // -1 once finished
  std::string outbound_;
  size_t sent_ = 0;  // of outbound_
  bool watching_writable_ = false;
  bool closing_ = false;      // our close frame is queued: nothing more is sent
  bool peer_closed_ = false;  // the client's close frame came
  bool peer_gone_ = false;    // the client's end of the socket closed
  bool broken_ = false;       // a write failed
  uint16_t close_code_ = 1006;
  Clock::time_point close_deadline_;

  // The reactor thread's own.
  WebSocketHandlerPtr handler_;
  WebSocketDecoder decoder_;
  std::string received_;  // the bytes that came with the request, read first
  Clock::time_point next_tick_ = Clock::now() + kTickInterval;
  Clock::time_point last_heard_ = Clock::now();  // the last bytes from the client
  Clock::time_point next_ping_ = Clock::now() + reactor_.options_.websocket_ping_interval;
};

Result<std::unique_ptr<WebSocketReactor>> WebSocketReactor::Create(
    const HttpServerOptions& options) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return Internal(std::string("epoll_create1: ") + std::strerror(errno));
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    close(epoll_fd);
    return Internal(std::string("eventfd: ") + std::strerror(errno));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    close(epoll_fd);
    close(wake_fd);
    return Internal(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  std::unique_ptr<WebSocketReactor> reactor(new WebSocketReactor(options, epoll_fd, wake_fd));
  try {
    reactor->thread_ = std::thread([raw = reactor.get()] { raw->Loop(); });
  } catch (const std::system_error& error) {
    return Internal(std::string("no WebSocket thread: ") + error.what());
  }
  return reactor;
}

WebSocketReactor::WebSocketReactor(const HttpServerOptions& options, int epoll_fd, int wake_fd)
    : options_(options), epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

WebSocketReactor::~WebSocketReactor() {
  Stop();
  close(epoll_fd_);
  close(wake_fd_);
}

bool WebSocketReactor::Reserve() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_ || sockets_.size() + reserved_ >= options_.max_websockets) return false;
  ++reserved_;
  return true;
}

void WebSocketReactor::Release() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reserved_ > 0) --reserved_;
}

size_t WebSocketReactor::open_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  return sockets_.size();
}

void WebSocketReactor::Wake() {
  uint64_t one = 1;
  // An eventfd write fails only when its counter would overflow: it is then readable anyway.
  (void)!write(wake_fd_, &one, sizeof(one));
}

WebSocketPtr WebSocketReactor::Adopt(int fd, std::string remote, std::string received,
                                     WebSocketHandlerPtr handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reserved_ > 0) --reserved_;
  if (stopping_) {
    close(fd);
    return nullptr;
  }
  auto socket = std::make_shared<SocketWebSocket>(*this, fd, std::move(remote), std::move(handler));
  socket->received_ = std::move(received);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.ptr = socket.get();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    Logger(options_.logger_name)
        .error("websocket client={} not served: epoll_ctl: {}", socket->remote_,
               std::strerror(errno));
    close(fd);
    socket->fd_ = -1;
    return nullptr;
  }
  sockets_.emplace(socket.get(), socket);
  if (!socket->received_.empty()) Wake();  // read by the loop as if the socket were readable
  return socket;
}

void WebSocketReactor::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    std::map<SocketWebSocket*, std::shared_ptr<SocketWebSocket>> sockets;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sockets.swap(sockets_);
    }
    for (auto& [raw, socket] : sockets) {
      {
        std::lock_guard<std::mutex> lock(socket->mutex_);
        if (socket->fd_ >= 0) {
          // Best effort, without waiting: the server is going away either way.
          std::string frame = EncodeWebSocketClose(kWebSocketGoingAway, "server stopping");
          (void)!send(socket->fd_, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          close(socket->fd_);
          socket->fd_ = -1;
        }
        socket->closing_ = true;
      }
      if (socket->handler_) socket->handler_->OnClosed(socket, kWebSocketGoingAway);
      socket->handler_.reset();
    }
  });
}

void WebSocketReactor::Loop() {
  epoll_event events[64];
  Clock::time_point next_sweep = Clock::now() + kPollInterval;
  for (;;) {
    int n = epoll_wait(epoll_fd_, events, 64, static_cast<int>(kPollInterval.count()));
    if (n < 0 && errno != EINTR) {
      Logger(options_.logger_name).error("websocket epoll_wait failed: {}", std::strerror(errno));
    }
    std::vector<std::shared_ptr<SocketWebSocket>> ready;
    std::vector<std::shared_ptr<SocketWebSocket>> all;
    Clock::time_point now = Clock::now();
    bool sweep = now >= next_sweep;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == nullptr) {
          uint64_t counter;
          (void)!read(wake_fd_, &counter, sizeof(counter));  // EAGAIN: drained already
          sweep = true;  // woken: a close was queued, or bytes came with a request
          continue;
        }
        auto it = sockets_.find(static_cast<SocketWebSocket*>(events[i].data.ptr));
        if (it != sockets_.end()) ready.push_back(it->second);
      }
      if (sweep) {
        for (auto& [raw, socket] : sockets_) all.push_back(socket);
      }
    }
    for (auto& socket : ready) {
      {
        std::lock_guard<std::mutex> lock(socket->mutex_);
        socket->FlushLocked();
      }
      OnReadable(socket);
    }
    for (auto& socket : ready) {
      if (socket->DueToFinish(now)) Finish(socket);
    }
    if (!sweep) continue;
    next_sweep = now + kPollInterval;
    for (auto& socket : all) {
      if (!socket->received_.empty()) OnReadable(socket);
      if (socket->DueToFinish(now)) {
        Finish(socket);
        continue;
      }
      if (now >= socket->next_ping_) {
        socket->next_ping_ = now + options_.websocket_ping_interval;
        std::lock_guard<std::mutex> lock(socket->mutex_);
        if (now - socket->last_heard_ >= 2 * options_.websocket_ping_interval) {
          Logger(options_.logger_name)
              .info("websocket client={} closed: no answer to pings", socket->remote_);
          socket->QueueCloseLocked(kWebSocketGoingAway, "no answer to pings");
        } else if (!socket->closing_) {
          socket->outbound_ += EncodeWebSocketFrame(WebSocketOpcode::kPing, "");
          socket->FlushLocked();
        }
      }
      if (now >= socket->next_tick_ && socket->handler_) {
        socket->next_tick_ = now + kTickInterval;
        socket->handler_->OnTick(socket, now);
      }
    }
  }
}

void WebSocketReactor::OnReadable(const std::shared_ptr<SocketWebSocket>& socket) {
  if (socket->fd_ < 0) return;  // the reactor alone closes it: no lock needed to read it here
  std::string bytes = std::move(socket->received_);
  socket->received_.clear();
  char buffer[16 * 1024];
  bool gone = false;
  while (bytes.size() < kReadBudget) {
    ssize_t n = recv(socket->fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      bytes.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    gone = true;  // end of stream, or a reset
    break;
  }
  if (!bytes.empty()) socket->last_heard_ = Clock::now();
  std::vector<WebSocketMessage> messages;
  auto failure = socket->decoder_.Feed(bytes, messages);
  std::vector<std::string> texts;
  {
    std::lock_guard<std::mutex> lock(socket->mutex_);
    for (WebSocketMessage& message : messages) {
      switch (message.kind) {
        case WebSocketMessage::Kind::kText:
          if (!socket->closing_) texts.push_back(std::move(message.payload));
          break;
        case WebSocketMessage::Kind::kPing:
          if (!socket->closing_) {
            socket->outbound_ += EncodeWebSocketFrame(WebSocketOpcode::kPong, message.payload);
            socket->FlushLocked();
          }
          break;
        case WebSocketMessage::Kind::kPong: break;
        case WebSocketMessage::Kind::kClose:
          socket->peer_closed_ = true;
          if (!socket->closing_) {
            // Echo the client's code (RFC 6455 5.5.1); 1005 means it sent none, which is never
            // sent back.
            uint16_t code =
                message.close_code == 1005 ? kWebSocketNormalClosure : message.close_code;
            socket->QueueCloseLocked(code, "");
            socket->close_code_ = message.close_code;
          }
          break;
      }
    }
    if (failure && !socket->closing_) {
      Logger(options_.logger_name)
          .info("websocket client={} closed with {}: {}", socket->remote_, failure->code,
                failure->reason);
      socket->QueueCloseLocked(failure->code, failure->reason);
    }
    if (gone) socket->peer_gone_ = true;
  }
  if (socket->handler_) {
    for (std::string& text : texts) socket->handler_->OnText(socket, std::move(text));
  }
  if (gone) Finish(socket);
}

void WebSocketReactor::Finish(const std::shared_ptr<SocketWebSocket>& socket) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sockets_.erase(socket.get());
  }
  uint16_t code;
  {
    std::lock_guard<std::mutex> lock(socket->mutex_);
    if (socket->fd_ < 0) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket->fd_, nullptr);
    close(socket->fd_);
    socket->fd_ = -1;
    socket->closing_ = true;
    code = socket->close_code_;
  }
  if (socket->handler_) socket->handler_->OnClosed(socket, code);
  socket->handler_.reset();
}

}  // namespace trainyard::server::internal
