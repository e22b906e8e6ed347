// `trainyard server --metadata postgresql://...` end to end: the built binaries on a real
// PostgreSQL 15 (tests/support/postgres_fixture.h): a sweep of the example trainer completes,
// the server restarts (stopped, then killed with a job running) and still knows every job,
// metric point, log line and event. Skipped, saying why, where PostgreSQL is not installed.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "server_fixture.h"
#include "support/postgres_fixture.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::HttpAnswer;
using testing::ServerProcess;
using testing::WaitFor;

std::string Digits(const std::string& name) {
  return (testing::SourceDir() / "examples" / "data" / "digits" / name).string();
}

// Every job of the sweep with its metric points and log text, as `server` serves them.
std::map<std::string, json> SweepRecords(ServerProcess& server, const std::string& sweep_id) {
  std::map<std::string, json> records;
  HttpAnswer jobs = server.Get("/api/v1/jobs?sweep=" + sweep_id);
  EXPECT_EQ(jobs.status, 200) << jobs.body;
  json list = jobs.Json()["jobs"];  // a copy: the loop must not run over a temporary's part
  for (const json& job : list) {
    std::string name = job["name"];
    records[name] = {{"job", job},
                     {"metrics", server.Get("/api/v1/jobs/" + name + "/metrics").Json()},
                     {"log", server.Get("/api/v1/jobs/" + name + "/logs").body}};
  }
  return records;
}

class ServerOnPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PostgresServer* postgres = testing::SharedPostgres();
    if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
    database_url_ = postgres->CreateDatabase();
    ASSERT_FALSE(database_url_.empty());
    server_ = std::make_unique<ServerProcess>(
        temp_.path() / "data", std::vector<std::string>{"--metadata", database_url_});
    server_->Start();
  }

  json Sweep(const std::string& id) { return server_->Get("/api/v1/sweeps/" + id).Json(); }
  bool SweepEnded(const std::string& id) {
    json sweep = Sweep(id);
    int64_t ended = 0;
    for (const char* status : {"Completed", "Failed", "Stopped"}) {
      ended += sweep["counts"].value(status, 0);
    }
    return ended == sweep.value("job_count", -1);
  }
  std::map<std::string, json> Records(const std::string& sweep_id) {
    return SweepRecords(*server_, sweep_id);
  }

  testing::TempDir temp_;
  std::string database_url_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerOnPostgresTest, ASweepCompletesAndTheRestartedServerStillKnowsIt) {
  auto upload = [&](const std::string& path, const std::string& kind) {
    auto result = server_->Cli({"dataset", "upload", path, "--kind", kind, "--output", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    json dataset = json::parse(result.output.substr(result.output.find('{')), nullptr, false);
    return dataset.is_object() ? dataset.value("id", "") : "";
  };
  json body = {{"name", "digits"},
               {"trainer", {{"command", {"trainyard-example-trainer"}}}},
               {"channels",
                {{"training", upload(Digits("train.csv"), "training")},
                 {"evaluation", upload(Digits("eval.csv"), "evaluation")}}},
               {"hyperparameters", {{"iterations", 100}}},
               {"grid", {{"learning_rate", {0.1, 0.02}}, {"batch_size", {16, 64}}}},
               {"max_parallel", 2},
               {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  HttpAnswer created = server_->Post("/api/v1/sweeps", body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 180s)) << Sweep(sweep_id).dump();
  json sweep = Sweep(sweep_id);
  EXPECT_EQ(sweep["counts"]["Completed"], 4) << sweep.dump();
  ASSERT_TRUE(sweep["best_job"].is_object()) << sweep.dump();
  std::map<std::string, json> before = Records(sweep_id);
  ASSERT_EQ(before.size(), 4u);
  for (const auto& [name, record] : before) {
    EXPECT_FALSE(record["metrics"]["metrics"].empty()) << name;
    EXPECT_FALSE(record["log"].get<std::string>().empty()) << name;
  }
  // The records are in PostgreSQL: the data dir has no SQLite database.
  EXPECT_FALSE(fs::exists(temp_.path() / "data" / "trainyard.db"));

  server_->Stop();
  server_->Start();
  EXPECT_EQ(Sweep(sweep_id)["counts"], sweep["counts"]);
  EXPECT_EQ(Sweep(sweep_id)["best_job"], sweep["best_job"]);
  std::map<std::string, json> after = Records(sweep_id);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [name, record] : before) {
    EXPECT_EQ(after[name]["job"], record["job"]) << name;
    EXPECT_EQ(after[name]["metrics"], record["metrics"]) << name;
    EXPECT_EQ(after[name]["log"], record["log"]) << name;
  }
  // A second sweep after the restart queues behind the first and completes too.
  auto again = server_->Cli({"sweep", "create", "--name", "again", "--command", "true", "--param",
                             "n=1,2", "--wait", "--timeout", "120"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(ServerOnPostgresTest, AJobRunningWhenTheServerIsKilledCompletesAfterTheRestart) {
  HttpAnswer created = server_->Post(
      "/api/v1/sweeps", {{"name", "outlive"},
                         {"trainer", {{"command", {"sh", "-c", "sleep 3; echo outlived"}}}},
                         {"grid", {{"n", {1}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string sweep_id = created.Json()["id"];
  std::string job;
  ASSERT_TRUE(WaitFor(
      [&] {
        json jobs = server_->Get("/api/v1/jobs?sweep=" + sweep_id).Json()["jobs"];
        if (jobs.size() != 1 || jobs[0]["secondary_status"] != "Training") return false;
        job = jobs[0]["name"];
        return true;
      },
      30s));
  server_->Kill9();
  server_->Start();
  ASSERT_TRUE(WaitFor([&] { return SweepEnded(sweep_id); }, 60s));
  json ended = server_->Get("/api/v1/jobs/" + job).Json();
  EXPECT_EQ(ended["status"], "Completed") << ended.dump();
  EXPECT_EQ(ended["attempt"], 0) << "the job ran once: " << ended.dump();
  HttpAnswer log = server_->Get("/api/v1/jobs/" + job + "/artifacts/log");
  EXPECT_NE(log.body.find("outlived"), std::string::npos) << log.body;
}

// `trainyard migrate`: a server's SQLite records moved into PostgreSQL, and the server started
// again on PostgreSQL serves every job, metric point, log line and event as before.
TEST(ServerMigrateTest, AnInstallationMovesFromSqliteToPostgresLosingNothing) {
  testing::PostgresServer* postgres = testing::SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
  testing::TempDir temp;
  fs::path data_dir = temp.path() / "data";
  std::string sweep_id;
  std::map<std::string, json> before;
  {
    ServerProcess on_sqlite(data_dir);
    on_sqlite.Start();
    auto upload = [&](const std::string& path, const std::string& kind) {
      auto result = on_sqlite.Cli({"dataset", "upload", path, "--kind", kind, "--output", "json"});
      EXPECT_EQ(result.exit_code, 0) << result.output;
      json dataset = json::parse(result.output.substr(result.output.find('{')), nullptr, false);
      return dataset.is_object() ? dataset.value("id", "") : "";
    };
    HttpAnswer created = on_sqlite.Post(
        "/api/v1/sweeps", {{"name", "moving"},
                           {"trainer", {{"command", {"trainyard-example-trainer"}}}},
                           {"channels",
                            {{"training", upload(Digits("train.csv"), "training")},
                             {"evaluation", upload(Digits("eval.csv"), "evaluation")}}},
                           {"hyperparameters", {{"iterations", 50}}},
                           {"grid", {{"learning_rate", {0.1, 0.02}}}}});
    ASSERT_EQ(created.status, 201) << created.body;
    sweep_id = created.Json()["id"];
    ASSERT_TRUE(WaitFor(
        [&] {
          json sweep = on_sqlite.Get("/api/v1/sweeps/" + sweep_id).Json();
          return sweep["counts"].value("Completed", 0) == 2;
        },
        120s));
    before = SweepRecords(on_sqlite, sweep_id);
    ASSERT_EQ(before.size(), 2u);
    for (const auto& [name, record] : before) {
      EXPECT_FALSE(record["metrics"]["metrics"].empty()) << name;
    }
    on_sqlite.Stop();
  }
  std::string url = postgres->CreateDatabase();
  testing::ProcessResult migrated = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "migrate", "--from",
       "sqlite://" + (data_dir / "trainyard.db").string(), "--to", url});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  EXPECT_NE(migrated.output.find("jobs 2"), std::string::npos) << migrated.output;

  ServerProcess on_postgres(data_dir, {"--metadata", url});
  on_postgres.Start();
  std::map<std::string, json> after = SweepRecords(on_postgres, sweep_id);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [name, record] : before) {
    EXPECT_EQ(after[name]["job"], record["job"]) << name;
    EXPECT_EQ(after[name]["metrics"], record["metrics"]) << name;
    EXPECT_EQ(after[name]["log"], record["log"]) << name;
  }
  // A second migrate into the same database is refused: it holds records now.
  testing::ProcessResult again = testing::RunProcess(
      {(testing::BuildDir() / "apps" / "trainyard").string(), "migrate", "--from",
       "sqlite://" + (data_dir / "trainyard.db").string(), "--to", url});
  EXPECT_EQ(again.exit_code, 5) << again.output;
  EXPECT_NE(again.output.find("already holds records"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace trainyard
