// Hostile HTTP clients against a real `trainyard server` (issue 14, "Denial of service with idle
// connections"): thousands of sockets that send nothing or half a header, a header trickled a
// byte at a time, one client opening more connections than its share. The attackers connect
// from 127.0.0.2 (Linux routes all of 127/8 to lo), the honest client from 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"
#include "support/test_paths.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// This process holds thousands of sockets: its soft descriptor limit goes to the hard one.
void RaiseOpenFileLimit() {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
}

// A TCP connection from `source` to 127.0.0.1:port; -1 when it could not be made.
int ConnectFrom(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Everything the peer sends until it closes or `timeout` passes.
std::string ReadUntilClosed(int fd, milliseconds timeout) {
  std::string received;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  return received;
}

// True while the server has neither answered nor closed the connection.
bool StillOpenAndSilent(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, 0) == 0;
}

// The attackers' sockets, closed with the test.
struct Sockets {
  std::vector<int> fds;
  ~Sockets() {
    for (int fd : fds) close(fd);
  }
  // `count` connections from `source`, each sending `first_bytes` (nothing when empty).
  void Open(const char* source, int port, int count, const std::string& first_bytes) {
    for (int i = 0; i < count; ++i) {
      int fd = ConnectFrom(source, port);
      ASSERT_GE(fd, 0) << "connection " << i << " from " << source << ": " << strerror(errno);
      fds.push_back(fd);
      if (!first_bytes.empty()) {
        ASSERT_TRUE(SendAll(fd, first_bytes));
      }
    }
  }
};

int ThreadsOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// Soon enough to tell a server that keeps answering from a starved one (503, or nothing until
// the 60 s body timeout), with room for a test machine loaded by other tests. The latency target
// itself (p99 <= 50 ms) is measured by bench/server/idle_connections.sh, not asserted here.
constexpr double kAnsweredSoonSeconds = 5.0;

struct Latencies {
  std::vector<double> seconds;
  double Max() const { return *std::max_element(seconds.begin(), seconds.end()); }
};

// `count` calls of `call`, each on a new connection (from 127.0.0.1), each expected to answer
// `status`.
Latencies Measure(int count, const HttpCall& call, long status) {
  Latencies latencies;
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    HttpAnswer answer = Call(call);
    latencies.seconds.push_back(SecondsSince(start));
    EXPECT_EQ(answer.status, status) << call.url << ": " << answer.body;
  }
  return latencies;
}

int PortOf(const std::string& url) {
  return std::stoi(url.substr(url.rfind(':') + 1));
}

class HostileHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RaiseOpenFileLimit(); }

  // A server whose S3 endpoint is on too, with `flags`.
  void StartServer(std::vector<std::string> flags) {
    s3_port_ = FreeLoopbackPort();
    flags.push_back("--s3-listen");
    flags.push_back("127.0.0.1:" + std::to_string(s3_port_));
    sagemaker_port_ = FreeLoopbackPort();
    flags.push_back("--sagemaker-listen");
    flags.push_back("127.0.0.1:" + std::to_string(sagemaker_port_));
    server_ = std::make_unique<ServerProcess>(temp_.path() / "data", flags);
    server_->Start();
    // /healthz answers before the S3 and SageMaker endpoints are up: wait for their ports.
    ASSERT_TRUE(WaitFor([&] { return Call({"GET", S3Url()}).status == 403; }, seconds(20)));
    ASSERT_TRUE(WaitFor([&] { return Call({"GET", SageMakerUrl()}).status != 0; }, seconds(20)));
  }
  std::string SageMakerUrl() const {
    return "http://127.0.0.1:" + std::to_string(sagemaker_port_) + "/";
  }
  std::string S3Url() const { return "http://127.0.0.1:" + std::to_string(s3_port_) + "/"; }
  HttpCall Api(const std::string& path) const {
    return {.method = "GET", .url = server_->url() + path, .bearer = server_->token()};
  }

  TempDir temp_;
  std::unique_ptr<ServerProcess> server_;
  int s3_port_ = 0;
  int sagemaker_port_ = 0;
};

