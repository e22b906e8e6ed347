// Hostile clients of the REST API, the progress callback and the S3-compatible endpoint, each
// against a real `trainyard server --s3-listen` (one for the whole suite). The S3 attacks are
// driven by Debian's boto3 and awscli (tests/hostile/s3_hostile_check.py) and skip, saying why,
// when those are not installed.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server_fixture.h"

namespace trainyard::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kAwsCli[] = "/usr/bin/aws";
constexpr char kPython[] = "/usr/bin/python3";

class HostileApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_ = new TempDir();
    s3_port_ = FreeLoopbackPort();
    server_ = new ServerProcess(temp_->path() / "data",
                                {"--s3-listen", "127.0.0.1:" + std::to_string(s3_port_)});
    server_->Start();
    S3Keys keys = WaitForS3Endpoint(temp_->path() / "data", Endpoint());
    key_id_ = keys.access_key_id;
    secret_ = keys.secret_access_key;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete temp_;
  }

  static std::string Endpoint() { return "http://127.0.0.1:" + std::to_string(s3_port_); }

  static std::map<std::string, std::string> ClientEnvironment() {
    return AwsClientEnvironment(temp_->path() / "home", key_id_, secret_);
  }

  // Runs one check of s3_hostile_check.py; empty when boto3 is there, else why it is not.
  static std::string Boto3Missing() {
    ProcessResult probe = RunProcess({kPython, "-c", "import boto3"});
    if (probe.exit_code == 0) return "";
    return std::string(kPython) + " cannot import boto3 (Debian's python3-boto3): " + probe.output;
  }
  static ProcessResult Boto3Check(const std::string& check) {
    return RunProcess(
        {kPython, (SourceDir() / "tests" / "hostile" / "s3_hostile_check.py").string(), check,
         Endpoint(), key_id_, secret_},
        ClientEnvironment(), std::chrono::seconds(300));
  }

  static TempDir* temp_;
  static ServerProcess* server_;
  static int s3_port_;
  static std::string key_id_, secret_;
};

TempDir* HostileApiTest::temp_ = nullptr;
ServerProcess* HostileApiTest::server_ = nullptr;
int HostileApiTest::s3_port_ = 0;
std::string HostileApiTest::key_id_, HostileApiTest::secret_;

// Finding: concurrent PUTs of one key mixed one PUT's body with another's (or no) metadata,
// for good. Every round of 6 concurrent PUTs must leave one PUT's body and its own metadata.
TEST_F(HostileApiTest, S3ConcurrentPutsKeepBodyAndMetadataTogether) {
  if (std::string missing = Boto3Missing(); !missing.empty()) GTEST_SKIP() << missing;
  ProcessResult result = Boto3Check("concurrent-puts");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("concurrent-puts: OK"), std::string::npos) << result.output;
}

// A GET racing PUTs of its key looked the object up, then opened its data: the answer could
// carry one PUT's Content-Type and metadata with the next PUT's body. Now each GET reads one
// opened version; reads pinned with If-Match / If-None-Match answer 412 / 304 as S3 does.
TEST_F(HostileApiTest, S3GetsDuringPutsSendOneVersionsHeadersAndBody) {
  if (std::string missing = Boto3Missing(); !missing.empty()) GTEST_SKIP() << missing;
  ProcessResult result = Boto3Check("gets-during-puts");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("gets-during-puts: OK"), std::string::npos) << result.output;
}

// Finding: a ranged GET in checksum mode carried the whole object's x-amz-checksum-sha256, so
// boto3 failed the read (FlexibleChecksumError) and so did awscli.
TEST_F(HostileApiTest, S3RangedGetInChecksumModeCarriesNoWholeObjectChecksum) {
  if (std::string missing = Boto3Missing(); !missing.empty()) GTEST_SKIP() << missing;
  ProcessResult result = Boto3Check("ranged-checksum");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("ranged-checksum: OK"), std::string::npos) << result.output;

  if (!fs::exists(kAwsCli)) GTEST_SKIP() << kAwsCli << " is not installed (Debian's awscli)";
  fs::path work = temp_->path() / "awscli-range";
  fs::create_directories(work);
  { std::ofstream(work / "object.txt") << "0123456789abcdefghij"; }
  std::vector<std::string> base = {kAwsCli, "--endpoint-url", Endpoint(), "--no-cli-pager",
                                   "s3api"};
  auto aws = [&](std::vector<std::string> arguments) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return RunProcess(argv, ClientEnvironment(), std::chrono::seconds(120));
  };
  ProcessResult put = aws({"put-object", "--bucket", "hostile", "--key", "cli/object.txt", "--body",
                           (work / "object.txt").string()});
  ASSERT_EQ(put.exit_code, 0) << put.output;
  ProcessResult ranged =
      aws({"get-object", "--bucket", "hostile", "--key", "cli/object.txt", "--range", "bytes=2-5",
           "--checksum-mode", "ENABLED", (work / "range.txt").string()});
  ASSERT_EQ(ranged.exit_code, 0) << ranged.output;
  std::ifstream range_file(work / "range.txt");
  std::string range_text((std::istreambuf_iterator<char>(range_file)), {});
  EXPECT_EQ(range_text, "2345");
}

