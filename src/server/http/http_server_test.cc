#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/curl_callbacks.h"

namespace trainyard::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// FNV-1a, to compare large bodies without keeping them.
struct Hash {
  uint64_t value = 1469598103934665603ull;
  void Add(const char* data, size_t size) {
    for (size_t i = 0; i < size; ++i)
      value = (value ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
  }
};

// Deterministic bytes: position i holds a function of i.
void FillPattern(uint64_t offset, char* out, size_t size) {
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(((offset + i) * 2654435761u) >> 13);
}

std::unique_ptr<HttpServer> StartServer(Handler handler, HttpServerOptions options = {}) {
  options.port = 0;
  auto server = HttpServer::Start(options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::string Url(const HttpServer& server, const std::string& target) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + target;
}

struct CurlResponse {
  CURLcode code = CURLE_OK;
  long status = 0;
  long connects = -1;
  std::string body;
  std::string headers;  // raw header lines, lower-cased
};

// Runs a request on `curl` (reset first, so its connection cache is kept); `configure` adds
// options.
CurlResponse Perform(CURL* curl, const std::string& url,
                     const std::function<void(CURL*)>& configure = {}) {
  curl_easy_reset(curl);
  CurlResponse response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, trainyard::testing::CurlAppendBody);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  if (configure) configure(curl);
  response.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &response.connects);
  for (char& c : response.headers) c = static_cast<char>(tolower(c));
  return response;
}

struct Curl {
  Curl() : handle(curl_easy_init()) {}
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
  curl_slist* AddHeader(const std::string& header) {
    headers = curl_slist_append(headers, header.c_str());
    return headers;
  }
  CURL* handle;
  curl_slist* headers = nullptr;
};

// Feeds `total` pattern bytes to an upload.
struct PatternUpload {
  uint64_t total;
  uint64_t sent = 0;
  Hash hash;
  static size_t Read(char* out, size_t size, size_t count, void* self_pointer) {
    auto* self = static_cast<PatternUpload*>(self_pointer);
    size_t n = std::min<uint64_t>(size * count, self->total - self->sent);
    FillPattern(self->sent, out, n);
    self->hash.Add(out, n);
    self->sent += n;
    return n;
  }
  void Configure(CURL* curl, bool chunked, curl_slist* headers) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, Read);
    curl_easy_setopt(curl, CURLOPT_READDATA, this);
    if (!chunked) curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(total));
    if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }
};

// What a counting handler saw of a body.
struct BodySeen {
  uint64_t bytes = 0;
  int pieces = 0;
  uint64_t hash = 0;
  std::optional<uint64_t> content_length;
  Status status;
};

Handler CountingHandler(BodySeen* seen, size_t buffer_size = 64 * 1024) {
  return [seen, buffer_size](const HttpRequest& request, BodyReader& body, ResponseWriter& out) {
    std::vector<char> buffer(buffer_size);
    Hash hash;
    *seen = BodySeen();
    seen->content_length = request.content_length;
    for (;;) {
      auto n = body.Read(buffer.data(), buffer.size());
      if (!n.ok()) {
        seen->status = n.status();
        out.SetStatus(ToHttpStatus(n.status()));
        return;
      }
      if (*n == 0) break;
      hash.Add(buffer.data(), *n);
      seen->bytes += *n;
      seen->pieces++;
    }
    seen->hash = hash.value;
    (void)out.Write("counted " + std::to_string(seen->bytes));
  };
}