// The finding: 1,030 idle sockets made /healthz answer 503 to everyone. Here the per-client cap
// is lifted, so that what is tested is the connection model: 2,000 idle and 300 half-sent
// headers are held open (neither answered nor closed), by a bounded number of threads, while
// the API answers promptly.
TEST_F(HostileHttpTest, IdleAndSlowHeaderConnectionsDoNotStarveTheApi) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--http-max-connections-per-client", "5000"}));
  int api_port = PortOf(server_->url());
  Sockets attackers;
  attackers.Open("127.0.0.2", api_port, 2000, "");
  attackers.Open("127.0.0.2", api_port, 300, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  Latencies health = Measure(20, {"GET", server_->url() + "/healthz"}, 200);
  Latencies sweeps = Measure(20, Api("/api/v1/sweeps"), 200);
  EXPECT_LT(health.Max(), kAnsweredSoonSeconds);
  EXPECT_LT(sweeps.Max(), kAnsweredSoonSeconds);
  int held = 0;
  for (int fd : attackers.fds) held += StillOpenAndSilent(fd);
  EXPECT_EQ(held, 2300) << "the attackers' connections were refused, not held";
  int threads = ThreadsOf(server_->pid());
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 200) << "a thread per connection";
}

TEST_F(HostileHttpTest, IdleAndSlowHeaderConnectionsDoNotStarveTheS3Endpoint) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--http-max-connections-per-client", "5000"}));
  Sockets attackers;
  attackers.Open("127.0.0.2", s3_port_, 2000, "");
  attackers.Open("127.0.0.2", s3_port_, 300, "GET /bucket HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  // Unsigned: S3's 403, answered by the endpoint's handler.
  Latencies s3 = Measure(20, {"GET", S3Url()}, 403);
  EXPECT_LT(s3.Max(), kAnsweredSoonSeconds);
  Latencies health = Measure(5, {"GET", server_->url() + "/healthz"}, 200);
  EXPECT_LT(health.Max(), kAnsweredSoonSeconds);
  int held = 0;
  for (int fd : attackers.fds) held += StillOpenAndSilent(fd);
  EXPECT_EQ(held, 2300);
  EXPECT_LT(ThreadsOf(server_->pid()), 200);
}

// Uploads whose body never completes hold a handler thread each: 1,030 of them from one
// authenticated client, with the default limits, leave /healthz and the API answering (before:
// 503 for everyone). 128 are read (http_max_requests_per_client), the rest answered 503.
TEST_F(HostileHttpTest, BodiesThatNeverCompleteDoNotStarveTheApi) {
  ASSERT_NO_FATAL_FAILURE(StartServer({}));
  int api_port = PortOf(server_->url());
  Sockets attackers;
  attackers.Open("127.0.0.2", api_port, 1030,
                 "POST /api/v1/datasets?name=d&kind=training&filename=d.csv HTTP/1.1\r\n"
                 "Host: x\r\nAuthorization: Bearer " +
                     server_->token() + "\r\nContent-Length: 1000000\r\n\r\nx,y\n");
  Latencies health = Measure(10, {"GET", server_->url() + "/healthz"}, 200);
  Latencies sweeps = Measure(10, Api("/api/v1/sweeps"), 200);
  EXPECT_LT(health.Max(), kAnsweredSoonSeconds);
  EXPECT_LT(sweeps.Max(), kAnsweredSoonSeconds);
  int stalled = 0;
  for (int fd : attackers.fds) stalled += StillOpenAndSilent(fd);
  EXPECT_EQ(stalled, 128) << "uploads still being read";
  EXPECT_LT(ThreadsOf(server_->pid()), 300);
}