// A running job whose wrapper reports nothing by itself (it sleeps), and the job's callback
// URL and token as its wrapper got them.
struct RunningJob {
  std::string sweep_id, name, callback_url, token;
};

RunningJob StartSleepingJob(ServerProcess& server) {
  RunningJob job;
  HttpAnswer created =
      server.Post("/api/v1/sweeps", {{"name", "sleeper"},
                                     {"trainer", {{"command", {"sh", "-c", "sleep 120"}}}},
                                     {"grid", {{"seed", {1}}}}});
  EXPECT_EQ(created.status, 201) << created.body;
  if (created.status != 201) return job;
  job.sweep_id = created.Json()["id"];
  WaitFor(
      [&] {
        json jobs = server.Get("/api/v1/jobs?sweep=" + job.sweep_id + "&status=InProgress").Json();
        if (!jobs.contains("jobs") || jobs["jobs"].empty()) return false;
        job.name = jobs["jobs"][0]["name"];
        for (const std::string& pid : JobProcesses(server.data_dir())) {
          std::ifstream in("/proc/" + pid + "/environ");
          std::string entry;
          while (std::getline(in, entry, '\0')) {
            if (entry.rfind("TRAINYARD_JOB_TOKEN=", 0) == 0) job.token = entry.substr(20);
            if (entry.rfind("TRAINYARD_CALLBACK_URL=", 0) == 0) job.callback_url = entry.substr(23);
          }
        }
        return !job.token.empty() && !job.callback_url.empty();
      },
      std::chrono::seconds(30));
  EXPECT_FALSE(job.token.empty()) << "no wrapper of " << job.name << " with a job token";
  return job;
}

HttpAnswer PostProgress(const RunningJob& job, const json& body) {
  return Call({"POST",
               job.callback_url,
               body.dump(),
               "",
               {{"Content-Type", "application/json"}},
               job.token});
}

