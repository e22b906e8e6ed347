// A minimal HTTP/1.1 server on 127.0.0.1 (port 0) that answers per request, for tests of
// clients that make several calls (IMDS, container credentials): a handler maps each recorded
// request to a response. Requests are recorded like HttpTestServer's. Thread-safe; one
// connection at a time, closed after each answer.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_server.h"

namespace trainyard::testing {

struct RoutedResponse {
  int status = 200;
  std::string body;
};

class RoutedHttpServer {
 public:
  using Handler = std::function<RoutedResponse(const RecordedRequest&)>;

  // The handler runs on the server thread, one request at a time.
  explicit RoutedHttpServer(Handler handler);
  ~RoutedHttpServer();

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<RecordedRequest> requests();

 private:
  void Serve();
  void Handle(int client);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

}  // namespace trainyard::testing