// A body sent 100 bytes every 300 ms never goes silent for the body timeout, so it held a handler
// thread for as long as it lasted (here 50 minutes). Now it must average http_body_min_rate
// (1,000 bytes/s) past http_body_timeout (2 s): at about 3 s it is answered 408 and the thread is
// free; nothing is stored.
TEST_F(HostileHttpTest, TrickledBodyIsCutOffBelowTheMinimumRate) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--http-body-timeout", "2", "--http-body-min-rate", "1000"}));
  int fd = ConnectFrom("127.0.0.2", PortOf(server_->url()));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "POST /api/v1/datasets?name=slow&kind=training&filename=s.csv HTTP/1.1\r\n"
                      "Host: x\r\nAuthorization: Bearer " +
                          server_->token() + "\r\nContent-Length: 1000000\r\n\r\n"));
  auto start = Clock::now();
  std::string answer;
  while (answer.empty() && SecondsSince(start) < 10) {
    if (!SendAll(fd, std::string(100, 'x'))) break;
    answer = ReadUntilClosed(fd, milliseconds(300));
  }
  answer += ReadUntilClosed(fd, seconds(3));
  double cut_after = SecondsSince(start);
  close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("request body too slow"), std::string::npos) << answer;
  EXPECT_GT(cut_after, 2.0);
  EXPECT_LT(cut_after, 6.0);
  auto datasets = Call(Api("/api/v1/datasets"));
  EXPECT_EQ(datasets.status, 200);
  EXPECT_EQ(datasets.body.find("slow"), std::string::npos) << datasets.body;
}

// A header sent one byte every 200 ms: each read is prompt, the header never ends. It is cut
// off at the header deadline (2 s here) with 408, on the API and on the S3 endpoint (in S3's
// XML); an idle connection closes after the idle timeout.
TEST_F(HostileHttpTest, TrickledHeaderIsCutOffAtTheHeaderDeadline) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--http-header-timeout", "2", "--http-idle-timeout", "3"}));
  for (int port : {PortOf(server_->url()), s3_port_}) {
    int fd = ConnectFrom("127.0.0.2", port);
    ASSERT_GE(fd, 0);
    std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(200, 'p');
    auto start = Clock::now();
    std::string answer;
    for (size_t i = 0; i < header.size() && SecondsSince(start) < 10; ++i) {
      if (!SendAll(fd, header.substr(i, 1))) break;
      answer = ReadUntilClosed(fd, milliseconds(200));
      if (!answer.empty()) break;
    }
    answer += ReadUntilClosed(fd, seconds(3));
    double cut_after = SecondsSince(start);
    close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << "port " << port << ": " << answer;
    EXPECT_GT(cut_after, 1.5);
    EXPECT_LT(cut_after, 4.5);
    if (port == s3_port_) {
      EXPECT_NE(answer.find("<Code>RequestTimeout</Code>"), std::string::npos) << answer;
    } else {
      EXPECT_NE(answer.find("\"DeadlineExceeded\""), std::string::npos) << answer;
    }
  }
  int idle = ConnectFrom("127.0.0.2", PortOf(server_->url()));
  ASSERT_GE(idle, 0);
  auto start = Clock::now();
  EXPECT_EQ(ReadUntilClosed(idle, seconds(10)), "");  // closed without an answer
  close(idle);
  EXPECT_GT(SecondsSince(start), 2.5);
  EXPECT_LT(SecondsSince(start), 5.0);
}