// Findings: the progress callback stored `progress: 5.0` and `step: -3`, 30,000 metric names
// in one POST (the job's record grew to 30,001 metrics and /jobs?limit=100 to 505 KB), and log
// lines twice when a `sequence` was repeated.
TEST_F(HostileApiTest, ProgressCallbackKeepsRangesCapsNamesAndDropsRepeats) {
  RunningJob job = StartSleepingJob(*server_);
  ASSERT_FALSE(job.token.empty());

  HttpAnswer out_of_range = PostProgress(job, {{"sequence", 1}, {"progress", {{"progress", 5.0}}}});
  EXPECT_EQ(out_of_range.status, 400) << out_of_range.body;
  EXPECT_NE(out_of_range.body.find("progress.progress"), std::string::npos) << out_of_range.body;
  HttpAnswer negative_step = PostProgress(
      job, {{"sequence", 2}, {"metrics", {{{"name", "loss"}, {"value", 1}, {"step", -3}}}}});
  EXPECT_EQ(negative_step.status, 400) << negative_step.body;
  EXPECT_NE(negative_step.body.find("metrics[0].step"), std::string::npos) << negative_step.body;

  json many = json::array();
  for (int i = 0; i < 30'000; ++i) {
    many.push_back({{"name", "m" + std::to_string(i)}, {"value", i}, {"step", 1}});
  }
  HttpAnswer flood = PostProgress(job, {{"sequence", 3}, {"metrics", many}});
  EXPECT_EQ(flood.status, 204) << flood.body;
  json record = server_->Get("/api/v1/jobs/" + job.name).Json();
  EXPECT_EQ(record["metrics"].size(), 100u);
  EXPECT_LT(server_->Get("/api/v1/jobs?limit=100").body.size(), 20'000u);
  EXPECT_NE(server_->OutputSoFar().find("job=" + job.name + " dropped 29900 metric points"),
            std::string::npos);

  json lines = {{"sequence", 4},
                {"log", {{{"stream", "stdout"}, {"line", "only-once"}}}},
                {"progress", {{"progress", 0.5}, {"step", 7}}}};
  EXPECT_EQ(PostProgress(job, lines).status, 204);
  EXPECT_EQ(PostProgress(job, lines).status, 204);  // a replay: answered, stored once
  lines["sequence"] = 2;                            // an older one
  EXPECT_EQ(PostProgress(job, lines).status, 204);
  HttpAnswer log = server_->Get("/api/v1/jobs/" + job.name + "/logs");
  ASSERT_EQ(log.status, 200) << log.body;
  size_t first = log.body.find("only-once");
  EXPECT_NE(first, std::string::npos) << log.body;
  EXPECT_EQ(log.body.find("only-once", first + 1), std::string::npos) << log.body;
  EXPECT_EQ(server_->Get("/api/v1/jobs/" + job.name).Json()["progress"]["step"], 7);

  EXPECT_EQ(server_->Post("/api/v1/sweeps/" + job.sweep_id + "/stop", json::object()).status, 200);
}

// Finding: `Content-Disposition: filename="a"b.csv"`: a dataset's file name went into the
// header unquoted, so a quote in it ended the quoted string (and could add parameters).
TEST_F(HostileApiTest, DownloadNamesAreQuotedAndEncoded) {
  HttpAnswer uploaded = Call({"POST",
                              server_->url() + "/api/v1/datasets?name=quoted&kind=other&filename="
                                               "a%22b%3B%20filename%3Devil.sh%20%E2%82%AC.csv",
                              "id,label\n",
                              "",
                              {{"Content-Type", "text/csv"}},
                              server_->token()});
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  HttpAnswer content =
      server_->Get("/api/v1/datasets/" + uploaded.Json()["id"].get<std::string>() + "/content");
  ASSERT_EQ(content.status, 200) << content.body;
  EXPECT_EQ(content.headers["content-disposition"],
            "attachment; filename=\"a_b; filename=evil.sh _.csv\"; "
            "filename*=UTF-8''a%22b%3B%20filename%3Devil.sh%20%E2%82%AC.csv");
  // The CLI saves it under its exact name.
  fs::path into = temp_->path() / "downloads";
  fs::create_directories(into);
  ProcessResult downloaded = server_->Cli(
      {"dataset", "download", uploaded.Json()["id"].get<std::string>(), "-o", into.string()});
  EXPECT_EQ(downloaded.exit_code, 0) << downloaded.output;
  EXPECT_TRUE(fs::exists(into / "a\"b; filename=evil.sh €.csv")) << downloaded.output;
}

// Finding: duplicate JSON keys were accepted, the last one winning, so that two readers of one
// body could disagree on what it asks for. Refused with 400 naming the key, in every body.
TEST_F(HostileApiTest, DuplicateJsonKeysAreRefusedNamingTheKey) {
  auto post = [&](const std::string& url, const std::string& body, const std::string& token) {
    return Call({"POST", url, body, "", {{"Content-Type", "application/json"}}, token});
  };
  HttpAnswer sweep = post(server_->url() + "/api/v1/sweeps",
                          R"({"name": "twice", "trainer": {"command": ["true"]},)"
                          R"( "grid": {"lr": [1]}, "max_parallel": 1, "max_parallel": 50})",
                          server_->token());
  EXPECT_EQ(sweep.status, 400) << sweep.body;
  EXPECT_EQ(sweep.Json()["error"].value("field", ""), "max_parallel") << sweep.body;
  HttpAnswer nested = post(server_->url() + "/api/v1/sweeps",
                           R"({"name": "twice", "trainer": {"command": ["true"], "command": )"
                           R"(["rm", "-rf", "/"]}, "grid": {"lr": [1]}})",
                           server_->token());
  EXPECT_EQ(nested.status, 400) << nested.body;
  EXPECT_EQ(nested.Json()["error"].value("field", ""), "command") << nested.body;
  for (const json& existing : server_->Get("/api/v1/sweeps").Json()["sweeps"]) {
    EXPECT_NE(existing.value("name", ""), "twice") << existing.dump();
  }

  RunningJob job = StartSleepingJob(*server_);
  ASSERT_FALSE(job.token.empty());
  HttpAnswer progress =
      post(job.callback_url, R"({"sequence": 1, "progress": {"progress": 0.1, "progress": 0.9}})",
           job.token);
  EXPECT_EQ(progress.status, 400) << progress.body;
  EXPECT_EQ(progress.Json()["error"].value("field", ""), "progress") << progress.body;
  EXPECT_EQ(server_->Post("/api/v1/sweeps/" + job.sweep_id + "/stop", json::object()).status, 200);
}

// Why a server cannot be given a small file system of its own here ("" when it can): it runs
// in a user and mount namespace (unshare) over a tmpfs, so that its disk fills up for real.
std::string SmallFileSystemMissing(const fs::path& directory) {
  ProcessResult probe = RunProcess({"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                                    "mount -t tmpfs -o size=1m tmpfs \"$0\"", directory.string()});
  if (probe.exit_code == 0) return "";
  return "cannot mount a tmpfs in a user namespace (unshare --user --map-root-user --mount): " +
         probe.output;
}

// Findings, full disk: creating a sweep answered 413 (documented: 507), and an upload's error
// showed the server's absolute path. Every ENOSPC is 507 with a message that names no path
// (the path is logged).
TEST(HostileFullDiskTest, AFullDiskIs507EverywhereAndNamesNoServerPath) {
  TempDir temp;
  fs::path mount_point = temp.path() / "small-disk";
  fs::create_directories(mount_point);
  if (std::string missing = SmallFileSystemMissing(mount_point); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  const std::string token = "full-disk-token";
  int port = FreeLoopbackPort();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  // 6 MiB: the server's database and layout fit, a few datasets more do not.
  Process server({"unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                  "mount -t tmpfs -o size=6m tmpfs \"$0\" && exec \"$1\" server --data-dir "
                  "\"$0/data\" --listen 127.0.0.1:$2 --token $3",
                  mount_point.string(), (BuildDir() / "apps" / "trainyard").string(),
                  std::to_string(port), token});
  auto get = [&](const std::string& path) { return Call({"GET", url + path, "", "", {}, token}); };
  ASSERT_TRUE(
      WaitFor([&] { return get("/api/v1/datasets").status == 200; }, std::chrono::seconds(20)))
      << server.OutputSoFar();

  // Uploads of 1 MiB until the disk is full: the last one is 507, naming no path.
  HttpAnswer upload;
  for (int i = 0; i < 20; ++i) {
    upload = Call({"POST",
                   url + "/api/v1/datasets?name=fill" + std::to_string(i) + "&kind=other",
                   std::string(1 << 20, 'f'),
                   "",
                   {},
                   token});
    if (upload.status != 201) break;
  }
  EXPECT_EQ(upload.status, 507) << upload.body;
  EXPECT_EQ(upload.Json()["error"].value("code", ""), "ResourceExhausted") << upload.body;
  EXPECT_NE(upload.body.find("disk is full"), std::string::npos) << upload.body;
  EXPECT_EQ(upload.body.find(mount_point.string()), std::string::npos) << upload.body;
  EXPECT_EQ(upload.body.find("/data/"), std::string::npos) << upload.body;
  // Smaller ones fill what is left.
  for (int i = 0; i < 200; ++i) {
    HttpAnswer small =
        Call({"POST",
              url + "/api/v1/datasets?name=small" + std::to_string(i) + "&kind=other",
              std::string(16 << 10, 's'),
              "",
              {},
              token});
    if (small.status != 201) break;
  }

  // A sweep of many jobs needs room in the database: 507, not 413.
  json grid = json::array();
  for (int i = 0; i < 500; ++i) grid.push_back(std::string(200, 'a') + std::to_string(i));
  HttpAnswer sweep =
      Call({"POST",
            url + "/api/v1/sweeps",
            json{{"name", "full"}, {"trainer", {{"command", {"true"}}}}, {"grid", {{"seed", grid}}}}
                .dump(),
            "",
            {{"Content-Type", "application/json"}},
            token});
  EXPECT_EQ(sweep.status, 507) << sweep.body;
  EXPECT_NE(sweep.body.find("disk is full"), std::string::npos) << sweep.body;
  EXPECT_EQ(sweep.body.find(mount_point.string()), std::string::npos) << sweep.body;

  server.Signal(SIGTERM);
  ProcessResult ended = server.Wait(std::chrono::seconds(20));
  // The paths are in the server's log, with what they belong to.
  EXPECT_NE(ended.output.find("answered 507, the disk is full: dataset '"), std::string::npos)
      << ended.output;
}

}  // namespace
}  // namespace trainyard::testing
