#include "client/api_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "client/scripted_http_server.h"
#include "support/http_test_server.h"

namespace trainyard::client {
namespace {

namespace fs = std::filesystem;
using testing::ScriptedHttpServer;
using trainyard::testing::HttpTestResponse;
using trainyard::testing::HttpTestServer;
using trainyard::testing::RecordedRequest;

ApiClient ClientFor(const std::string& base_url, const std::string& token = "secret") {
  return ApiClient({base_url, token, std::chrono::milliseconds(5000)});
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "api-client-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path path_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ApiClientTest, GetSendsTheTokenAndParsesJson) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{200, R"({"datasets": [{"id": "ds-1"}]})"};
  });
  ApiClient client = ClientFor(server.url("/"));  // the trailing slash is dropped
  auto json = client.Get("/api/v1/datasets");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ((*json)["datasets"][0]["id"], "ds-1");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/api/v1/datasets");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer secret");
}

TEST(ApiClientTest, NoTokenSendsNoAuthorization) {
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{200, "{}"}; });
  ASSERT_TRUE(ClientFor(server.url(""), "").Get("/api/v1/sweeps").ok());
  EXPECT_EQ(server.requests()[0].headers.count("authorization"), 0u);
}

TEST(ApiClientTest, PostSendsJsonAndHeadersDeleteTakesAnEmptyAnswer) {
  HttpTestServer server([](const RecordedRequest& request) {
    if (request.method == "DELETE") return HttpTestResponse{204, ""};
    return HttpTestResponse{201, R"({"id": "sw-1"})"};
  });
  ApiClient client = ClientFor(server.url(""));
  auto created = client.Post("/api/v1/sweeps", {{"name", "digits"}}, {{"Idempotency-Key", "k1"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["id"], "sw-1");
  auto deleted = client.Delete("/api/v1/datasets/ds-1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(deleted->is_object() && deleted->empty());

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body), nlohmann::json({{"name", "digits"}}));
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  EXPECT_EQ(requests[0].headers["idempotency-key"], "k1");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].target, "/api/v1/datasets/ds-1");
}

TEST(ApiClientTest, ErrorJsonBecomesItsCodeAndMessage) {
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{409, R"({"error": {"code": "FailedPrecondition",)"
                                 R"( "message": "dataset 'ds-1' is in use by job 'a-001'"}})"};
  });
  auto result = ClientFor(server.url("")).Delete("/api/v1/datasets/ds-1");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(), "dataset 'ds-1' is in use by job 'a-001'");
  EXPECT_EQ(ToExitCode(result.status()), 5);
}

