// ScriptedHttpServer: a test peer for the client that, unlike tests/support's HttpTestServer,
// lets each handler write the raw answer itself, a piece at a time: custom headers
// (Content-Disposition), server-sent events cut at any byte, answers that stop half-way.
// One connection at a time, closed when the handler returns. Test-only.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_server.h"

namespace trainyard::client::testing {

using trainyard::testing::RecordedRequest;

class ScriptedHttpServer {
 public:
  // `write` sends bytes at once (false when the peer has gone).
  using Write = std::function<bool(const std::string& bytes)>;
  using Handler = std::function<void(const RecordedRequest& request, const Write& write)>;

  explicit ScriptedHttpServer(Handler handler);
  ~ScriptedHttpServer();

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<RecordedRequest> requests();

  // "HTTP/1.1 <status> X\r\n<headers>Content-Length: n\r\nConnection: close\r\n\r\n<body>".
  static std::string Response(int status, const std::string& body,
                              const std::string& extra_headers = "");

 private:
  void Serve();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};

}  // namespace trainyard::client::testing
