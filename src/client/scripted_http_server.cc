#include "client/scripted_http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace trainyard::client::testing {

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = trainyard::testing::ListenOnLoopback(&port_);
  ::listen(listen_fd_, 64);
  thread_ = std::thread([this] { Serve(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<RecordedRequest> ScriptedHttpServer::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::string ScriptedHttpServer::Response(int status, const std::string& body,
                                         const std::string& extra_headers) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

void ScriptedHttpServer::Serve() {
  while (!stopping_) {
    pollfd fd{listen_fd_, POLLIN, 0};
    if (::poll(&fd, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    RecordedRequest request;
    if (trainyard::testing::ReadHttpRequest(client, stopping_, &request)) {
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      handler_(request, [client](const std::string& bytes) {
        size_t written = 0;
        while (written < bytes.size()) {
          ssize_t n = ::send(client, bytes.data() + written, bytes.size() - written, MSG_NOSIGNAL);
          if (n <= 0) return false;
          written += static_cast<size_t>(n);
        }
        return true;
      });
    }
    ::close(client);
  }
}

}  // namespace trainyard::client::testing
