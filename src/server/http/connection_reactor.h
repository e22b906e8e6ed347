// The reactor of HttpServer (internal): one thread and one epoll set holding every connection
// that is not inside a handler. It accepts, counts connections (in all and per client address),
// reads each request's header into the connection's own buffer, enforces the header size, the
// header deadline and the idle timeout, and hands a connection whose header is complete to a
// handler thread (Dispatch). The error answers it writes itself (431, 400, 408, 503) are sent
// without blocking, then the connection is drained for a moment before it closes, so that the
// client reads the answer rather than a reset.
//
// Thread-safe: Return, Close and Stop may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::internal {

// An accepted connection: owned by the reactor while it waits for a request, by a handler
// thread while its request is served.
struct Connection {
  uint64_t id = 0;
  int fd = -1;           // -1 once handed over to an event stream
  std::string remote;    // "127.0.0.1:51234"
  std::string client;    // the address the per-client cap counts: "127.0.0.1"
  std::string pending;   // received, not parsed yet: when dispatched, starts with a whole header
  bool counted = false;  // holds a slot (in all and of its client) until closed
  // The reactor's own.
  std::chrono::steady_clock::time_point deadline;
  bool closing = false;  // an error answer went out: draining what still comes, then closed
  bool linger = false;   // returned by CloseGracefully: to be drained, then closed
};
using ConnectionPtr = std::unique_ptr<Connection>;

class ConnectionReactor {
 public:
  // Takes a connection whose header is complete (and may keep it: it then empties
  // `connection`). A connection left in place is answered 503 with the returned error (no
  // handler thread free for it). Called on the reactor's thread.
  using Dispatch = std::function<Status(ConnectionPtr& connection)>;

  // A reactor on `listen_fd` (a non-blocking listening socket, which it owns from now on),
  // not yet accepting: Run starts its thread. Two steps, so that whoever dispatches to
  // handlers holds the reactor before the first connection reaches one. Internal when epoll
  // cannot be made.
  static Result<std::unique_ptr<ConnectionReactor>> Create(const HttpServerOptions& options,
                                                           int listen_fd, Dispatch dispatch);
  // Starts the reactor's thread. Internal when it cannot be made.
  Status Run();
  ~ConnectionReactor();  // Stop()s

  // A connection whose response went out and that may carry another request: waits for it
  // again (its `pending` bytes are the beginning of the next request). Closes it once stopped.
  void Return(ConnectionPtr connection);
  // Closes the connection (unless an event stream took its socket) and frees its slot.
  void Close(ConnectionPtr connection);
  // Closes our side at once and the connection after a second, discarding what the
  // client still sends meanwhile: closing a socket with unread bytes would answer them with a
  // reset that could destroy the response just sent. The reactor waits, not the caller's thread.
  void CloseGracefully(ConnectionPtr connection);
  // Stops accepting and closes every connection the reactor holds; those returned later are
  // closed. Idempotent.
  void Stop();

 private:
  ConnectionReactor(const HttpServerOptions& options, int listen_fd, int epoll_fd, int wake_fd,
                    Dispatch dispatch);
  void Loop();
  void AcceptPending();
  void Park(ConnectionPtr connection);
  void Linger(ConnectionPtr connection);
  // Into the epoll set, until `deadline`; false (and closed) when epoll refuses it.
  bool Add(ConnectionPtr connection, std::chrono::steady_clock::time_point deadline);
  void OnReadable(Connection* connection);
  void Drain(Connection* connection);
  void Refuse(Connection* connection, int status, const Status& error);
  void Expire(std::chrono::steady_clock::time_point now);
  void Reschedule(Connection* connection, std::chrono::steady_clock::time_point deadline);
  ConnectionPtr Unpark(Connection* connection);
  void CloseParked(Connection* connection);
  void Release(Connection& connection);
  int WaitMilliseconds(std::chrono::steady_clock::time_point now) const;
  void Wake();

  const HttpServerOptions options_;
  const int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;
  const Dispatch dispatch_;
  std::thread thread_;
  std::once_flag stop_once_;

  // The reactor thread's own.
  std::map<Connection*, ConnectionPtr> parked_;
  std::set<std::pair<std::chrono::steady_clock::time_point, Connection*>> deadlines_;
  size_t refused_closing_ = 0;  // uncounted connections draining after their 503
  uint64_t next_id_ = 1;
  bool accept_paused_ = false;
  std::chrono::steady_clock::time_point accept_resume_;

  std::mutex mutex_;
  bool stopping_ = false;
  std::vector<ConnectionPtr> returned_;
  size_t open_ = 0;                               // counted connections
  std::map<std::string, size_t> open_by_client_;  // counted connections per client
};

}  // namespace trainyard::server::internal
