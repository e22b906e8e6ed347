// `trainyard server` with data that is large, cut off or does not fit: nothing half-written is
// ever visible, and the answers say what happened.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "common/files.h"
#include "server_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::Call;
using testing::HttpAnswer;
using testing::RunProcess;
using testing::ServerProcess;

// The files under `dir` (recursively), as paths relative to it.
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, error);
       !error && it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir).string());
  }
  return files;
}

class ServerDataTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.Start(); }
  testing::TempDir temp_;
  ServerProcess server_{temp_.path() / "data"};
};

// Past 4 GiB, so no 32-bit length survives: a sparse file with a few marked bytes, up with the
// CLI and down with curl, checked by SHA-256 both ways and by a range at the very end.
TEST_F(ServerDataTest, MultiGigabyteRoundTripWithChecksum) {
  const uint64_t size = (4ull << 30) + 12345;
  fs::path file = temp_.path() / "big.bin";
  {
    std::ofstream out(file, std::ios::binary);
    for (uint64_t offset : {uint64_t{0}, uint64_t{1} << 31, uint64_t{1} << 32, size - 5}) {
      out.seekp(static_cast<std::streamoff>(offset));
      out << "mark";
    }
    out.seekp(static_cast<std::streamoff>(size - 1));
    out.put('!');
  }
  ASSERT_EQ(fs::file_size(file), size);
  // The reference checksum is computed while the upload runs (two cores, two hashes).
  testing::Process reference({"sha256sum", file.string()});

  auto upload =
      server_.Cli({"dataset", "upload", file.string(), "--kind", "pretrained", "--output", "json"});
  ASSERT_EQ(upload.exit_code, 0) << upload.output;
  json dataset = json::parse(upload.output.substr(upload.output.find('{')));
  EXPECT_EQ(dataset["size"].get<uint64_t>(), size);
  auto expected = reference.Wait(300s);
  ASSERT_EQ(expected.exit_code, 0);
  EXPECT_EQ(dataset["sha256"], expected.output.substr(0, 64));

  // Downloaded straight into a hash: another 4 GiB on disk would only measure the disk.
  std::string url =
      server_.url() + "/api/v1/datasets/" + dataset["id"].get<std::string>() + "/content";
  auto download = RunProcess({"bash", "-c",
                              "set -o pipefail; curl -fsS -H 'Authorization: Bearer " +
                                  server_.token() + "' '" + url + "' | sha256sum"},
                             {}, 300s);
  ASSERT_EQ(download.exit_code, 0) << download.output;
  EXPECT_EQ(download.output.substr(0, 64), expected.output.substr(0, 64));
  HttpAnswer tail =
      Call({"GET",
            server_.url() + "/api/v1/datasets/" + dataset["id"].get<std::string>() + "/content",
            "",
            "",
            {{"Range", "bytes=-6"}},
            server_.token()});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, std::string(1, '\0') + "mark!");
}

// A client that stops half-way through its upload leaves no dataset and no object behind.
TEST_F(ServerDataTest, AnUploadCutOffHalfWayLeavesNothing) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(std::stoi(server_.url().substr(17))));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::string request =
      "POST /api/v1/datasets?name=cut.bin&kind=training HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      server_.token() + "\r\nContent-Length: 10000000\r\n\r\n" + std::string(3'000'000, 'x');
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  close(fd);
  // The server notices the end of the connection, drops the partial object, creates nothing.
  fs::path objects = server_.data_dir() / "objects";
  ASSERT_TRUE(testing::WaitFor([&] { return FilesUnder(objects).empty(); }, 10s))
      << "left behind: " << FilesUnder(objects).front();
  EXPECT_EQ(server_.Get("/api/v1/datasets").Json()["datasets"].size(), 0u);
  EXPECT_TRUE(FilesUnder(server_.data_dir() / "uploads").empty());
}

TEST_F(ServerDataTest, MetricsCountJobsAndRequests) {
  HttpAnswer metrics = Call({"GET", server_.url() + "/metrics"});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("trainyard_jobs{status=\"Queued\"} 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("trainyard_queue_length 0"), std::string::npos);
  server_.Get("/api/v1/jobs/missing");
  // A request is counted once its answer has been sent: the client may ask before that.
  const std::string counted =
      "trainyard_http_requests_total{route=\"GET /api/v1/jobs/{name}\",status=\"404\"} 1";
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        metrics = Call({"GET", server_.url() + "/metrics"});
        return metrics.body.find(counted) != std::string::npos;
      },
      std::chrono::seconds(5)))
      << metrics.body;
}

// A Put cut short by a kill leaves its temp file in the store; the next start removes it at once,
// however young (the server alone uses its data dir).
TEST_F(ServerDataTest, TheNextStartRemovesWhatAKilledPutLeft) {
  server_.Kill9();
  fs::path leftover = temp_.path() / "data" / "objects" / "tmp" / "put-killed";
  ASSERT_TRUE(fs::is_directory(leftover.parent_path()));
  std::ofstream(leftover) << std::string(1 << 20, 'x');
  server_.Start();
  EXPECT_FALSE(fs::exists(leftover));
}

// One server per data dir: a second one on the same dir would run the same jobs again. It is
// refused at start, naming the dir, while the first goes on serving.
TEST_F(ServerDataTest, ASecondServerOnTheSameDataDirIsRefused) {
  fs::path data = temp_.path() / "data";
  auto second =
      RunProcess({(testing::BuildDir() / "apps" / "trainyard").string(), "server", "--data-dir",
                  data.string(), "--listen", "127.0.0.1:0", "--token", "second-server-token"},
                 {}, 20s);
  EXPECT_NE(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("another trainyard server is using the data dir '" +
                               fs::absolute(data).string() + "'"),
            std::string::npos)
      << second.output;
  EXPECT_EQ(server_.Get("/api/v1/datasets").status, 200);
}

// A full disk is 507 with a message that says so, and leaves no partial dataset. Needs a small
// tmpfs for the data dir, which only a process allowed to mount gets.
TEST(ServerFullDiskTest, AFullDiskIs507AndCorruptsNothing) {
  testing::TempDir temp;
  fs::path data = temp.path() / "small";
  fs::create_directories(data);
  if (mount("tmpfs", data.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a 4 MiB tmpfs here (" << std::strerror(errno)
                 << "); the full-disk test needs CAP_SYS_ADMIN";
  }
  {
    ServerProcess server(data);
    server.Start();
    fs::path file = temp.path() / "big.bin";
    fs::resize_file((std::ofstream(file), file), 6 << 20);
    HttpAnswer full = Call({"POST",
                            server.url() + "/api/v1/datasets?kind=training&name=big.bin",
                            "",
                            file.string(),
                            {},
                            server.token()});
    EXPECT_EQ(full.status, 507) << full.body;
    EXPECT_EQ(full.Json()["error"]["code"], "ResourceExhausted");
    EXPECT_EQ(server.Get("/api/v1/datasets").Json()["datasets"].size(), 0u);
    // Space freed, the next upload works: nothing was left half-written.
    HttpAnswer small = Call({"POST",
                             server.url() + "/api/v1/datasets?kind=training&name=s.csv",
                             "1,2\n",
                             "",
                             {},
                             server.token()});
    EXPECT_EQ(small.status, 201) << small.body;
    server.Stop();
  }
  umount(data.c_str());
}

}  // namespace
}  // namespace trainyard