// A plain TCP client for what curl cannot do (misbehave).
class RawClient {
 public:
  // `source`: the local address to connect from ("127.0.0.2": Linux routes all of 127/8 to lo).
  explicit RawClient(uint16_t port, int receive_buffer = 0, const char* source = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    if (source != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, source, &local.sin_addr);
      if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) return;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { Close(); }
  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads until `marker` was received, the peer closed, or `timeout`.
  std::string ReadUntil(const std::string& marker, milliseconds timeout = milliseconds(5000)) {
    auto deadline = Clock::now() + timeout;
    while (marker.empty() || received_.find(marker) == std::string::npos) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
      char buffer[65536];
      ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(buffer, n);
    }
    return received_;
  }
  bool peer_closed() const { return closed_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

nlohmann::json ErrorBody(const std::string& response) {
  size_t start = response.find("\r\n\r\n");
  if (start == std::string::npos) return nullptr;
  return nlohmann::json::parse(response.substr(start + 4), nullptr, false);
}

int ThreadCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

TEST(HttpServer, GetDecodesPathQueryAndHeaders) {
  HttpRequest seen;
  auto server = StartServer([&](const HttpRequest& request, BodyReader&, ResponseWriter& out) {
    seen = request;
    out.SetHeader("Content-Type", "text/plain");
    out.SetContentLength(5);
    (void)out.Write("hello");
  });
  Curl curl;
  curl.AddHeader("X-Custom: v1");
  curl.AddHeader("X-Multi: a");
  curl.AddHeader("X-Multi: b");
  auto response = Perform(curl.handle, Url(*server, "/a%20b/c?x=1&name=a+b%26c&x=2&flag"),
                          [&](CURL* c) { curl_easy_setopt(c, CURLOPT_HTTPHEADER, curl.headers); });
  ASSERT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_NE(response.headers.find("content-length: 5"), std::string::npos);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/a%20b/c?x=1&name=a+b%26c&x=2&flag");
  EXPECT_EQ(seen.path, "/a b/c");
  EXPECT_EQ(seen.query["x"], "2");
  EXPECT_EQ(seen.query["name"], "a b&c");
  EXPECT_EQ(seen.query.count("flag"), 1u);
  EXPECT_EQ(seen.Header("x-custom"), "v1");
  EXPECT_EQ(seen.Header("x-multi"), "a, b");
  EXPECT_EQ(seen.Header("absent"), "");
  EXPECT_FALSE(seen.content_length.has_value());
  EXPECT_EQ(seen.remote_address.rfind("127.0.0.1:", 0), 0u) << seen.remote_address;
}

TEST(HttpServer, KeepAliveReusesTheConnectionAndConnectionCloseIsHonoured) {
  auto server = StartServer([](const HttpRequest& request, BodyReader&, ResponseWriter& out) {
    (void)out.Write("path " + request.path);
  });
  Curl curl;
  auto first = Perform(curl.handle, Url(*server, "/one"));
  auto second = Perform(curl.handle, Url(*server, "/two"));
  EXPECT_EQ(first.body, "path /one");
  EXPECT_EQ(first.connects, 1);
  EXPECT_EQ(second.body, "path /two");
  EXPECT_EQ(second.connects, 0);

  curl.AddHeader("Connection: close");
  auto closing = Perform(curl.handle, Url(*server, "/three"),
                         [&](CURL* c) { curl_easy_setopt(c, CURLOPT_HTTPHEADER, curl.headers); });
  EXPECT_EQ(closing.body, "path /three");
  EXPECT_NE(closing.headers.find("connection: close"), std::string::npos) << closing.headers;
  auto after = Perform(curl.handle, Url(*server, "/four"));
  EXPECT_EQ(after.connects, 1);
}

TEST(HttpServer, Http10GetsACloseDelimitedBody) {
  auto server = StartServer([](const HttpRequest&, BodyReader&, ResponseWriter& out) {
    (void)out.Write("old ");
    (void)out.Write("client");
  });
  RawClient client(server->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.0\r\n\r\n"));
  std::string response = client.ReadUntil("", seconds(5));
  EXPECT_TRUE(client.peer_closed());
  EXPECT_EQ(response.find("chunked"), std::string::npos) << response;
  EXPECT_EQ(response.substr(response.size() - 10), "old client");
}

TEST(HttpServer, HandlerThatWritesNothingSendsItsStatusWithAnEmptyBody) {
  auto server = StartServer([](const HttpRequest& request, BodyReader&, ResponseWriter& out) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    out.SetStatus(404);
  });
  Curl curl;
  auto response = Perform(curl.handle, Url(*server, "/missing"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "");
  EXPECT_NE(response.headers.find("content-length: 0"), std::string::npos);
  auto thrown = Perform(curl.handle, Url(*server, "/throw"));
  EXPECT_EQ(thrown.status, 500);
  EXPECT_NE(thrown.body.find("boom"), std::string::npos);
}

TEST(HttpServer, PostBodyWithContentLengthArrivesInPieces) {
  BodySeen seen;
  auto server = StartServer(CountingHandler(&seen, 4096));
  Curl curl;
  PatternUpload upload{3 << 20};
  auto response = Perform(curl.handle, Url(*server, "/upload"),
                          [&](CURL* c) { upload.Configure(c, false, nullptr); });
  ASSERT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(response.body, "counted " + std::to_string(3 << 20));
  EXPECT_EQ(seen.content_length, std::optional<uint64_t>(3 << 20));
  EXPECT_EQ(seen.hash, upload.hash.value);
  EXPECT_GT(seen.pieces, 100);
}

TEST(HttpServer, ChunkedPostBodyIsStreamed) {
  BodySeen seen;
  auto server = StartServer(CountingHandler(&seen));
  Curl curl;
  curl.AddHeader("Transfer-Encoding: chunked");
  PatternUpload upload{5 << 20};
  auto response = Perform(curl.handle, Url(*server, "/upload"),
                          [&](CURL* c) { upload.Configure(c, true, curl.headers); });
  ASSERT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(response.body, "counted " + std::to_string(5 << 20));
  EXPECT_FALSE(seen.content_length.has_value());
  EXPECT_EQ(seen.hash, upload.hash.value);
  EXPECT_GT(seen.pieces, 1);
  // The connection survives a chunked body.
  auto again = Perform(curl.handle, Url(*server, "/again"));
  EXPECT_EQ(again.connects, 0);
}

TEST(HttpServer, ReadAllReadsTheWholeBodyWithinItsLimit) {
  Result<std::string> body = std::string();
  auto server = StartServer([&](const HttpRequest& request, BodyReader& reader, ResponseWriter&) {
    body = reader.ReadAll(request.path == "/small" ? 10 : 1000);
  });
  Curl curl;
  auto response = Perform(curl.handle, Url(*server, "/big"), [](CURL* c) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "0123456789abcdef");
  });
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "0123456789abcdef");
  response = Perform(curl.handle, Url(*server, "/small"),
                     [](CURL* c) { curl_easy_setopt(c, CURLOPT_POSTFIELDS, "0123456789abcdef"); });
  EXPECT_EQ(body.status().code(), StatusCode::kResourceExhausted);
}