// One client (127.0.0.2) capped at 10 connections: its 11th is answered 503 (JSON on the API,
// S3's XML SlowDown with x-amz-request-id on the S3 endpoint, AWS JSON with x-amzn-ErrorType on
// the SageMaker endpoint), while 127.0.0.1 still gets in.
TEST_F(HostileHttpTest, PerClientCapRefusesTheEleventhConnectionOnly) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--http-max-connections-per-client", "10"}));
  for (int port : {PortOf(server_->url()), s3_port_, sagemaker_port_}) {
    Sockets held;
    held.Open("127.0.0.2", port, 10, "");
    int eleventh = ConnectFrom("127.0.0.2", port);
    ASSERT_GE(eleventh, 0);
    ASSERT_TRUE(SendAll(eleventh, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string refused = ReadUntilClosed(eleventh, seconds(5));
    close(eleventh);
    EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << "port " << port << ": " << refused;
    EXPECT_NE(refused.find("127.0.0.2"), std::string::npos) << refused;
    if (port == s3_port_) {
      EXPECT_NE(refused.find("Content-Type: application/xml"), std::string::npos) << refused;
      EXPECT_NE(refused.find("<Code>SlowDown</Code>"), std::string::npos) << refused;
      EXPECT_NE(refused.find("\r\nx-amz-request-id: "), std::string::npos) << refused;
    } else if (port == sagemaker_port_) {
      EXPECT_NE(refused.find("Content-Type: application/x-amz-json-1.1"), std::string::npos)
          << refused;
      EXPECT_NE(refused.find("\r\nx-amzn-ErrorType: ServiceUnavailable\r\n"), std::string::npos)
          << refused;
      EXPECT_NE(refused.find("\"__type\":\"ServiceUnavailable\""), std::string::npos) << refused;
      EXPECT_NE(refused.find("\r\nx-amzn-RequestId: "), std::string::npos) << refused;
    } else {
      EXPECT_NE(refused.find("Content-Type: application/json"), std::string::npos) << refused;
    }
    int held_open = 0;
    for (int fd : held.fds) held_open += StillOpenAndSilent(fd);
    EXPECT_EQ(held_open, 10);
    EXPECT_EQ(Call({"GET", server_->url() + "/healthz"}).status, 200);
    EXPECT_EQ(Call({"GET", S3Url()}).status, 403);
  }
}

// RFC 9112 framing: "Transfer-Encoding: gzip, chunked" was stored still gzipped (now 501, on
// the API in JSON and on the S3 endpoint in S3's XML, nothing stored); an obs-fold header line
// was accepted (now 400); a chunk of FFFFFFFFFFFFFFFF bytes made the server wait forever (now
// 413 at once).
TEST_F(HostileHttpTest, RequestFramingIsRefusedAsRfc9112Says) {
  ASSERT_NO_FATAL_FAILURE(StartServer({}));
  int api_port = PortOf(server_->url());
  auto exchange = [](int port, const std::string& request) {
    int fd = ConnectFrom("127.0.0.1", port);
    EXPECT_GE(fd, 0);
    if (fd < 0) return std::string();
    EXPECT_TRUE(SendAll(fd, request));
    std::string answer = ReadUntilClosed(fd, seconds(3));
    close(fd);
    return answer;
  };
  std::string upload =
      "POST /api/v1/datasets?name=zipped&kind=training&filename=a.csv "
      "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      server_->token() + "\r\n";
  std::string gzip_chunked = exchange(api_port, upload +
                                                    "Transfer-Encoding: gzip, chunked\r\n\r\n"
                                                    "4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n");
  EXPECT_EQ(gzip_chunked.rfind("HTTP/1.1 501", 0), 0u) << gzip_chunked;
  EXPECT_NE(gzip_chunked.find("Transfer-Encoding"), std::string::npos) << gzip_chunked;
  HttpAnswer datasets = server_->Get("/api/v1/datasets");
  EXPECT_EQ(datasets.status, 200);
  EXPECT_EQ(datasets.body.find("zipped"), std::string::npos) << datasets.body;

  std::string s3_gzip = exchange(s3_port_,
                                 "PUT /bucket/key HTTP/1.1\r\nHost: x\r\n"
                                 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(s3_gzip.rfind("HTTP/1.1 501", 0), 0u) << s3_gzip;
  EXPECT_NE(s3_gzip.find("<Code>NotImplemented</Code>"), std::string::npos) << s3_gzip;

  std::string folded =
      exchange(api_port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n");
  EXPECT_EQ(folded.rfind("HTTP/1.1 400", 0), 0u) << folded;

  auto start = Clock::now();
  std::string huge_chunk =
      exchange(api_port, upload + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc");
  EXPECT_EQ(huge_chunk.rfind("HTTP/1.1 413", 0), 0u) << huge_chunk;
  EXPECT_LT(SecondsSince(start), 2.5);
}

}  // namespace
}  // namespace trainyard::testing