TEST(ApiClientTest, ErrorBodiesThatAreNotJsonFallBackOnTheHttpStatus) {
  EXPECT_EQ(StatusFromErrorResponse(401, "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromErrorResponse(413, "too big").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromErrorResponse(507, "").code(), StatusCode::kResourceExhausted);
  Status gateway = StatusFromErrorResponse(502, "<html>Bad Gateway</html>\n<body>...");
  EXPECT_EQ(gateway.code(), StatusCode::kUnavailable);
  EXPECT_EQ(gateway.message(), "the server answered HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(StatusFromErrorResponse(500, R"({"oops": 1})").code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromErrorResponse(404, R"({"error": {"code": "NotFound"}})").code(),
            StatusCode::kNotFound);
}

TEST(ApiClientTest, SuccessWithABodyThatIsNotJsonIsInternal) {
  HttpTestServer server([](const RecordedRequest&) { return HttpTestResponse{200, "hello"}; });
  auto result = ClientFor(server.url("")).Get("/api/v1/jobs");
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
}

TEST(ApiClientTest, ConnectionRefusedIsUnavailableNamingTheServer) {
  std::string url = "http://127.0.0.1:" + std::to_string(trainyard::testing::UnusedLoopbackPort());
  auto result = ClientFor(url).Get("/api/v1/jobs");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(),
            "cannot reach trainyard server at " + url + ": Connection refused");
  EXPECT_EQ(ToExitCode(result.status()), 8);
}

TEST(ApiClientTest, EscapesQueryValues) {
  EXPECT_EQ(ApiClient::Escape("my data/v1 & more"), "my%20data%2Fv1%20%26%20more");
  EXPECT_EQ(ApiClient::Escape("plain-name_1.csv"), "plain-name_1.csv");
}

TEST(ApiClientTest, UploadStreamsTheExactBytesWithContentLength) {
  TempDir dir;
  std::string content(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 random(42);
  for (char& c : content) c = static_cast<char>(random());
  fs::path file = dir.path() / "train data.csv";
  std::ofstream(file, std::ios::binary) << content;

  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{201, R"({"id": "ds-0123456789abcdef"})"};
  });
  int64_t last_done = 0, last_total = 0;
  UploadRequest request{file, "train data & more", "training", "train.csv", "", {}};
  request.progress = [&](int64_t done, int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  auto dataset = ClientFor(server.url("")).UploadDataset(request);
  ASSERT_TRUE(dataset.ok()) << dataset.status().ToString();
  EXPECT_EQ((*dataset)["id"], "ds-0123456789abcdef");
  EXPECT_EQ(last_done, static_cast<int64_t>(content.size()));
  EXPECT_EQ(last_total, static_cast<int64_t>(content.size()));

  RecordedRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target,
            "/api/v1/datasets?name=train%20data%20%26%20more&kind=training&filename=train.csv");
  EXPECT_EQ(seen.headers["content-length"], std::to_string(content.size()));
  EXPECT_EQ(seen.headers["content-type"], "application/octet-stream");
  EXPECT_EQ(seen.headers["authorization"], "Bearer secret");
  EXPECT_EQ(seen.headers.count("x-content-sha256"), 0u);
  EXPECT_EQ(seen.headers.count("transfer-encoding"), 0u);
  EXPECT_TRUE(seen.body == content);
}

TEST(ApiClientTest, UploadSendsTheChecksumWhenGivenAndReportsErrors) {
  TempDir dir;
  fs::path file = dir.path() / "x.bin";
  std::ofstream(file) << "abc";
  HttpTestServer server([](const RecordedRequest&) {
    return HttpTestResponse{
        400,
        R"({"error": {"code": "InvalidArgument", "message": "X-Content-SHA256 does not match"}})"};
  });
  UploadRequest request{file, "x", "other", "", "00ff", {}};
  auto result = ClientFor(server.url("")).UploadDataset(request);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "X-Content-SHA256 does not match");
  RecordedRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.headers["x-content-sha256"], "00ff");
  EXPECT_EQ(seen.target, "/api/v1/datasets?name=x&kind=other");
  EXPECT_EQ(seen.body, "abc");
}

TEST(ApiClientTest, UploadOfAMissingFileIsNotFound) {
  auto result = ClientFor("http://127.0.0.1:1").UploadDataset({"/no/such/file", "n", "other"});
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST(ApiClientTest, DownloadWritesTheFileNamedByTheServer) {
  TempDir dir;
  std::string content(200000, 'p');
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write(ScriptedHttpServer::Response(
        200, content, "Content-Disposition: attachment; filename=\"../preds.csv\"\r\n"));
  });
  int64_t last_done = 0, last_total = 0;
  DownloadRequest request{"/api/v1/jobs/a-001/artifacts/predictions", dir.path(), "predictions",
                          [&](int64_t done, int64_t total) {
                            last_done = done;
                            last_total = total;
                          }};
  auto written = ClientFor(server.base_url()).Download(request);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, dir.path() / "preds.csv");
  EXPECT_EQ(ReadAll(*written), content);
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"preds.csv"});
  EXPECT_EQ(last_done, 200000);
  EXPECT_EQ(last_total, 200000);
  EXPECT_EQ(server.requests().at(0).target, "/api/v1/jobs/a-001/artifacts/predictions");
  EXPECT_EQ(server.requests().at(0).headers["authorization"], "Bearer secret");
}

TEST(ApiClientTest, DownloadPrefersTheExactNameOfFilenameStar) {
  TempDir dir;
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write(ScriptedHttpServer::Response(200, "x",
                                       "Content-Disposition: attachment; filename=\"a_b _.csv\"; "
                                       "filename*=UTF-8''a%22b%20%E2%82%AC.csv\r\n"));
  });
  auto written = ClientFor(server.base_url())
                     .Download({"/api/v1/datasets/ds-1/content", dir.path(), "dataset", {}});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, dir.path() / "a\"b €.csv");
}