TEST(HttpServer, UnreadBodyIsDrainedWhenSmallAndClosesTheConnectionWhenLarge) {
  auto server = StartServer([](const HttpRequest&, BodyReader&, ResponseWriter& out) {
    (void)out.Write("ignored the body");
  });
  Curl curl;
  std::string small(1000, 's');
  auto first = Perform(curl.handle, Url(*server, "/small"),
                       [&](CURL* c) { curl_easy_setopt(c, CURLOPT_POSTFIELDS, small.c_str()); });
  EXPECT_EQ(first.body, "ignored the body");
  EXPECT_EQ(Perform(curl.handle, Url(*server, "/next")).connects, 0);
  PatternUpload upload{8 << 20};
  auto large = Perform(curl.handle, Url(*server, "/large"),
                       [&](CURL* c) { upload.Configure(c, false, nullptr); });
  EXPECT_EQ(large.status, 200);
  EXPECT_EQ(large.body, "ignored the body");
  EXPECT_LT(upload.sent, 8u << 20);  // Expect: 100-continue was never answered
  EXPECT_EQ(Perform(curl.handle, Url(*server, "/next")).connects, 1);
}

TEST(HttpServer, Streams200MegabyteUploadWithoutStoringIt) {
  BodySeen seen;
  auto server = StartServer(CountingHandler(&seen));
  Curl curl;
  constexpr uint64_t kSize = 200ull << 20;
  PatternUpload upload{kSize};
  auto start = Clock::now();
  auto response = Perform(curl.handle, Url(*server, "/upload"),
                          [&](CURL* c) { upload.Configure(c, false, nullptr); });
  double elapsed = SecondsSince(start);
  ASSERT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(seen.bytes, kSize);
  EXPECT_EQ(seen.hash, upload.hash.value);
  std::printf("200 MB upload (hashed on both sides): %.2f s, %.0f MB/s\n", elapsed, 200 / elapsed);
}

TEST(HttpServer, StreamsLargeChunkedAndContentLengthResponses) {
  constexpr uint64_t kSize = 100ull << 20;
  auto server = StartServer([&](const HttpRequest& request, BodyReader&, ResponseWriter& out) {
    if (request.path == "/sized") out.SetContentLength(kSize);
    std::vector<char> piece(1 << 20);
    for (uint64_t offset = 0; offset < kSize; offset += piece.size()) {
      FillPattern(offset, piece.data(), piece.size());
      if (!out.Write(std::string_view(piece.data(), piece.size())).ok()) return;
    }
  });
  Hash expected;
  {
    std::vector<char> piece(1 << 20);
    for (uint64_t offset = 0; offset < kSize; offset += piece.size()) {
      FillPattern(offset, piece.data(), piece.size());
      expected.Add(piece.data(), piece.size());
    }
  }
  for (std::string path : {"/chunked", "/sized"}) {
    Curl curl;
    struct Sink {
      uint64_t bytes = 0;
      Hash hash;
    } sink;
    auto response = Perform(curl.handle, Url(*server, path), [&](CURL* c) {
      curl_easy_setopt(
          c, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* out) {
            auto* s = static_cast<Sink*>(out);
            s->bytes += size * count;
            s->hash.Add(data, size * count);
            return size * count;
          });
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    });
    ASSERT_EQ(response.code, CURLE_OK) << path;
    EXPECT_EQ(sink.bytes, kSize) << path;
    EXPECT_EQ(sink.hash.value, expected.value) << path;
    if (path == "/chunked") {
      EXPECT_NE(response.headers.find("transfer-encoding: chunked"), std::string::npos);
    } else {
      EXPECT_NE(response.headers.find("content-length: " + std::to_string(kSize)),
                std::string::npos);
    }
  }
}

