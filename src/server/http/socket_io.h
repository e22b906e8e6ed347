// Plain-socket helpers for HttpServer (internal): the listening socket, blocking-with-timeout
// writes on non-blocking sockets, closing politely, and the detached server-sent-events stream.
// Every send uses MSG_NOSIGNAL, so a client that goes away never raises SIGPIPE.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http/http_server.h"

namespace trainyard::server::internal {

// A non-blocking, close-on-exec listening socket on host:port (SO_REUSEADDR). InvalidArgument
// for a host that does not resolve; Unavailable (naming host:port) when it cannot be bound.
Result<int> Listen(const std::string& host, uint16_t port);

// The port a bound socket listens on.
uint16_t LocalPort(int fd);

// "127.0.0.1:51234", "[::1]:51234".
std::string FormatAddress(const sockaddr* address, socklen_t length);

// The outcome of waiting for a socket.
enum class WaitResult { kReady, kTimeout, kError };
// Waits until `fd` is ready for `events` (POLLIN, POLLOUT), at most `timeout`.
WaitResult WaitFor(int fd, short events, std::chrono::milliseconds timeout);

// Writes all of `iov` to the non-blocking socket `fd`, waiting at most `timeout` whenever the
// client does not take more. Unavailable when the client went away or stalled. Modifies `iov`.
Status SendAll(int fd, iovec* iov, int count, std::chrono::milliseconds timeout);
Status SendAll(int fd, std::string_view bytes, std::chrono::milliseconds timeout);

// A server-sent-events stream that owns `fd` (a non-blocking socket whose response header was
// already sent).
EventStreamPtr MakeSocketEventStream(int fd);

}  // namespace trainyard::server::internal