TEST(ApiClientTest, DownloadToAnExplicitFileReplacesItWhole) {
  TempDir dir;
  fs::path target = dir.path() / "model.tar.gz";
  std::ofstream(target) << "old";
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write(ScriptedHttpServer::Response(200, "new model"));
  });
  auto written = ClientFor(server.base_url()).Download({"/api/v1/x", target, "x", {}});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(ReadAll(target), "new model");
  EXPECT_EQ(dir.Names(), std::vector<std::string>{"model.tar.gz"});
}

TEST(ApiClientTest, ACutDownloadLeavesNoFile) {
  TempDir dir;
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
    write(std::string(50000, 'x'));  // then the connection closes
  });
  fs::path target = dir.path() / "model.tar.gz";
  auto written = ClientFor(server.base_url()).Download({"/api/v1/x", target, "x", {}});
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), StatusCode::kUnavailable) << written.status().ToString();
  EXPECT_TRUE(dir.Names().empty());
}

TEST(ApiClientTest, ADownloadErrorLeavesNoFileAndKeepsTheServersMessage) {
  TempDir dir;
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write(ScriptedHttpServer::Response(
        404, R"({"error": {"code": "NotFound", "message": "job 'a-001' has no model yet"}})"));
  });
  auto written =
      ClientFor(server.base_url()).Download({"/api/v1/x", dir.path() / "model.tar.gz", "x", {}});
  EXPECT_EQ(written.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(written.status().message(), "job 'a-001' has no model yet");
  EXPECT_TRUE(dir.Names().empty());
}

TEST(ApiClientTest, StreamEventsDeliversEventsAsTheyArrive) {
  std::string stream =
      "id: 1\r\nevent: log\r\ndata: {\"line\": \"one\"}\r\n\r\n"
      ": ping\r\n\r\n"
      "id: 2\r\nevent: log\r\ndata: {\"line\": \"two\"}\r\n\r\n"
      "id: 3\r\nevent: end\r\ndata: {}\r\n\r\n";
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
    // Arbitrary pieces with pauses, so that curl hands them over in separate writes.
    for (size_t at = 0; at < stream.size(); at += 7) {
      if (!write(stream.substr(at, 7))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<SseEvent> events;
  Status status = ClientFor(server.base_url())
                      .StreamEvents("/api/v1/jobs/a-001/logs?follow=1", [&](const SseEvent& e) {
                        events.push_back(e);
                        return true;
                      });
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].data, "{\"line\": \"two\"}");
  EXPECT_EQ(events[2].event, "end");
  RecordedRequest seen = server.requests().at(0);
  EXPECT_EQ(seen.target, "/api/v1/jobs/a-001/logs?follow=1");
  EXPECT_EQ(seen.headers["accept"], "text/event-stream");
}

TEST(ApiClientTest, StreamEventsStopsWhenTheCallbackSaysSo) {
  std::atomic<bool> peer_gone{false};
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < 500; ++i) {  // a stream that would go on for 5 s
      if (!write("data: " + std::to_string(i) + "\n\n")) {
        peer_gone = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  int seen = 0;
  auto started = std::chrono::steady_clock::now();
  Status status = ClientFor(server.base_url()).StreamEvents("/api/v1/events", [&](const SseEvent&) {
    return ++seen < 3;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(seen, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(ApiClientTest, StreamEventsReportsAnErrorAnswer) {
  ScriptedHttpServer server([&](const RecordedRequest&, const ScriptedHttpServer::Write& write) {
    write(ScriptedHttpServer::Response(
        401, R"({"error": {"code": "Unauthenticated", "message": "bad token"}})"));
  });
  Status status = ClientFor(server.base_url()).StreamEvents("/api/v1/events", [](const SseEvent&) {
    ADD_FAILURE() << "no event expected";
    return true;
  });
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(), "bad token");
}

}  // namespace
}  // namespace trainyard::client