TEST(HttpServer, ExpectContinueIsAnsweredPromptly) {
  BodySeen seen;
  auto server = StartServer(CountingHandler(&seen));
  Curl curl;
  curl.AddHeader("Expect: 100-continue");
  PatternUpload upload{2 << 20};
  auto start = Clock::now();
  auto response = Perform(curl.handle, Url(*server, "/upload"), [&](CURL* c) {
    upload.Configure(c, false, curl.headers);
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 5000L);
  });
  EXPECT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(seen.bytes, 2u << 20);
  EXPECT_LT(SecondsSince(start), 2.0);
}

TEST(HttpServer, DeclaredOversizeBodyGets413WithoutCallingTheHandler) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  auto server =
      StartServer([&](const HttpRequest&, BodyReader&, ResponseWriter&) { calls++; }, options);
  Curl curl;
  PatternUpload upload{1 << 20};
  auto response = Perform(curl.handle, Url(*server, "/upload"),
                          [&](CURL* c) { upload.Configure(c, false, nullptr); });
  EXPECT_EQ(response.status, 413);
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_EQ(body["error"]["code"], "ResourceExhausted") << response.body;
  EXPECT_NE(response.headers.find("application/json"), std::string::npos);
  EXPECT_EQ(calls, 0);
}

TEST(HttpServer, ChunkedBodyPastTheLimitFailsTheRead) {
  BodySeen seen;
  HttpServerOptions options;
  options.max_body_bytes = 100000;
  auto server = StartServer(CountingHandler(&seen), options);
  Curl curl;
  curl.AddHeader("Transfer-Encoding: chunked");
  PatternUpload upload{1 << 20};
  auto response = Perform(curl.handle, Url(*server, "/upload"),
                          [&](CURL* c) { upload.Configure(c, true, curl.headers); });
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(seen.status.code(), StatusCode::kResourceExhausted);
}

TEST(HttpServer, HugeHeaderGets431) {
  auto server = StartServer([](const HttpRequest&, BodyReader&, ResponseWriter&) {});
  Curl curl;
  curl.AddHeader("X-Big: " + std::string(20000, 'x'));
  auto response = Perform(curl.handle, Url(*server, "/"),
                          [&](CURL* c) { curl_easy_setopt(c, CURLOPT_HTTPHEADER, curl.headers); });
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(nlohmann::json::parse(response.body, nullptr, false)["error"]["code"],
            "ResourceExhausted");
}

TEST(HttpServer, BadRequestsGet400) {
  std::atomic<int> calls{0};
  auto server = StartServer([&](const HttpRequest&, BodyReader&, ResponseWriter&) { calls++; });
  for (std::string request :
       {"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /q?x=%4 HTTP/1.1\r\nHost: x\r\n\r\n", "NOT AN HTTP REQUEST\r\n\r\n"}) {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send(request));
    std::string response = client.ReadUntil("", seconds(5));
    EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << request << " -> " << response;
    EXPECT_EQ(ErrorBody(response)["error"]["code"], "InvalidArgument") << response;
    EXPECT_TRUE(client.peer_closed());
  }
  EXPECT_EQ(calls, 0);
}

// Keeps the event streams that handlers detach.
struct StreamBox {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<EventStreamPtr> streams;
  Handler MakeHandler() {
    return [this](const HttpRequest&, BodyReader&, ResponseWriter& out) {
      out.SetHeader("X-Stream", "yes");
      EventStreamPtr stream = out.DetachEventStream();
      if (!stream) return;
      std::lock_guard<std::mutex> lock(mutex);
      streams.push_back(stream);
      arrived.notify_all();
    };
  }
  EventStreamPtr Wait(size_t count, milliseconds timeout = milliseconds(10000)) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!arrived.wait_for(lock, timeout, [&] { return streams.size() >= count; })) return nullptr;
    return streams[count - 1];
  }
};

