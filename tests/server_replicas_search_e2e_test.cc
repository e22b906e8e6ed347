// A search that suggests from results (bayesian) on several `trainyard server` replicas sharing
// one PostgreSQL (tests/support/postgres_fixture.h) and one object store: one replica drives it
// at a time (its lease in the store), each suggestion is written once, jobs run on every replica
// reach the driver with their results, and the search makes the suggestions it makes on one
// server; a driver killed with SIGKILL has its search taken over and completed by another.
// Skipped, saying why, where PostgreSQL is not installed.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

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

constexpr int kMaxJobs = 12;
constexpr int kMaxParallel = 4;

class ServerReplicasSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    postgres_ = testing::SharedPostgres();
    if (postgres_ == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
    database_url_ = postgres_->CreateDatabase();
    ASSERT_FALSE(database_url_.empty());
    ASSERT_TRUE(fs::create_directories(temp_.path() / "markers"));
  }

  // Replica `name` on `database` (the shared one unless given), its own data dir, the shared
  // object store.
  std::unique_ptr<ServerProcess> StartReplica(const std::string& name, int max_running,
                                              const std::string& database = "") {
    auto replica = std::make_unique<ServerProcess>(
        temp_.path() / name,
        std::vector<std::string>{"--metadata", database.empty() ? database_url_ : database,
                                 "--objects", "file://" + (temp_.path() / "objects").string(),
                                 "--replica-id", name, "--lease-seconds", "3", "--max-running",
                                 std::to_string(max_running)});
    replica->Start();
    return replica;
  }

  // A seeded bayesian search over one log-scaled range. Each job's code appends "<its model
  // dir>" to markers/<job> (which replica ran it, how often), sleeps, and reports its accuracy
  // on its log (a metric definition), best at lr = 0.01.
  json Search(const std::string& name, const std::string& seconds) const {
    const std::string markers = (temp_.path() / "markers").string();
    return {
        {"name", name},
        {"trainer",
         {{"command",
           {"sh", "-c",
            "echo \"$SM_MODEL_DIR\" >> " + markers + "/$TRAINING_JOB_NAME; sleep " + seconds +
                "; awk -v x=\"$SM_HP_LR\" 'BEGIN { d = log(x) / log(10) + 2; if (d < 0) d = -d; "
                "printf \"eval_accuracy=%.6f\\n\", 1 - d / 4 }'"}}}},
        {"metric_definitions", {{{"name", "eval_accuracy"}, {"regex", "eval_accuracy=([0-9.]+)"}}}},
        {"strategy", "bayesian"},
        {"ranges",
         {{"lr", {{"type", "continuous"}, {"min", 1e-4}, {"max", 1}, {"scaling", "logarithmic"}}}}},
        {"max_jobs", kMaxJobs},
        {"max_parallel", kMaxParallel},
        {"random_seed", 20261205},
        {"objective", {{"metric", "eval_accuracy"}, {"goal", "max"}}}};
  }

  // The sweep's jobs, by index.
  static std::vector<json> Jobs(ServerProcess& server, const std::string& sweep) {
    json page = server.Get("/api/v1/jobs?sweep=" + sweep + "&limit=100").Json();
    std::vector<json> jobs(page["jobs"].begin(), page["jobs"].end());
    std::sort(jobs.begin(), jobs.end(),
              [](const json& a, const json& b) { return a["index"] < b["index"]; });
    return jobs;
  }

  // Each job's runs: the replica (its data dir's name) of each line of its marker.
  std::map<std::string, std::vector<std::string>> Runs() const {
    std::map<std::string, std::vector<std::string>> runs;
    for (const fs::directory_entry& entry : fs::directory_iterator(temp_.path() / "markers")) {
      std::ifstream file(entry.path());
      for (std::string model_dir; std::getline(file, model_dir);) {
        fs::path relative = fs::path(model_dir).lexically_relative(temp_.path());
        runs[entry.path().filename().string()].push_back(relative.begin()->string());
      }
    }
    return runs;
  }

  // Exactly max_jobs trials, numbered 0..max_jobs-1 once each, no parameter set twice.
  static void ExpectTrialsOnce(const std::vector<json>& jobs) {
    ASSERT_EQ(jobs.size(), static_cast<size_t>(kMaxJobs));
    std::set<std::string> values;
    for (int i = 0; i < kMaxJobs; ++i) {
      EXPECT_EQ(jobs[i]["index"], i) << jobs[i].dump();
      values.insert(jobs[i]["hyperparameters"]["lr"].get<std::string>());
    }
    EXPECT_EQ(values.size(), static_cast<size_t>(kMaxJobs)) << "a parameter set was run twice";
  }

  testing::PostgresServer* postgres_ = nullptr;
  testing::TempDir temp_;
  std::string database_url_;
};

