#include "client/scripted_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace trainyard::client::testing {

namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool ReadRequest(int client, const std::atomic<bool>& stopping, RecordedRequest* request) {
  std::string data;
  char buffer[65536];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  while (!stopping) {
    pollfd fd{client, POLLIN, 0};
    if (::poll(&fd, 1, 50) <= 0) continue;
    ssize_t n = ::read(client, buffer, sizeof buffer);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos &&
        (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string head = data.substr(0, header_end);
      size_t position = head.find("\r\n");
      std::string line = head.substr(0, position);
      size_t space1 = line.find(' '), space2 = line.rfind(' ');
      request->method = line.substr(0, space1);
      request->target = line.substr(space1 + 1, space2 - space1 - 1);
      while (position != std::string::npos && position < head.size()) {
        size_t start = position + 2;
        size_t end = head.find("\r\n", start);
        std::string header = head.substr(start, end == std::string::npos ? end : end - start);
        if (size_t colon = header.find(':'); colon != std::string::npos) {
          size_t value = header.find_first_not_of(' ', colon + 1);
          request->headers[Lower(header.substr(0, colon))] =
              value == std::string::npos ? "" : header.substr(value);
        }
        position = end;
      }
      if (auto it = request->headers.find("content-length"); it != request->headers.end()) {
        content_length = std::stoul(it->second);
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
      request->body = data.substr(header_end + 4, content_length);
      return true;
    }
  }
  return false;
}

}  // namespace

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
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
    if (ReadRequest(client, stopping_, &request)) {
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
