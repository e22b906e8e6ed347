// WebSocket connections through a real HttpServer, with a client on a plain socket that writes
// and reads frames as RFC 6455 says.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/websocket_frame.h"

namespace trainyard::server {
namespace {

using Clock = std::chrono::steady_clock;

std::string Masked(uint8_t first_byte, std::string_view payload) {
  std::string frame(1, static_cast<char>(first_byte));
  uint64_t size = payload.size();
  if (size < 126) {
    frame.push_back(static_cast<char>(0x80 | size));
  } else {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(size >> 8));
    frame.push_back(static_cast<char>(size & 0xFF));
  }
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame.push_back(payload[i] ^ mask[i % 4]);
  return frame;
}

struct Frame {
  uint8_t opcode = 0;
  std::string payload;
  uint16_t close_code() const {
    return payload.size() >= 2
               ? static_cast<uint16_t>((uint8_t(payload[0]) << 8) | uint8_t(payload[1]))
               : 0;
  }
};

// A client on a plain socket.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() { close(fd_); }

  // Sends the handshake (plus `extra` bytes right after it) and returns the answer's header.
  std::string Handshake(const std::string& protocol, const std::string& extra = "",
                        const std::string& key = "dGhlIHNhbXBsZSBub25jZQ==") {
    std::string request =
        "GET /socket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: " +
        key + "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n" + extra;
    Send(request);
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!ReadMore()) break;
    }
    size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) return buffer_;
    std::string header = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    return header;
  }

  void Send(std::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  void SendText(std::string_view text) { Send(Masked(0x81, text)); }

  // The next frame, or nullopt when the connection closed or nothing came within 5 s.
  std::optional<Frame> Read() {
    for (;;) {
      if (buffer_.size() >= 2) {
        auto* data = reinterpret_cast<const uint8_t*>(buffer_.data());
        size_t size = data[1] & 0x7F, header = 2;
        if (size == 126 && buffer_.size() >= 4) {
          size = (size_t{data[2]} << 8) | data[3];
          header = 4;
        }
        if ((data[1] & 0x7F) != 126 || header == 4) {
          if (buffer_.size() >= header + size) {
            Frame frame{static_cast<uint8_t>(data[0] & 0x0F), buffer_.substr(header, size)};
            buffer_.erase(0, header + size);
            return frame;
          }
        }
      }
      if (!ReadMore()) return std::nullopt;
    }
  }

  // Whether the server closed the connection (end of stream) within 5 s.
  bool SeesEnd() {
    char scratch[4096];
    pollfd pfd{fd_, POLLIN, 0};
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      if (poll(&pfd, 1, 100) > 0) {
        ssize_t n = recv(fd_, scratch, sizeof(scratch), 0);
        if (n <= 0) return true;
      }
    }
    return false;
  }

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

 private:
  bool ReadMore() {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, 5000) <= 0) return false;
    char scratch[65536];
    ssize_t n = recv(fd_, scratch, sizeof(scratch), 0);
    if (n <= 0) return false;
    buffer_.append(scratch, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Echoes each message; "close:CODE" closes with that code; records what it saw.
class EchoHandler : public WebSocketHandler {
 public:
  void OnText(const WebSocketPtr& socket, std::string message) override {
    if (message.rfind("close:", 0) == 0) {
      socket->Close(static_cast<uint16_t>(std::stoi(message.substr(6))), "asked to");
      return;
    }
    socket->SendText("echo " + message);
  }
  void OnTick(const WebSocketPtr&, Clock::time_point) override { ticks++; }
  void OnClosed(const WebSocketPtr&, uint16_t code) override {
    std::lock_guard<std::mutex> lock(mutex);
    closed_codes.push_back(code);
    closed.notify_all();
  }
  // The codes of the connections closed so far, once `count` have closed (within 5 s).
  std::vector<uint16_t> WaitClosed(size_t count) {
    std::unique_lock<std::mutex> lock(mutex);
    closed.wait_for(lock, std::chrono::seconds(5), [&] { return closed_codes.size() >= count; });
    return closed_codes;
  }

  std::atomic<int> ticks{0};
  std::mutex mutex;
  std::condition_variable closed;
  std::vector<uint16_t> closed_codes;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    auto server = HttpServer::Start(
        options, [this](const HttpRequest& request, BodyReader&, ResponseWriter& response) {
          Status upgrade = CheckWebSocketUpgrade(request, "graphql-transport-ws");
          if (!upgrade.ok()) {
            response.SetStatus(400);
            response.WriteBody(upgrade.message());
            return;
          }
          WebSocketPtr socket = response.AcceptWebSocket(request, "graphql-transport-ws", handler);
          std::lock_guard<std::mutex> lock(sockets_mutex);
          sockets.push_back(std::move(socket));
        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  uint16_t port() const { return server_->port(); }

  std::shared_ptr<EchoHandler> handler = std::make_shared<EchoHandler>();
  // The first accepted socket, once there is one (within 5 s).
  WebSocketPtr FirstSocket() {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(sockets_mutex);
        if (!sockets.empty()) return sockets[0];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return nullptr;
  }

  std::mutex sockets_mutex;
  std::vector<WebSocketPtr> sockets;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(WebSocketTest, HandshakeNegotiatesTheSubprotocolAndEchoes) {
  Start();
  Client client(port());
  ASSERT_TRUE(client.connected());
  std::string header = client.Handshake("foo, graphql-transport-ws");
  EXPECT_EQ(header.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << header;
  EXPECT_NE(header.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos)
      << header;
  EXPECT_NE(header.find("Sec-WebSocket-Protocol: graphql-transport-ws\r\n"), std::string::npos);
  client.SendText("hello");
  auto frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0x1);
  EXPECT_EQ(frame->payload, "echo hello");
  // A ping between two fragments of a message: answered with a pong carrying its data, then the
  // assembled message.
  client.Send(Masked(0x01, "frag") + Masked(0x89, "p1") + Masked(0x80, "mented"));
  frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0xA);
  EXPECT_EQ(frame->payload, "p1");
  frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->payload, "echo fragmented");
}

TEST_F(WebSocketTest, FramesSentWithTheRequestAreRead) {
  Start();
  Client client(port());
  std::string header = client.Handshake("graphql-transport-ws", Masked(0x81, "early"));
  ASSERT_EQ(header.rfind("HTTP/1.1 101", 0), 0u) << header;
  auto frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->payload, "echo early");
}

TEST_F(WebSocketTest, RefusesABadHandshake) {
  Start();
  {
    Client client(port());
    std::string header = client.Handshake("graphql-ws");
    EXPECT_EQ(header.rfind("HTTP/1.1 400", 0), 0u) << header;
  }
  Client client(port());
  std::string header = client.Handshake("graphql-transport-ws", "", "short");
  EXPECT_EQ(header.rfind("HTTP/1.1 400", 0), 0u) << header;
}

TEST_F(WebSocketTest, ClientCloseIsEchoedAndReported) {
  Start();
  Client client(port());
  client.Handshake("graphql-transport-ws");
  client.Send(Masked(0x88, std::string("\x0f\xa0", 2) + "done"));  // 4000
  auto frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->close_code(), 4000);
  EXPECT_TRUE(client.SeesEnd());
  EXPECT_EQ(handler->WaitClosed(1), std::vector<uint16_t>{4000});
}

