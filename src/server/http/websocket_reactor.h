// The WebSocket connections of an HttpServer (internal): one thread and one epoll set for all of
// them. It reads what clients send, decodes it (websocket_frame.h), answers pings and the close
// handshake itself and hands text messages to each connection's WebSocketHandler; writes go out
// from the sender's thread as far as the socket takes them, the rest when epoll says the socket
// is writable. A connection that closes (either side) is finished here: the socket closed, the
// handler told once.
//
// Thread-safe: Adopt and Stop may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::internal {

class SocketWebSocket;

class WebSocketReactor {
 public:
  // Internal when epoll or the thread cannot be made.
  static Result<std::unique_ptr<WebSocketReactor>> Create(const HttpServerOptions& options);
  ~WebSocketReactor();  // Stop()s

  // Holds a place for one more connection when fewer than max_websockets are open or held: the
  // place is taken before the 101 goes out, so that two upgrades at once never both pass the
  // cap. Each true is followed by one Adopt (which takes the place) or one Release.
  bool Reserve();
  void Release();
  // Takes `fd` (a non-blocking socket whose 101 answer went out, its place Reserved) with the
  // bytes the client sent after its request (`received`); nullptr (and the socket closed) once
  // stopped.
  WebSocketPtr Adopt(int fd, std::string remote, std::string received, WebSocketHandlerPtr handler);
  // Closes every connection with 1001 (going away), telling their handlers; later Adopts fail.
  void Stop();
  size_t open_count();

 private:
  friend class SocketWebSocket;
  WebSocketReactor(const HttpServerOptions& options, int epoll_fd, int wake_fd);
  void Loop();
  void Wake();
  void OnReadable(const std::shared_ptr<SocketWebSocket>& socket);
  void Handle(const std::shared_ptr<SocketWebSocket>& socket, std::vector<std::string>& texts);
  void Finish(const std::shared_ptr<SocketWebSocket>& socket);

  const HttpServerOptions options_;
  const int epoll_fd_;
  const int wake_fd_;
  std::thread thread_;
  std::once_flag stop_once_;

  std::mutex mutex_;
  bool stopping_ = false;
  size_t reserved_ = 0;  // places Reserved, not yet Adopted nor Released
  std::map<SocketWebSocket*, std::shared_ptr<SocketWebSocket>> sockets_;
};

}  // namespace trainyard::server::internal