TEST(HttpServer, DetachedEventStreamDeliversEventsToCurl) {
  StreamBox box;
  auto server = StartServer(box.MakeHandler());
  CurlResponse response;
  std::thread client([&] {
    Curl curl;
    response = Perform(curl.handle, Url(*server, "/events"));
  });
  EventStreamPtr stream = box.Wait(1);
  ASSERT_NE(stream, nullptr);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(
        stream->Send("id: " + std::to_string(i) + "\ndata: event " + std::to_string(i) + "\n\n"));
  }
  stream->Close();
  EXPECT_FALSE(stream->Send("data: late\n\n"));
  client.join();
  EXPECT_EQ(response.code, CURLE_OK);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n");
  EXPECT_NE(response.headers.find("content-type: text/event-stream"), std::string::npos);
  EXPECT_NE(response.headers.find("cache-control: no-cache"), std::string::npos);
  EXPECT_NE(response.headers.find("x-stream: yes"), std::string::npos);
}

TEST(HttpServer, SendToAClientThatLeftFailsSoon) {
  StreamBox box;
  auto server = StartServer(box.MakeHandler());
  RawClient client(server->port());
  ASSERT_TRUE(client.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(client.ReadUntil("\r\n\r\n").find("200 OK"), std::string::npos);
  EventStreamPtr stream = box.Wait(1);
  ASSERT_NE(stream, nullptr);
  EXPECT_TRUE(stream->Send(": hello\n\n"));
  EXPECT_FALSE(stream->closed());
  client.Close();
  auto start = Clock::now();
  bool sent = true;
  while (sent && SecondsSince(start) < 2) {
    sent = stream->Send("data: x\n\n");
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_FALSE(sent);
  EXPECT_TRUE(stream->closed());
  EXPECT_LT(SecondsSince(start), 1.0);
}

TEST(HttpServer, ClientThatStopsReadingIsDroppedNotWaitedFor) {
  StreamBox box;
  auto server = StartServer(box.MakeHandler());
  RawClient client(server->port(), /*receive_buffer=*/4096);
  ASSERT_TRUE(client.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  EventStreamPtr stream = box.Wait(1);
  ASSERT_NE(stream, nullptr);
  std::string event = "data: " + std::string(64 * 1024, 'e') + "\n\n";
  auto start = Clock::now();
  int sent = 0;
  while (sent < 10000 && stream->Send(event)) sent++;
  EXPECT_LT(sent, 10000);
  EXPECT_TRUE(stream->closed());
  EXPECT_LT(SecondsSince(start), 5.0);
}

// SendSome writes what fits and keeps the stream: once the client reads, the rest goes out and
// the client has every byte, in order.
TEST(HttpServer, SendSomeToAClientThatStopsReadingKeepsTheStream) {
  StreamBox box;
  auto server = StartServer(box.MakeHandler());
  RawClient client(server->port(), /*receive_buffer=*/4096);
  ASSERT_TRUE(client.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string headers = client.ReadUntil("\r\n\r\n");
  size_t body_start = headers.find("\r\n\r\n");
  ASSERT_NE(body_start, std::string::npos);
  EventStreamPtr stream = box.Wait(1);
  ASSERT_NE(stream, nullptr);
  std::string expected;
  for (int i = 0; i < 1024; ++i)
    expected += "data: " + std::string(16 * 1024, static_cast<char>('a' + i % 26)) + "\n\n";
  size_t written = 0;
  std::optional<size_t> n = stream->SendSome(expected);
  ASSERT_TRUE(n.has_value());
  written += *n;
  EXPECT_LT(written, expected.size());  // 16 MiB does not fit in the buffers of a non-reader
  EXPECT_FALSE(stream->closed());
  auto start = Clock::now();
  while (written < expected.size() && SecondsSince(start) < 10) {
    client.ReadUntil("", milliseconds(20));
    n = stream->SendSome(std::string_view(expected).substr(written));
    ASSERT_TRUE(n.has_value());
    written += *n;
  }
  ASSERT_EQ(written, expected.size());
  std::string received;
  while (SecondsSince(start) < 10) {
    received = client.ReadUntil("", milliseconds(50)).substr(body_start + 4);
    if (received.size() >= expected.size()) break;
  }
  EXPECT_EQ(received, expected);
  stream->Close();
  EXPECT_EQ(stream->SendSome("data: late\n\n"), std::nullopt);
}

TEST(HttpServer, StopReturnsPromptlyWithIdleConnectionsAndStreams) {
  StreamBox box;
  auto server = StartServer([&](const HttpRequest& request, BodyReader& body, ResponseWriter& out) {
    if (request.path == "/events") return box.MakeHandler()(request, body, out);
    (void)out.Write("ok");
  });
  Curl curl;
  EXPECT_EQ(Perform(curl.handle, Url(*server, "/")).body, "ok");  // stays idle, kept alive
  RawClient idle(server->port());
  RawClient events(server->port());
  ASSERT_TRUE(events.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  EventStreamPtr stream = box.Wait(1);
  ASSERT_NE(stream, nullptr);
  auto start = Clock::now();
  server->Stop();
  EXPECT_LT(SecondsSince(start), 2.0);
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Send("data: after stop\n\n"));
  idle.ReadUntil("", seconds(2));
  EXPECT_TRUE(idle.peer_closed());
  server->Stop();  // idempotent
}

TEST(HttpServer, ThreeHundredDetachedStreamsHoldNoThreads) {
  StreamBox box;
  auto server = StartServer(box.MakeHandler());
  int baseline = ThreadCount();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 300; ++i) {
    clients.push_back(std::make_unique<RawClient>(server->port()));
    ASSERT_TRUE(clients.back()->Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_NE(box.Wait(300), nullptr);
  // Handler threads go back to the pool right after detaching, and idle ones beyond four end
  // after 2 s: give them that long and more on a loaded machine.
  auto start = Clock::now();
  while (ThreadCount() >= baseline + 50 && SecondsSince(start) < 10) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_LT(ThreadCount(), baseline + 50);
  for (auto& stream : box.streams) EXPECT_TRUE(stream->Send("data: all\n\n"));
  for (auto& client : clients) {
    EXPECT_NE(client->ReadUntil("data: all\n\n").find("data: all"), std::string::npos);
  }
  start = Clock::now();
  server->Stop();
  EXPECT_LT(SecondsSince(start), 2.0);
  for (auto& stream : box.streams) EXPECT_TRUE(stream->closed());
}

TEST(HttpServer, PortZeroAndAddressInUse) {
  auto server = StartServer([](const HttpRequest&, BodyReader&, ResponseWriter&) {});
  ASSERT_NE(server->port(), 0);
  HttpServerOptions options;
  options.port = server->port();
  auto second = HttpServer::Start(options, [](const HttpRequest&, BodyReader&, ResponseWriter&) {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(server->port())),
            std::string::npos)
      << second.status().message();
  options.host = "no such host.invalid";
  auto bad = HttpServer::Start(options, [](const HttpRequest&, BodyReader&, ResponseWriter&) {});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpServer, ConnectionsBeyondTheLimitGet503) {
  HttpServerOptions options;
  options.max_connections = 1;
  auto server = StartServer(
      [](const HttpRequest&, BodyReader&, ResponseWriter& out) { (void)out.Write("ok"); }, options);
  RawClient holder(server->port());
  ASSERT_TRUE(holder.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(holder.ReadUntil("0\r\n\r\n").find("ok"), std::string::npos);  // now idle
  Curl curl;
  auto refused = Perform(curl.handle, Url(*server, "/"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(nlohmann::json::parse(refused.body, nullptr, false)["error"]["code"], "Unavailable");
  holder.Close();
  auto start = Clock::now();
  CurlResponse accepted;
  do {
    std::this_thread::sleep_for(milliseconds(20));
    accepted = Perform(curl.handle, Url(*server, "/"));
  } while (accepted.status != 200 && SecondsSince(start) < 5);
  EXPECT_EQ(accepted.status, 200);
}

TEST(HttpServer, StalledUploadAndIdleConnectionTimeOut) {
  HttpServerOptions options;
  options.body_read_timeout = seconds(1);
  options.idle_timeout = seconds(1);
  Status read_status;
  auto server = StartServer([&](const HttpRequest&, BodyReader& body,
                                ResponseWriter&) { read_status = body.ReadAll(1000).status(); },
                            options);
  RawClient stalled(server->port());
  ASSERT_TRUE(stalled.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123"));
  auto start = Clock::now();
  stalled.ReadUntil("", seconds(5));
  EXPECT_TRUE(stalled.peer_closed());
  EXPECT_EQ(read_status.code(), StatusCode::kUnavailable);
  EXPECT_LT(SecondsSince(start), 3.0);

  RawClient idle(server->port());
  start = Clock::now();
  idle.ReadUntil("", seconds(5));
  EXPECT_TRUE(idle.peer_closed());
  EXPECT_GT(SecondsSince(start), 0.5);
  EXPECT_LT(SecondsSince(start), 3.0);
}

Handler OkHandler() {
  return [](const HttpRequest&, BodyReader&, ResponseWriter& out) { (void)out.Write("ok"); };
}

TEST(HttpServer, IdleAndHalfSentHeadersHoldNoThreads) {
  auto server = StartServer(OkHandler());
  int baseline = ThreadCount();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 400; ++i) {
    clients.push_back(std::make_unique<RawClient>(server->port()));
    ASSERT_TRUE(clients.back()->connected());
    if (i % 2 == 1) {
      ASSERT_TRUE(clients.back()->Send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    }
  }
  Curl curl;
  auto start = Clock::now();
  auto response = Perform(curl.handle, Url(*server, "/"));
  EXPECT_EQ(response.status, 200);
  EXPECT_LT(SecondsSince(start), 1.0);
  // One reactor thread and the handler thread of the request above: not one per connection.
  EXPECT_LT(ThreadCount(), baseline + 10);
  start = Clock::now();
  server->Stop();
  EXPECT_LT(SecondsSince(start), 2.0);
}

TEST(HttpServer, AHeaderTrickledByteByByteIsCutOffAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_timeout = seconds(1);
  options.idle_timeout = seconds(30);
  auto server = StartServer(OkHandler(), options);
  RawClient client(server->port());
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + std::string(100, 'p');
  auto start = Clock::now();
  size_t sent = 0;
  // One byte every 100 ms: each read is prompt, the header as a whole is not.
  while (SecondsSince(start) < 4 && sent < request.size() && client.Send(request.substr(sent, 1))) {
    sent++;
    std::string so_far = client.ReadUntil("\r\n\r\n", milliseconds(100));
    if (client.peer_closed() || !so_far.empty()) break;
  }
  std::string response = client.ReadUntil("", seconds(3));
  EXPECT_EQ(response.rfind("HTTP/1.1 408", 0), 0u) << response;
  EXPECT_EQ(ErrorBody(response)["error"]["code"], "DeadlineExceeded") << response;
  EXPECT_GT(SecondsSince(start), 0.8);
  EXPECT_LT(SecondsSince(start), 2.5);
}

TEST(HttpServer, PerClientCapRefusesThatClientOnly) {
  HttpServerOptions options;
  options.max_connections_per_client = 3;
  auto server = StartServer(OkHandler(), options);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(server->port(), 0, "127.0.0.2"));
    ASSERT_TRUE(held.back()->connected());
  }
  // The slots are taken once accepted: a request on one proves the others are in too.
  ASSERT_TRUE(held[0]->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(held[0]->ReadUntil("0\r\n\r\n").find("ok"), std::string::npos);
  RawClient fourth(server->port(), 0, "127.0.0.2");
  ASSERT_TRUE(fourth.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string refused = fourth.ReadUntil("", seconds(3));
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(ErrorBody(refused)["error"]["message"].dump().find("127.0.0.2"), std::string::npos)
      << refused;
  Curl curl;  // from 127.0.0.1
  EXPECT_EQ(Perform(curl.handle, Url(*server, "/")).status, 200);
  held.pop_back();
  auto start = Clock::now();
  std::string again;
  do {
    std::this_thread::sleep_for(milliseconds(20));
    RawClient next(server->port(), 0, "127.0.0.2");
    next.Send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    again = next.ReadUntil("", seconds(3));
  } while (again.rfind("HTTP/1.1 200", 0) != 0 && SecondsSince(start) < 5);
  EXPECT_EQ(again.rfind("HTTP/1.1 200", 0), 0u) << again;
}

// Bodies that never complete hold handler threads: one client may hold only its share.
TEST(HttpServer, BodiesThatNeverCompleteFromOneClientDoNotStarveOthers) {
  HttpServerOptions options;
  options.max_requests_per_client = 4;
  options.max_handler_threads = 8;
  options.body_read_timeout = seconds(30);
  auto server = StartServer(
      [](const HttpRequest&, BodyReader& body, ResponseWriter& out) {
        (void)body.ReadAll(1 << 20);
        (void)out.Write("ok");
      },
      options);
  std::vector<std::unique_ptr<RawClient>> stalled;
  for (int i = 0; i < 4; ++i) {
    stalled.push_back(std::make_unique<RawClient>(server->port(), 0, "127.0.0.2"));
    ASSERT_TRUE(stalled.back()->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0"));
  }
  // The fifth request of that client, once the four are in their handlers, is refused.
  auto start = Clock::now();
  std::string refused;
  do {
    std::this_thread::sleep_for(milliseconds(20));
    RawClient fifth(server->port(), 0, "127.0.0.2");
    fifth.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0");
    refused = fifth.ReadUntil("\r\n\r\n", seconds(1));
  } while (refused.rfind("HTTP/1.1 503", 0) != 0 && SecondsSince(start) < 5);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("127.0.0.2"), std::string::npos) << refused;
  Curl curl;  // another client: served at once
  start = Clock::now();
  EXPECT_EQ(Perform(curl.handle, Url(*server, "/")).status, 200);
  EXPECT_LT(SecondsSince(start), 1.0);
  for (auto& client : stalled) client->Close();
}

TEST(HttpServer, ErrorsTheServerWritesUseTheListenersFormat) {
  HttpServerOptions options;
  options.max_connections_per_client = 1;
  options.error_document = [](int status, const Status& error) {
    return ErrorDocument{"application/xml", "<Error><Code>" + std::to_string(status) +
                                                "</Code><Message>" + error.message() +
                                                "</Message></Error>"};
  };
  auto server = StartServer(OkHandler(), options);
  RawClient holder(server->port());
  ASSERT_TRUE(holder.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_NE(holder.ReadUntil("0\r\n\r\n").find("ok"), std::string::npos);
  RawClient refused(server->port());
  ASSERT_TRUE(refused.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string response = refused.ReadUntil("", seconds(3));
  EXPECT_EQ(response.rfind("HTTP/1.1 503", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: application/xml"), std::string::npos) << response;
  EXPECT_NE(response.find("<Error><Code>503</Code>"), std::string::npos) << response;
  holder.Close();
}

TEST(HttpServer, ObsoleteLineFoldingGets400) {
  std::atomic<int> calls{0};
  auto server = StartServer([&](const HttpRequest&, BodyReader&, ResponseWriter&) { calls++; });
  for (std::string request : {"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n"}) {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send(request));
    std::string response = client.ReadUntil("", seconds(5));
    EXPECT_EQ(response.rfind("HTTP/1.1 400", 0), 0u) << response;
    EXPECT_NE(ErrorBody(response)["error"]["message"].dump().find("folding"), std::string::npos)
        << response;
  }
  EXPECT_EQ(calls, 0);
}

TEST(HttpServer, TransferCodingsOtherThanChunkedGet501) {
  std::atomic<int> calls{0};
  auto server = StartServer([&](const HttpRequest&, BodyReader&, ResponseWriter&) { calls++; });
  for (std::string coding : {"gzip, chunked", "deflate", "chunked, gzip"}) {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                            "\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    std::string response = client.ReadUntil("", seconds(5));
    EXPECT_EQ(response.rfind("HTTP/1.1 501", 0), 0u) << coding << " -> " << response;
    EXPECT_NE(ErrorBody(response)["error"]["message"].dump().find("Transfer-Encoding"),
              std::string::npos)
        << response;
  }
  EXPECT_EQ(calls, 0);
  RawClient chunked(server->port());
  ASSERT_TRUE(chunked.Send(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(calls, 1);
}

TEST(HttpServer, AChunkLargerThanTheLimitIsRefusedAtOnce) {
  BodySeen seen;
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  options.body_read_timeout = seconds(30);
  auto server = StartServer(CountingHandler(&seen), options);
  for (std::string size : {"FFFFFFFFFFFFFFFF", "200000"}) {
    RawClient client(server->port());
    auto start = Clock::now();
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            size + "\r\nabc"));
    std::string response = client.ReadUntil("\r\n\r\n", seconds(5));
    EXPECT_EQ(response.rfind("HTTP/1.1 413", 0), 0u) << size << " -> " << response;
    EXPECT_LT(SecondsSince(start), 2.0);
  }
  RawClient overflow(server->port());
  ASSERT_TRUE(overflow.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                            std::string("1FFFFFFFFFFFFFFFF") + "\r\nabc"));
  std::string response = overflow.ReadUntil("\r\n\r\n", seconds(5));
  EXPECT_TRUE(response.rfind("HTTP/1.1 413", 0) == 0 || response.rfind("HTTP/1.1 400", 0) == 0)
      << response;
}

}  // namespace
}  // namespace trainyard::server