TEST_F(WebSocketTest, ServerCloseSendsItsCode) {
  Start();
  Client client(port());
  client.Handshake("graphql-transport-ws");
  client.SendText("close:4403");
  auto frame = client.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->close_code(), 4403);
  EXPECT_EQ(frame->payload.substr(2), "asked to");
  // The client answers the close: the server closes the socket at once.
  client.Send(Masked(0x88, frame->payload.substr(0, 2)));
  EXPECT_TRUE(client.SeesEnd());
  EXPECT_EQ(handler->WaitClosed(1), std::vector<uint16_t>{4403});
}

TEST_F(WebSocketTest, ProtocolViolationsCloseWithTheirCode) {
  HttpServerOptions options;
  options.max_websocket_message_bytes = 1000;
  Start(options);
  struct Case {
    std::string bytes;
    uint16_t code;
  };
  std::vector<Case> cases = {{std::string("\x81\x02hi", 4), 1002},  // unmasked
                             {Masked(0x82, "bin"), 1003},
                             {Masked(0x81, std::string(2000, 'a')), 1009},
                             {Masked(0x81, "\xff"), 1007}};
  for (const Case& c : cases) {
    Client client(port());
    client.Handshake("graphql-transport-ws");
    client.Send(c.bytes);
    auto frame = client.Read();
    ASSERT_TRUE(frame.has_value()) << c.code;
    EXPECT_EQ(frame->opcode, 0x8);
    EXPECT_EQ(frame->close_code(), c.code);
    // The client does not answer: closed after the close timeout anyway.
    EXPECT_TRUE(client.SeesEnd()) << c.code;
  }
}

