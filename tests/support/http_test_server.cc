#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace trainyard::testing {

namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

int ListenOnLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

bool ReadHttpRequest(int client, const std::atomic<bool>& stopping, RecordedRequest* request) {
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
      std::string lower = Lower(data.substr(0, header_end));
      if (size_t at = lower.find("content-length:"); at != std::string::npos) {
        content_length = std::stoul(lower.substr(at + 15));
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
  }
  if (header_end == std::string::npos) return false;
  std::string head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t space1 = request_line.find(' '), space2 = request_line.rfind(' ');
  request->method = request_line.substr(0, space1);
  request->target = request_line.substr(space1 + 1, space2 - space1 - 1);
  size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
  while (position < head.size()) {
    size_t end = head.find("\r\n", position);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(position, end - position);
    if (size_t colon = line.find(':'); colon != std::string::npos) {
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      request->headers[Lower(line.substr(0, colon))] =
          value_start == std::string::npos ? "" : line.substr(value_start);
    }
    position = end + 2;
  }
  request->body = data.substr(header_end + 4, content_length);
  return true;
}

int UnusedLoopbackPort() {
  int port = 0;
  int fd = ListenOnLoopback(&port);
  ::close(fd);
  return port;
}

HttpTestServer::HttpTestServer(Mode mode, int status)
    : HttpTestServer([status](const RecordedRequest&) {
        return HttpTestResponse{status, ""};
      }) {
  mode_ = mode;
}

HttpTestServer::HttpTestServer(Handler handler)
    : mode_(Mode::kAnswer), handler_(std::move(handler)) {
  listen_fd_ = ListenOnLoopback(&port_);
  ::listen(listen_fd_, 64);
  thread_ = std::thread([this] { Serve(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
  for (int fd : hung_clients_) ::close(fd);
}

std::vector<RecordedRequest> HttpTestServer::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool HttpTestServer::WaitForRequests(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void HttpTestServer::Serve() {
  while (!stopping_) {
    pollfd fd{listen_fd_, POLLIN, 0};
    if (::poll(&fd, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) Handle(client);
  }
}

void HttpTestServer::Handle(int client) {
  RecordedRequest request;
  if (!ReadHttpRequest(client, stopping_, &request)) {
    ::close(client);
    return;
  }
  if (mode_ == Mode::kHang) {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(request));
    }
    arrived_.notify_all();
    hung_clients_.push_back(client);  // never answered, closed when the server goes
    return;
  }
  HttpTestResponse answer = handler_(request);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  arrived_.notify_all();
  std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " Status\r\n";
  if (!answer.headers.contains("Content-Type")) response += "Content-Type: text/plain\r\n";
  if (!answer.headers.contains("Content-Length")) {
    response += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  }
  for (const auto& [name, value] : answer.headers) response += name + ": " + value + "\r\n";
  response += "Connection: close\r\n\r\n" + answer.body;
  size_t written = 0;
  while (written < response.size()) {
    ssize_t n = ::write(client, response.data() + written, response.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(client);
}

}  // namespace trainyard::testing
