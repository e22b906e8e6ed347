#include "server/web/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_paths.h"

namespace trainyard::server {
namespace {

namespace fs = std::filesystem;

// Records what the handler answered.
class RecordedResponse : public ResponseWriter {
 public:
  void SetStatus(int value) override { status = value; }
  void SetHeader(const std::string& name, const std::string& value) override {
    headers[name] = value;
  }
  void SetContentLength(uint64_t length) override { content_length = length; }
  Status Write(std::string_view bytes) override {
    body.append(bytes);
    return Status::Ok();
  }
  EventStreamPtr DetachEventStream() override { return nullptr; }
  bool headers_sent() const override { return !body.empty(); }

  int status = 200;
  std::map<std::string, std::string> headers;
  std::optional<uint64_t> content_length;
  std::string body;
};

void WriteText(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest() : files_({temp_.path() / "web"}) {
    WriteText(temp_.path() / "web" / "index.html", "<!doctype html><title>ui</title>");
    WriteText(temp_.path() / "web" / "assets" / "index-3f2a9c.js", "console.log(1)");
    WriteText(temp_.path() / "web" / "assets" / "index-77aa01.css", "body{}");
    WriteText(temp_.path() / "web" / "favicon.svg", "<svg/>");
    WriteText(temp_.path() / "secret.txt", "outside");
  }

  RecordedResponse Get(const std::string& path, const std::string& method = "GET",
                       std::map<std::string, std::string> headers = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.target = path;
    request.headers = std::move(headers);
    RecordedResponse response;
    files_.Handle(request, response);
    return response;
  }

  testing::TempDir temp_;
  StaticFiles files_;
};

TEST_F(StaticFilesTest, RootIsIndexHtmlRevalidatedEveryTime) {
  RecordedResponse response = Get("/");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "<!doctype html><title>ui</title>");
  EXPECT_EQ(response.headers["Content-Type"], "text/html; charset=utf-8");
  EXPECT_EQ(response.headers["Cache-Control"], "no-cache");
  EXPECT_NE(response.headers["Content-Security-Policy"].find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(response.content_length, response.body.size());
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableWithTheirContentType) {
  RecordedResponse script = Get("/assets/index-3f2a9c.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.body, "console.log(1)");
  EXPECT_EQ(script.headers["Content-Type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(script.headers["Cache-Control"], "public, max-age=31536000, immutable");
  EXPECT_EQ(Get("/assets/index-77aa01.css").headers["Content-Type"], "text/css; charset=utf-8");
  RecordedResponse icon = Get("/favicon.svg");
  EXPECT_EQ(icon.headers["Content-Type"], "image/svg+xml");
  EXPECT_EQ(icon.headers["Cache-Control"], "no-cache");  // not hashed
}

TEST_F(StaticFilesTest, HeadSendsTheHeadersWithoutTheBody) {
  RecordedResponse response = Get("/assets/index-3f2a9c.js", "HEAD");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_length, 14u);
  EXPECT_TRUE(response.body.empty());
}

TEST_F(StaticFilesTest, PagesOfTheUiFallBackToIndexHtml) {
  for (const char* page : {"/sweeps/sw-1f2e", "/jobs/digits-3fa9c1-002", "/datasets"}) {
    RecordedResponse response = Get(page);
    EXPECT_EQ(response.status, 200) << page;
    EXPECT_EQ(response.body, "<!doctype html><title>ui</title>") << page;
    EXPECT_EQ(response.headers["Cache-Control"], "no-cache") << page;
  }
}

TEST_F(StaticFilesTest, MissingAssetsAre404) {
  EXPECT_EQ(Get("/assets/index-000000.js").status, 404);
  EXPECT_EQ(Get("/assets/anything").status, 404);
  EXPECT_EQ(Get("/robots.txt").status, 404);
}

TEST_F(StaticFilesTest, PathTraversalIsRefused) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/./index.html",
                           "/.hidden", "/assets\\..\\..\\secret.txt"}) {
    RecordedResponse response = Get(path);
    EXPECT_EQ(response.status, 400) << path;
    EXPECT_EQ(response.body.find("outside"), std::string::npos) << path;
  }
}

TEST_F(StaticFilesTest, SymbolicLinksOutOfTheDirectoryAreNotFollowed) {
  fs::create_symlink(temp_.path() / "secret.txt", temp_.path() / "web" / "link.txt");
  RecordedResponse response = Get("/link.txt");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body.find("outside"), std::string::npos);
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  RecordedResponse response = Get("/", "POST");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers["Allow"], "GET, HEAD");
}

TEST_F(StaticFilesTest, MatchingEtagAnswers304) {
  std::string etag = Get("/").headers["ETag"];
  ASSERT_FALSE(etag.empty());
  RecordedResponse response = Get("/", "GET", {{"if-none-match", etag}});
  EXPECT_EQ(response.status, 304);
  EXPECT_TRUE(response.body.empty());
}

TEST(StaticFilesNotBuiltTest, PagesSayTheUiWasNotBuilt) {
  testing::TempDir temp;
  StaticFiles files({temp.path() / "missing"});
  HttpRequest request;
  request.method = "GET";
  request.path = "/";
  RecordedResponse response;
  files.Handle(request, response);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers["Content-Type"], "text/html; charset=utf-8");
  EXPECT_NE(response.body.find("web UI was not built"), std::string::npos);
  EXPECT_NE(response.body.find("--web-dir"), std::string::npos);
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(ContentTypeOf("a/b/Index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("x.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeOf("x.unknown"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOf("Makefile"), "application/octet-stream");
}

}  // namespace
}  // namespace trainyard::server
