// A minimal HTTP/1.1 server on 127.0.0.1 (port 0) for tests that need a peer: it records each
// request and answers with a fixed status, hangs without answering, or answers through a handler
// per request (for clients that make several calls, as IMDS does). Thread-safe; one connection at
// a time, closed after each answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trainyard::testing {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// A TCP socket bound to a free port of 127.0.0.1 (written to *port); the caller listens on it.
int ListenOnLoopback(int* port);
// Reads one request (head and Content-Length body) from a connected socket, polling `stopping`;
// false when the peer sent no full request.
bool ReadHttpRequest(int client, const std::atomic<bool>& stopping, RecordedRequest* request);

struct HttpTestResponse {
  int status = 200;
  std::string body;
  // Sent after the default ones; a Content-Length here replaces the body's (for HEAD answers).
  std::map<std::string, std::string> headers;
};

class HttpTestServer {
 public:
  enum class Mode { kAnswer, kHang };
  // Runs on the server thread, one request at a time.
  using Handler = std::function<HttpTestResponse(const RecordedRequest&)>;

  explicit HttpTestServer(Mode mode = Mode::kAnswer, int status = 200);
  explicit HttpTestServer(Handler handler);
  ~HttpTestServer();

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<RecordedRequest> requests();
  // Waits until at least `count` requests arrived; false on timeout.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout);

 private:
  void Serve();
  void Handle(int client);

  Mode mode_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> hung_clients_;
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
int UnusedLoopbackPort();

}  // namespace trainyard::testing