TEST_F(WebSocketTest, AClientThatDoesNotReadIsClosedPastTheCap) {
  HttpServerOptions options;
  options.max_websocket_buffered_bytes = 1 << 20;
  Start(options);
  Client client(port());
  int small = 4096;
  setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  client.Handshake("graphql-transport-ws");
  client.SendText("hello");
  WebSocketPtr socket = FirstSocket();
  ASSERT_TRUE(socket);
  std::string message(64 * 1024, 'x');
  int accepted = 0;
  while (socket->SendText(message)) accepted++;
  EXPECT_TRUE(socket->closed());
  EXPECT_GE(accepted, 1);
  // Accepted bytes stayed within the cap beyond what the kernel's buffers took.
  EXPECT_LE(socket->buffered_bytes(), size_t{1} << 20);
  EXPECT_EQ(handler->WaitClosed(1), std::vector<uint16_t>{1008});
}

TEST_F(WebSocketTest, StopClosesEveryConnectionWithGoingAway) {
  Start();
  Client first(port()), second(port());
  first.Handshake("graphql-transport-ws");
  second.Handshake("graphql-transport-ws");
  first.SendText("a");
  second.SendText("b");
  ASSERT_TRUE(first.Read().has_value());
  ASSERT_TRUE(second.Read().has_value());
  server_->Stop();
  for (Client* client : {&first, &second}) {
    auto frame = client->Read();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->close_code(), 1001);
  }
  EXPECT_EQ(handler->WaitClosed(2), (std::vector<uint16_t>{1001, 1001}));
  WebSocketPtr socket = FirstSocket();
  ASSERT_TRUE(socket);
  EXPECT_TRUE(socket->closed());
  EXPECT_FALSE(socket->SendText("late"));
}

TEST_F(WebSocketTest, PastTheCapAnUpgradeIsAnswered503) {
  HttpServerOptions options;
  options.max_websockets = 1;
  Start(options);
  Client first(port());
  ASSERT_EQ(first.Handshake("graphql-transport-ws").rfind("HTTP/1.1 101", 0), 0u);
  Client second(port());
  std::string header = second.Handshake("graphql-transport-ws");
  EXPECT_EQ(header.rfind("HTTP/1.1 503", 0), 0u) << header;
  // The first one still works.
  first.SendText("still");
  auto frame = first.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->payload, "echo still");
}

// Upgrades that arrive together never pass the cap: each takes its place before its 101 goes out.
TEST_F(WebSocketTest, UpgradesAtOnceNeverPassTheCap) {
  HttpServerOptions options;
  options.max_websockets = 2;
  Start(options);
  constexpr int kClients = 12;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<Client>(port()));
  std::vector<std::string> headers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { headers[i] = clients[i]->Handshake("graphql-transport-ws"); });
  }
  for (std::thread& thread : threads) thread.join();
  int accepted = 0, refused = 0;
  for (const std::string& header : headers) {
    accepted += header.rfind("HTTP/1.1 101", 0) == 0 ? 1 : 0;
    refused += header.rfind("HTTP/1.1 503", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(refused, kClients - 2);
}

// Pinged every interval; a client that answers stays, one that sends nothing for two intervals
// is closed with 1001.
TEST_F(WebSocketTest, PingsAndClosesAClientThatNeverAnswers) {
  HttpServerOptions options;
  options.websocket_ping_interval = std::chrono::milliseconds(500);
  Start(options);
  Client answering(port()), silent(port());
  answering.Handshake("graphql-transport-ws");
  silent.Handshake("graphql-transport-ws");
  auto deadline = Clock::now() + std::chrono::seconds(3);
  int pings = 0;
  while (Clock::now() < deadline) {
    auto frame = answering.Read();
    ASSERT_TRUE(frame.has_value());
    ASSERT_EQ(frame->opcode, 0x9) << "a ping";
    answering.Send(Masked(0x8A, frame->payload));
    ++pings;
  }
  EXPECT_GE(pings, 3);
  std::optional<Frame> frame;
  do {
    frame = silent.Read();
  } while (frame && frame->opcode == 0x9);
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, 0x8);
  EXPECT_EQ(frame->close_code(), 1001);
  EXPECT_EQ(handler->WaitClosed(1), std::vector<uint16_t>{1001});
  answering.SendText("alive");
  frame = answering.Read();
  while (frame && frame->opcode == 0x9) frame = answering.Read();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->payload, "echo alive");
}

TEST_F(WebSocketTest, TicksWhileOpen) {
  Start();
  Client client(port());
  client.Handshake("graphql-transport-ws");
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (handler->ticks.load() < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(handler->ticks.load(), 2);
}

}  // namespace
}  // namespace trainyard::server