TEST_F(ServerReplicasSearchTest, TwoReplicasRunASeededSearchsTrialsOnceAsOneServerSuggestsThem) {
  // The same search on one server, on a database of its own: what the seed suggests.
  std::vector<json> alone;
  {
    auto solo = StartReplica("solo", 4, postgres_->CreateDatabase());
    HttpAnswer created = solo->Post("/api/v1/sweeps", Search("alone", "0.2"));
    ASSERT_EQ(created.status, 201) << created.body;
    json ended = solo->WaitForSweepEnd(created.Json()["id"], kMaxJobs, 120s);
    ASSERT_EQ(ended["counts"].value("Completed", 0), kMaxJobs) << ended.dump();
    alone = Jobs(*solo, created.Json()["id"]);
    ExpectTrialsOnce(alone);
  }
  fs::remove_all(temp_.path() / "markers");
  fs::create_directories(temp_.path() / "markers");

  auto a = StartReplica("a", 4);
  auto b = StartReplica("b", 4);
  HttpAnswer created = a->Post("/api/v1/sweeps", Search("shared", "0.2"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  json ended = b->WaitForSweepEnd(sweep, kMaxJobs, 120s);
  EXPECT_EQ(ended["counts"].value("Completed", 0), kMaxJobs) << ended.dump();
  std::vector<json> jobs = Jobs(*b, sweep);
  ExpectTrialsOnce(jobs);

  // Every job's code ran once. Which replica ran which trial is timing: --max-running counts the
  // jobs of both, so the driver may claim all four slots each time (printed; the schedulers'
  // SearchReplicasTest has both run trials, deterministically).
  std::map<std::string, std::vector<std::string>> runs = Runs();
  EXPECT_EQ(runs.size(), static_cast<size_t>(kMaxJobs));
  std::map<std::string, int> by_replica;
  for (const auto& [job, replicas] : runs) {
    EXPECT_EQ(replicas.size(), 1u) << job << " ran " << replicas.size() << " times";
    for (const std::string& replica : replicas) by_replica[replica] += 1;
  }
  std::printf("trials run by replica a: %d, b: %d\n", by_replica["a"], by_replica["b"]);
  EXPECT_EQ(by_replica["a"] + by_replica["b"], kMaxJobs);
  // Every result reached the driver: each trial has its objective.
  for (const json& job : jobs) {
    EXPECT_TRUE(job["metrics"].contains("eval_accuracy")) << job.dump();
  }
  // The same suggestions as on one server. A bayesian search's first 10 are drawn from the
  // seed and the trial number alone; later ones from the results that had arrived when a slot
  // freed, which depends on the jobs' timing, on one server as on two: those are compared
  // where the set of results they followed is the same (printed).
  for (int i = 0; i < std::min(kMaxJobs, 10); ++i) {
    EXPECT_EQ(jobs[i]["hyperparameters"], alone[i]["hyperparameters"]) << "trial " << i;
  }
  for (int i = 10; i < kMaxJobs; ++i) {
    std::printf("trial %d: lr %s on two replicas, %s on one server\n", i,
                jobs[i]["hyperparameters"]["lr"].get<std::string>().c_str(),
                alone[i]["hyperparameters"]["lr"].get<std::string>().c_str());
  }
  // The replica that created the search drove it; the other never took it over.
  EXPECT_EQ(b->OutputSoFar().find("search taken over"), std::string::npos) << b->OutputSoFar();
}

TEST_F(ServerReplicasSearchTest, ASearchWhoseDrivingReplicaIsKilledCompletesOnAnother) {
  auto a = StartReplica("a", 4);
  auto b = StartReplica("b", 4);
  HttpAnswer created = a->Post("/api/v1/sweeps", Search("survive", "1"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sweep = created.Json()["id"];
  // a drives the search; it is killed once it has suggested beyond the first jobs.
  ASSERT_TRUE(WaitFor([&] { return Jobs(*b, sweep).size() >= kMaxParallel + 2; }, 60s))
      << b->Get("/api/v1/jobs?sweep=" + sweep).body;
  const size_t at_kill = Jobs(*b, sweep).size();
  a->Kill9();
  std::printf("replica a killed with %zu of %d trials suggested\n", at_kill, kMaxJobs);
  ASSERT_LT(at_kill, static_cast<size_t>(kMaxJobs));

  json ended = b->WaitForSweepEnd(sweep, kMaxJobs, 120s);
  std::vector<json> jobs = Jobs(*b, sweep);
  ExpectTrialsOnce(jobs);
  std::map<std::string, int> statuses;
  for (const json& job : jobs) statuses[job["status"].get<std::string>()] += 1;
  EXPECT_EQ(statuses["Completed"] + statuses["Failed"], kMaxJobs) << ended.dump();
  // Only jobs whose code ran on a's machine may have failed (a's local executor is gone).
  EXPECT_LE(statuses["Failed"], kMaxParallel) << ended.dump();
  // b takes the search's lease over once a's expires: its jobs may all have ended before that
  // (b suggests the next trial whenever it records an end), the search itself not yet.
  EXPECT_TRUE(WaitFor(
      [&] {
        return b->OutputSoFar().find("sweep=" + sweep + " search taken over by owner=b") !=
               std::string::npos;
      },
      30s))
      << b->OutputSoFar();
  // No job's code ran twice, over all its attempts (a job whose code never started on a is
  // queued again as attempt 1, its executor name "<job>-r1"); every job that completed ran once.
  std::map<std::string, size_t> runs_of_job;
  for (const auto& [name, replicas] : Runs()) {
    const size_t retry = name.rfind("-r");
    const bool attempt = retry != std::string::npos && retry + 2 < name.size() &&
                         name.find_first_not_of("0123456789", retry + 2) == std::string::npos;
    runs_of_job[attempt ? name.substr(0, retry) : name] += replicas.size();
  }
  for (const auto& [job, count] : runs_of_job) EXPECT_LE(count, 1u) << job;
  for (const json& job : jobs) {
    if (job["status"] != "Completed") continue;
    EXPECT_EQ(runs_of_job[job["name"].get<std::string>()], 1u) << job.dump();
  }
}

}  // namespace
}  // namespace trainyard
